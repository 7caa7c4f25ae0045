"""The application package: importable without Azure, nothing heavy at import time."""

import os

__version__ = "0.1.0"

# The app uses no pydantic plugins: skip their entry-point scan, which costs tens of milliseconds of
# every cold start the first time a model is built. An explicit setting still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
