"""mnist-tui: train, inspect and use a handwritten-digit classifier from a terminal menu."""

__version__ = "0.1.0"
