"""Datasets, one module per family (each listed in core.catalog), user files, the split and the views."""
