"""A text box whose editing keys take effect in the order they were typed.

Textual's Input inserts a printable character as soon as it reaches the box, but runs its own
key bindings (Ctrl+U, Ctrl+W, the arrows, Home, End, Enter...) only after the key has bubbled
up to the app and come back as an action. Typed one at a time that makes no difference; in a
burst — keys typed ahead over a slow SSH link arrive in one read, as do tmux's ``send-keys``
— the characters typed after Ctrl+U were inserted first and then deleted by it, a Left arrow
moved the cursor after the text typed behind it, and Enter could submit text typed after it.
Here a key bound by the box itself runs its action at once, in the box's own queue, so the
box ends as if the keys had been typed slowly. Keys the box does not bind (Escape, the
screen's and app's keys) bubble on as before.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class InOrderInput(Input):
    """:class:`textual.widgets.Input`, with its own bindings applied in typing order."""

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for key in event.aliases:
                bindings = self._bindings.key_to_bindings.get(key)
                if bindings:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(bindings[0].action)
                    return
        await super()._on_key(event)
