"""The application package: importable without Azure, nothing heavy at import time."""

__version__ = "0.1.0"
