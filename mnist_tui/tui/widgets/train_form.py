"""The training form, derived from TrainConfig's declared fields: one widget per setting (a
Select for choices, a Checkbox for a switch, a validated Input for a number), plus the name.

:meth:`TrainForm.read` returns a validated :class:`TrainConfig` or the one sentence that says
what to fix; picking another network fills in its recipe.
"""

from __future__ import annotations

from dataclasses import Field, fields
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.validation import Integer, Number
from textual.widgets import Checkbox, Input, Label, Select

from mnist_tui.engine.archs import ARCH_INFO
from mnist_tui.engine.config import TrainConfig, recipe, recipe_key, setting
from mnist_tui.errors import MnistTuiError
from mnist_tui.tui.widgets.text_input import InOrderInput
from mnist_tui.tui.widgets.ticks import TickBox

DATASET_TITLES = {"mnist": "MNIST digits", "fashion": "Fashion-MNIST"}


def short_count(n: int) -> str:
    """24314 → '24k', 1199882 → '1.2M' (fits a compact Select)."""
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    return f"{round(n / 1000)}k" if n >= 1000 else str(n)


def form_fields() -> list[Field[Any]]:
    """The TrainConfig fields the form offers (the machine's, device and threads, come from the
    app)."""
    return [f for f in fields(TrainConfig) if setting(f).form]


def _choice_title(name: str, value: str) -> str:
    if name == "arch":
        return f"{value} · {short_count(ARCH_INFO[value].params)} params"
    if name == "dataset":
        return DATASET_TITLES.get(value, value)
    return value


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class TrainForm(Grid):
    """Every form setting of TrainConfig, and a name; ``read()`` gives a config or a sentence."""

    DEFAULT_CSS = """
    TrainForm {
        grid-size: 4;
        grid-columns: 16 1fr 16 1fr;
        grid-rows: 1;
        grid-gutter: 1 1;
        height: auto;
        padding: 1 1 0 1;
        max-width: 120;
    }
    TrainForm Label { padding: 0 0; color: $text-muted; }
    """

    def __init__(self, base: TrainConfig | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base or recipe("fast")
        self.locked = False  # resuming: the stored recipe is kept

    def compose(self) -> ComposeResult:
        for f in form_fields():
            s = setting(f)
            value = getattr(self.base, f.name)
            yield Label(s.label, id=f"label-{f.name}")
            if s.choices is not None:
                yield Select([(_choice_title(f.name, c), c) for c in s.choices], value=value,
                             allow_blank=False, compact=True, id=f.name)  # fmt: skip
            elif f.type == "bool":
                yield TickBox(s.help, value, compact=True, id=f.name)
            else:
                message = f"{s.label} must be {s.rule}."
                low = s.low if s.low is not None else None
                if f.type == "int":
                    validator: Any = Integer(int(low) if low is not None else None,
                                             int(s.high) if s.high is not None else None,
                                             message)  # fmt: skip
                else:
                    validator = Number(low, s.high, message)
                yield InOrderInput(_text(value), type="integer" if f.type == "int" else "number",
                            compact=True, id=f.name, validators=[validator],
                            tooltip=s.help)  # fmt: skip
        yield Label("Name", id="label-name")
        yield InOrderInput(placeholder="automatic", compact=True, id="name")

    def fill(self, cfg: TrainConfig) -> None:
        """Show a config's values in every field."""
        for f in form_fields():
            value = getattr(cfg, f.name)
            widget = self.query_one(f"#{f.name}")
            with self.prevent(Select.Changed):
                if isinstance(widget, Select):
                    widget.value = value
                elif isinstance(widget, Checkbox):
                    widget.value = bool(value)
                elif isinstance(widget, Input):
                    widget.value = _text(value)
        self.base = cfg

    def freeze(self, cfg: TrainConfig, name: str) -> None:
        """Resuming: show the stored config and name, and let nothing change."""
        self.fill(cfg)
        self.query_one("#name", Input).value = name
        self.locked = True
        for widget in self.query("Input, Select, Checkbox"):
            widget.disabled = True

    @on(Select.Changed, "#arch")
    def _arch_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and not self.locked:
            self.fill(recipe(event.value, self.value("dataset")))

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self, event: Select.Changed) -> None:
        """Each data set has its own recipes (Fashion's `fast` is the full-frame network)."""
        if isinstance(event.value, str) and not self.locked:
            arch = self.value("arch")  # by its recipe's name: Fashion's `fast` is `fastfull`
            self.fill(recipe(recipe_key(arch) if isinstance(arch, str) else "fast", event.value))

    def value(self, name: str) -> Any:
        """The raw value of one field's widget."""
        widget = self.query_one(f"#{name}")
        return getattr(widget, "value", None)

    @property
    def name_text(self) -> str | None:
        """The name typed (None: automatic)."""
        return self.query_one("#name", Input).value.strip() or None

    def read(self, **overrides: Any) -> TrainConfig | str:
        """A validated config (``overrides`` win: device, threads...), or one sentence; the
        field at fault gets the focus."""
        values: dict[str, Any] = {}
        for f in form_fields():
            s = setting(f)
            widget = self.query_one(f"#{f.name}")
            if isinstance(widget, Input):
                result = widget.validate(widget.value)
                text = widget.value.strip()
                if result is not None and not result.is_valid or not text:
                    widget.focus()
                    return f"{s.label} must be {s.rule}."
                try:
                    values[f.name] = int(text) if f.type == "int" else float(text)
                except ValueError:
                    widget.focus()
                    return f"{s.label} must be a number, not {text!r}."
            else:
                values[f.name] = getattr(widget, "value", None)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return TrainConfig(**{**self.base.to_dict(), **values}).validate()
        except MnistTuiError as exc:
            return str(exc)
