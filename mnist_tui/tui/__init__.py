"""The Textual face of mnist-tui. Nothing here imports torch at module level."""
