"""Loads the FunctionApp and indexes its functions from their own binding metadata.

Everything devhost knows about a function (trigger type, route, methods, auth level, binding names)
comes from the same metadata the Python worker sends to the Functions host, so there is no second
route table to drift out of date.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_APP = "function_app:app"
HTTP_TRIGGER = "httpTrigger"


class AppLoadError(RuntimeError):
    """The app cannot be loaded, or the worker would refuse one of its functions."""


@dataclass(frozen=True)
class FunctionEntry:
    name: str
    trigger: Mapping[str, Any]
    bindings: tuple[Mapping[str, Any], ...]
    user_function: Callable[..., Any]
    requires_context: bool
    directory: str

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def binding_name(self) -> str:
        return str(self.trigger["name"])

    @property
    def extra_bindings(self) -> tuple[Mapping[str, Any], ...]:
        """Bindings other than the trigger and `$return`: devhost does not supply these."""
        return tuple(b for b in self.bindings if b.get("name") not in (self.binding_name, "$return"))


@dataclass(frozen=True)
class AppIndex:
    functions: tuple[FunctionEntry, ...]

    def by_trigger(self, trigger_type: str) -> tuple[FunctionEntry, ...]:
        return tuple(f for f in self.functions if f.trigger_type == trigger_type)


def triggered_by(
    functions: AppIndex | Iterable[FunctionEntry], trigger_type: str
) -> tuple[FunctionEntry, ...]:
    """What a trigger runner serves: the app index's functions (or the entries given) of one trigger type."""
    entries = functions.functions if isinstance(functions, AppIndex) else tuple(functions)
    return tuple(e for e in entries if e.trigger_type == trigger_type)


def warn_unsupplied_bindings(entries: Iterable[FunctionEntry]) -> None:
    """Runners call this at start: a function with input or output bindings runs here without them."""
    for entry in entries:
        if entry.extra_bindings:
            logger.warning(
                "%s: devhost supplies only the trigger; bindings %s will be missing",
                entry.name,
                ", ".join(str(b.get("name")) for b in entry.extra_bindings),
            )


def load_app(spec: str = DEFAULT_APP, *, app_dir: Path | None = None) -> Any:
    """Imports `module:attr` with the app directory first on sys.path, as the worker does."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise AppLoadError(f"expected module:attribute, got {spec!r}")
    directory = str((app_dir or Path.cwd()).resolve())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise AppLoadError(f"module {module_name!r} has no attribute {attr!r}") from None


def _plain(value: Any) -> Any:
    """Binding metadata holds enums (methods, auth level, direction); keep their wire values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _requires_context(name: str, fn: Callable[..., Any], bindings: Mapping[str, Mapping[str, Any]]) -> bool:
    """Applies the worker's load-time checks, so a function devhost serves also loads in Azure."""
    params = dict(inspect.signature(fn).parameters)
    requires_context = "context" in params and "context" not in bindings
    if requires_context:
        params.pop("context")
        try:
            annotation = typing.get_type_hints(fn).get("context")
        except Exception:  # unresolvable hints: leave the annotation check to the worker
            annotation = None
        if annotation is not None and getattr(annotation, "__name__", None) != "Context":
            raise AppLoadError(f"{name}: the 'context' parameter must be azure.functions.Context")
    bound = {n for n in bindings if n != "$return"}
    if missing := set(params) - bound:
        raise AppLoadError(f"{name}: parameters declared in Python but not as bindings: {sorted(missing)}")
    if unused := bound - set(params):
        raise AppLoadError(f"{name}: bindings declared but not parameters in Python: {sorted(unused)}")
    return requires_context


_functions_of: dict[int, tuple[Any, list[Any]]] = {}


def functions_of(app: Any) -> list[Any]:
    """`app.get_functions()`, once per app: the library refuses to index the same app twice."""
    cached = _functions_of.get(id(app))
    if cached is None or cached[0] is not app:
        cached = (app, list(app.get_functions()))
        _functions_of[id(app)] = cached
    return cached[1]


def index_app(app: Any, *, directory: str | None = None) -> AppIndex:
    """Indexes `app.get_functions()`; the worker reports the app root as every function's directory."""
    root = directory or os.getcwd()
    entries: list[FunctionEntry] = []
    for fn in functions_of(app):
        name = str(fn.get_function_name())
        trigger = fn.get_trigger()
        if trigger is None:
            raise AppLoadError(f"{name}: function has no trigger")
        bindings = tuple(_plain(b.get_dict_repr()) for b in fn.get_bindings())
        user_function = fn.get_user_function()
        requires_context = _requires_context(name, user_function, {str(b["name"]): b for b in bindings})
        entries.append(
            FunctionEntry(
                name=name,
                trigger=_plain(trigger.get_dict_repr()),
                bindings=bindings,
                user_function=user_function,
                requires_context=requires_context,
                directory=root,
            )
        )
    return AppIndex(tuple(entries))
