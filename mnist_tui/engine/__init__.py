"""The PyTorch engine: data, networks, training, the model store, evaluation and prediction.

No UI here. Importing this package is cheap: modules that need torch import it themselves, so
``from mnist_tui.engine import archs`` at start-up costs no torch import.
"""
