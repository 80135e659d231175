from mnist_tui.cli import entry

entry()
