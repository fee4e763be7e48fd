"""City government data exchange hub."""

__version__ = "0.1.0"
