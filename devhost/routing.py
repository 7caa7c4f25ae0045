"""Route templates and matching the way the Functions host does it.

The host routes HTTP triggers with ASP.NET Core's attribute-routing tree: every template that matches
is tried in precedence order, and a template whose HTTP methods exclude the request is skipped rather
than answered with 405. Precedence is decided segment by segment (literal, then constrained parameter,
then parameter, then optional, then catch-all), so `items/new` beats `items/{id}` whatever the order
the functions were declared in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


class RouteTemplateError(ValueError):
    """The template is not one the host would accept (or not one devhost can honour)."""


class Rank(IntEnum):
    """Per-segment precedence; lower wins."""

    LITERAL = 1
    CONSTRAINED = 2
    PARAMETER = 3
    OPTIONAL = 4
    CONSTRAINED_CATCH_ALL = 5
    CATCH_ALL = 6


_INT32 = re.compile(r"\s*[+-]?[0-9]+\s*")
_HEX = "[0-9a-fA-F]"
_GUID_D = rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_GUID = re.compile(rf"\s*(?:{_GUID_D}|{_HEX}{{32}}|\{{{_GUID_D}\}}|\({_GUID_D}\))\s*")
_ALPHA = re.compile(r"[a-zA-Z]*")


def _is_int(value: str) -> bool:
    # int.TryParse: optional sign and surrounding white space, and the value must fit in 32 bits.
    return bool(_INT32.fullmatch(value)) and -(2**31) <= int(value) < 2**31


def _is_guid(value: str) -> bool:
    # Guid.TryParse formats D, N, B and P; the rare hexadecimal X form is left out.
    return bool(_GUID.fullmatch(value))


def _is_alpha(value: str) -> bool:
    return bool(_ALPHA.fullmatch(value))


def _is_bool(value: str) -> bool:
    return value.strip().lower() in ("true", "false")


CONSTRAINT_CHECKS: Mapping[str, Callable[[str], bool]] = {
    "int": _is_int,
    "guid": _is_guid,
    "alpha": _is_alpha,
    "bool": _is_bool,
}


@dataclass(frozen=True)
class Segment:
    """One `/`-separated piece of a template: a literal or a single parameter."""

    literal: str | None = None
    name: str = ""
    constraints: tuple[str, ...] = ()
    optional: bool = False
    catch_all: bool = False
    default: str | None = None

    @property
    def rank(self) -> Rank:
        if self.literal is not None:
            return Rank.LITERAL
        if self.catch_all:
            return Rank.CONSTRAINED_CATCH_ALL if self.constraints else Rank.CATCH_ALL
        if self.constraints:
            return Rank.CONSTRAINED
        return Rank.OPTIONAL if self.optional else Rank.PARAMETER

    @property
    def unchecked_constraints(self) -> tuple[str, ...]:
        return tuple(c for c in self.constraints if _constraint_name(c) not in CONSTRAINT_CHECKS)

    def accepts(self, value: str) -> bool:
        checks = (CONSTRAINT_CHECKS.get(_constraint_name(c)) for c in self.constraints)
        return all(check(value) for check in checks if check is not None)


def _constraint_name(constraint: str) -> str:
    return constraint.split("(", 1)[0].strip().lower()


def _split_parameter(body: str) -> tuple[str, list[str], str | None]:
    """Splits `name:c1:c2(args)=default` at top-level `:` and `=`; arguments may hold either."""
    parts: list[str] = []
    default: str | None = None
    depth = 0
    current: list[str] = []
    for index, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and char == ":":
            parts.append("".join(current))
            current = []
            continue
        elif depth == 0 and char == "=":
            default = body[index + 1 :]
            break
        current.append(char)
    parts.append("".join(current))
    return parts[0], parts[1:], default


def _parse_segment(text: str, template: str) -> Segment:
    if "{" not in text and "}" not in text:
        if not text:
            raise RouteTemplateError(f"route {template!r} has an empty segment")
        return Segment(literal=text)
    if not (text.startswith("{") and text.endswith("}")) or text.count("{") != 1:
        # ASP.NET allows `{name}.{ext}`; devhost refuses it loudly rather than match it differently.
        raise RouteTemplateError(f"route {template!r}: segment {text!r} mixes text and parameters")
    body = text[1:-1]
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    body = body.removesuffix("?")
    name, constraints, default = _split_parameter(body)
    if not name:
        raise RouteTemplateError(f"route {template!r}: parameter without a name in {text!r}")
    return Segment(
        name=name,
        constraints=tuple(constraints),
        optional=optional or default is not None,
        catch_all=catch_all,
        default=default,
    )


@dataclass(frozen=True)
class RouteTemplate:
    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> RouteTemplate:
        stripped = text.strip("/")
        segments = tuple(_parse_segment(s, text) for s in stripped.split("/")) if stripped else ()
        for position, segment in enumerate(segments):
            last = position == len(segments) - 1
            if segment.catch_all and not last:
                raise RouteTemplateError(f"route {text!r}: a catch-all parameter must be the last segment")
            if segment.optional and not segment.catch_all and not last:
                raise RouteTemplateError(f"route {text!r}: an optional parameter must be the last segment")
        names = [s.name.lower() for s in segments if s.literal is None]
        if len(names) != len(set(names)):
            raise RouteTemplateError(f"route {text!r} repeats a parameter name")
        return cls(text=stripped, segments=segments)

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.rank for segment in self.segments)

    @property
    def unchecked_constraints(self) -> tuple[str, ...]:
        return tuple(c for s in self.segments for c in s.unchecked_constraints)

    def match(self, path: Sequence[str]) -> dict[str, str] | None:
        """Route values for the decoded path segments, or None when the template does not match."""
        values: dict[str, str] = {}
        for position, segment in enumerate(self.segments):
            if segment.catch_all:
                rest = "/".join(path[position:])
                if rest:
                    if not segment.accepts(rest):
                        return None
                    values[segment.name] = rest
                elif segment.default is not None:
                    values[segment.name] = segment.default
                return values
            if position >= len(path):
                if not segment.optional:
                    return None
                if segment.default is not None:
                    values[segment.name] = segment.default
                continue
            value = path[position]
            if segment.literal is not None:
                if value.lower() != segment.literal.lower():
                    return None
            elif not value or not segment.accepts(value):
                return None
            else:
                values[segment.name] = value
        return values if len(path) <= len(self.segments) else None


def join_prefix(prefix: str, route: str) -> str:
    return "/".join(part.strip("/") for part in (prefix, route) if part.strip("/"))


_ENCODED_SLASH = re.compile(r"(%2[fF])")


def _decode_segment(raw: str) -> str:
    # Kestrel decodes the request path except `%2F`, which would otherwise change the segments.
    return "".join(p if _ENCODED_SLASH.fullmatch(p) else unquote(p) for p in _ENCODED_SLASH.split(raw))


def split_path(raw_path: str) -> list[str]:
    """The still-encoded request path as decoded segments; one trailing slash is ignored."""
    trimmed = raw_path.removeprefix("/").removesuffix("/")
    return [_decode_segment(s) for s in trimmed.split("/")] if trimmed else []


@dataclass(frozen=True)
class Route(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str] | None  # None: every method, as when a trigger declares none
    target: T

    def allows(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


@dataclass(frozen=True)
class RouteMatch(Generic[T]):
    target: T
    route_params: dict[str, str]


class Router(Generic[T]):
    def __init__(self, routes: Iterable[Route[T]]) -> None:
        # Ties in precedence fall back to the template text, as the host's route tree does.
        self.routes = sorted(routes, key=lambda r: (r.template.precedence, r.template.text.lower()))

    def resolve(self, method: str, raw_path: str) -> RouteMatch[T] | None:
        path = split_path(raw_path)
        for route in self.routes:
            if not route.allows(method):
                continue
            values = route.template.match(path)
            if values is not None:
                return RouteMatch(route.target, values)
        return None
