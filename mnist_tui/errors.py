"""User-facing errors: each carries one sentence saying what is wrong and what to do.

Every failure a user can cause is raised as a subclass of :class:`MnistTuiError`; the faces
print ``str(error)`` and nothing else (no traceback).
"""

from __future__ import annotations


class MnistTuiError(Exception):
    """A failure the user can fix; ``str()`` is one sentence that says how."""


class DataError(MnistTuiError):
    """The data set is missing, corrupt or of the wrong shape."""


class ImageError(MnistTuiError):
    """An image path cannot be read or is not a usable picture."""


class CheckpointError(MnistTuiError):
    """A checkpoint is missing, corrupt, hostile or of another architecture.

    ``problem`` is the sentence's "what is wrong" part alone (``"is truncated"``), so that a
    file the user named outside the store can be told about in its own words
    (``ModelStore.load``); ``remedy`` is set only where the sentence's remedy suits any file
    (upgrade mnist-tui), not only one of the store's (delete it, train it again).
    """

    def __init__(
        self, message: str, *, problem: str | None = None, remedy: str | None = None
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.remedy = remedy


class StoreError(MnistTuiError):
    """The model store cannot be read or written (permissions, disk full, name clash)."""


class ConfigError(MnistTuiError):
    """A training or command option has an invalid value."""


class DivergedError(MnistTuiError):
    """Training diverged (the loss or the weights became NaN or infinite)."""


class Cancelled(MnistTuiError):
    """Long work was cancelled by the user."""
