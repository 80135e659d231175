"""One file per menu screen; each is imported when first opened."""
