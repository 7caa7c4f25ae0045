"""Modules imported at first use instead of at import time (the standard library's LazyLoader).

`function_app` must load fast: the request and response models pull in pydantic (~100 ms here), so the
function modules refer to `shared.schemas` through a lazy module, and the first request that validates
pays for it instead of every worker start.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, loaded when one of its attributes is first read (already imported: returned as is)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
