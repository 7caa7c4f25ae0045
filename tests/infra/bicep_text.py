"""Just enough of Bicep to check infra/ from Python: resources, their bodies as data, params, comments.

Checkov parses Bicep too, but in a venv of its own (it pins old packages), and it cannot see into
conditional resources; the project's own checks need neither. This reads the subset the project's Bicep
uses: objects, arrays, `[for ...: {...}]` loops, `if (...)` conditions, decorators and comments. A value
is the Python value for literals (strings without interpolation, numbers, booleans, null) and an
`Expr` holding the source text for anything computed, which a check compares as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


class Expr(str):
    """A value Bicep computes at deployment time (its source text): never equal to a literal."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"


@dataclass
class Resource:
    file: Path
    symbol: str
    type: str
    api_version: str
    existing: bool
    condition: str | None
    loop: str | None
    body: dict[str, Any]
    comments_above: list[str]
    line: int

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (`properties.siteConfig.minTlsVersion`), or `default`."""
        node: Any = self.body
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} ({self.symbol})"


@dataclass
class Param:
    name: str
    type: str
    default: str | None
    decorators: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> list[Any] | None:
        for decorator in self.decorators:
            if decorator.startswith("@allowed("):
                value = _Reader(decorator[len("@allowed(") : -1]).value()
                return value if isinstance(value, list) else None
        return None


@dataclass
class BicepFile:
    path: Path
    text: str
    resources: list[Resource]
    params: dict[str, Param]
    variables: dict[str, Any]

    def resources_of(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type.lower() == type_.lower()]


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def load(path: Path) -> BicepFile:
    text = path.read_text(encoding="utf-8")
    code = strip_comments(text)
    lines = text.splitlines()
    return BicepFile(path, text, _resources(path, code, lines), _params(code), _variables(code))


def load_all() -> list[BicepFile]:
    return [load(path) for path in bicep_files()]


# --- lexing ------------------------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """The text with every comment replaced by spaces (line numbers and offsets kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("'''", i):
            end = text.find("'''", i + 3)
            end = n if end < 0 else end + 3
            out.append(text[i:end])
            i = end
        elif text[i] == "'":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """Index just past the single-quoted string at `start` (escapes and `${...}` with nested strings), or
    the multi-line `'''...'''` one (no escapes, no interpolation)."""
    if text.startswith("'''", start):
        end = text.find("'''", start + 3)
        if end < 0:
            raise ValueError(f"unterminated multi-line string at offset {start}")
        return end + 3
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "'":
            return i + 1
        if text.startswith("${", i):
            i = _interpolation_end(text, i + 2)
            continue
        i += 1
    raise ValueError(f"unterminated string at offset {start}")


def _interpolation_end(text: str, i: int) -> int:
    depth = 1
    while i < len(text):
        char = text[i]
        if char == "'":
            i = _string_end(text, i)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unterminated interpolation")


def _matching(code: str, start: int) -> int:
    """Index just past the bracket that closes the one at `start` (strings skipped)."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [pairs[code[start]]]
    i = start + 1
    while i < len(code):
        char = code[i]
        if char == "'":
            i = _string_end(code, i)
            continue
        if char in pairs:
            stack.append(pairs[char])
        elif char in ")]}":
            if char != stack.pop():
                raise ValueError(f"mismatched {char!r} at offset {i}")
            if not stack:
                return i + 1
        i += 1
    raise ValueError(f"unclosed {code[start]!r} at offset {start}")


# --- values ------------------------------------------------------------------------------------------

_LITERAL_STRING = re.compile(r"'((?:[^'\\$]|\\.|\$(?!\{))*)'\Z", re.S)
_NUMBER = re.compile(r"-?\d+\Z")


class _Reader:
    """Reads one Bicep value (object, array, loop or expression) from comment-free code."""

    def __init__(self, code: str, pos: int = 0) -> None:
        self.code = code
        self.pos = pos

    def _skip(self, newlines: bool = True) -> None:
        spaces = " \t\r\n," if newlines else " \t\r"
        while self.pos < len(self.code) and self.code[self.pos] in spaces:
            self.pos += 1

    def value(self) -> Any:
        self._skip()
        char = self.code[self.pos]
        if char == "{":
            return self._object()
        if char == "[" and not re.match(r"\[\s*for\b", self.code[self.pos :]):
            return self._array()
        return self._expression()

    def _object(self) -> dict[str, Any]:
        end = _matching(self.code, self.pos) - 1
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.pos >= end:
                break
            match = re.compile(r"('(?:[^'\\]|\\.)*'|[A-Za-z_][\w]*)\s*:").match(self.code, self.pos)
            if match is None:
                raise ValueError(f"expected a key at {self.code[self.pos : self.pos + 40]!r}")
            key = match.group(1).strip("'")
            self.pos = match.end()
            result[key] = self.value()
        self.pos = end + 1
        return result

    def _array(self) -> list[Any]:
        end = _matching(self.code, self.pos) - 1
        self.pos += 1
        items: list[Any] = []
        while True:
            self._skip()
            if self.pos >= end:
                break
            items.append(self.value())
        self.pos = end + 1
        return items

    def _expression(self) -> Any:
        start = self.pos
        while self.pos < len(self.code):
            char = self.code[self.pos]
            if char == "'":
                self.pos = _string_end(self.code, self.pos)
            elif char in "([{":
                self.pos = _matching(self.code, self.pos)
            elif char in "\n,)]}":
                break
            else:
                self.pos += 1
        return _literal(self.code[start : self.pos].strip())


def _literal(text: str) -> Any:
    if len(text) >= 6 and text.startswith("'''") and text.endswith("'''"):
        return text[3:-3]
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _NUMBER.match(text):
        return int(text)
    match = _LITERAL_STRING.match(text)
    if match:
        return re.sub(r"\\(.)", r"\1", match.group(1))
    return Expr(text)


# --- declarations ------------------------------------------------------------------------------------

_RESOURCE = re.compile(
    r"^resource\s+(?P<symbol>\w+)\s+'(?P<type>[^'@]+)@(?P<api>[^']+)'\s+(?P<existing>existing\s+)?=\s*",
    re.M,
)
_VAR = re.compile(r"^var\s+(?P<name>\w+)\s*=\s*", re.M)
_PARAM = re.compile(r"^param\s+(?P<name>\w+)\s+(?P<type>\w+)(?:\s*=\s*(?P<default>.+))?$", re.M)


def _resources(path: Path, code: str, lines: list[str]) -> list[Resource]:
    found: list[Resource] = []
    for match in _RESOURCE.finditer(code):
        pos = match.end()
        condition = loop = None
        if code.startswith("if", pos):
            open_paren = code.index("(", pos)
            close = _matching(code, open_paren)
            condition = code[open_paren + 1 : close - 1].strip()
            pos = close
        while code[pos].isspace():
            pos += 1
        if code[pos] == "[":
            header = re.compile(r"\[\s*for\s+(.+?):\s*").match(code, pos)
            if header is None:
                raise ValueError(f"{path}: unreadable loop for {match.group('symbol')}")
            loop = header.group(1)
            pos = header.end()
        body = _Reader(code, pos).value()
        if not isinstance(body, dict):
            raise ValueError(f"{path}: resource {match.group('symbol')} has no object body")
        line = code.count("\n", 0, match.start()) + 1
        found.append(
            Resource(
                file=path,
                symbol=match.group("symbol"),
                type=match.group("type"),
                api_version=match.group("api"),
                existing=bool(match.group("existing")),
                condition=condition,
                loop=loop,
                body=body,
                comments_above=_comments_above(lines, line),
                line=line,
            )
        )
    return found


def _comments_above(lines: list[str], line: int) -> list[str]:
    """The `//` comment lines directly above a declaration (1-based line), top to bottom."""
    comments: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].strip().startswith("//"):
        comments.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return comments


def _params(code: str) -> dict[str, Param]:
    """The `param` declarations with their decorators (a multi-line `@allowed([...])` kept whole)."""
    params: dict[str, Param] = {}
    pending: list[str] = []
    pos = 0
    while pos < len(code):
        end = code.find("\n", pos)
        end = len(code) if end < 0 else end
        line = code[pos:end].strip()
        if line.startswith("@"):
            open_paren = code.index("(", pos)
            close = _matching(code, open_paren)
            pending.append(code[code.index("@", pos) : close])
            pos = close
            continue
        match = _PARAM.match(line)
        if match:
            params[match.group("name")] = Param(
                name=match.group("name"),
                type=match.group("type"),
                default=match.group("default").strip() if match.group("default") else None,
                decorators=pending,
            )
            pending = []
        elif line:
            pending = []
        pos = end + 1
    return params


def _variables(code: str) -> dict[str, Any]:
    return {match.group("name"): _Reader(code, match.end()).value() for match in _VAR.finditer(code)}
