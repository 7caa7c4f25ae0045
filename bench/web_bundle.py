"""The web client's JavaScript as a browser downloads it: the first page's, and the largest lazy page's.

It reads the built client (web/dist, `make web`), not the sources: web/dist/index.html names the entry
script (`<script type="module" src>`) and the chunks Vite preloads with it (`<link rel="modulepreload">`);
from those, every static `import ... from "./x.js"` (and `export ... from`, and a bare `import "./x.js"`) is
followed, since the browser fetches them before the first page runs. That closure is the initial
JavaScript. A dynamic `import("./x.js")` starts a lazy chunk instead: the pages loaded when first visited
(the call page with the ACS UI library, the recording page); each lazy chunk counts with the static
imports it brings that the first page did not already load.

Sizes are gzipped, each file on its own (gzip level 6, zlib's default and what servers send; devhost
gzips the client the same way), in KB of 1,000 bytes as Vite prints them. Goal: the first page's initial
JavaScript at most 250 KB. The largest lazy chunk is printed for information (the call page is expected
to be it: the ACS UI library is large). It prints; it does not gate: the exit code is 0 whether the goal
passes or fails, and non-zero only when there is no build to measure.

    python -m bench.web_bundle [--dist web/dist]
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

DESCRIPTION = "The web client's first-page JavaScript and its largest lazy chunk, gzipped."
ROOT = Path(__file__).resolve().parents[1]
KB = 1000  # as Vite prints sizes
GOAL_INITIAL_KB = 250
GZIP_LEVEL = 6

# Minified ES modules: `import{a as b}from"./x.js"`, `import*as c from"./x.js"`, `import"./x.js"`,
# `export{a}from"./x.js"`. The lookbehind keeps `foo.import` and identifiers ending in "import" out; a
# dynamic `import("./x.js")` has a parenthesis where these have a quote or a binding, so it never matches.
STATIC_IMPORT = re.compile(
    r"""(?<![\w$.])(?:import|export)\s*(?:[\w$*{][^;"'()]*?\bfrom\s*)?["']([^"']+\.m?js)["']"""
)
# Rolldown (Vite 8) writes a dynamic import's specifier as a template literal: import(`./x.js`).
DYNAMIC_IMPORT = re.compile(r"""(?<![\w$.])import\(\s*["'`]([^"'`$]+\.m?js)["'`]\s*\)""")


class BenchError(Exception):
    pass


class _EntryScripts(HTMLParser):
    """The module scripts and modulepreload links of index.html, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.preloads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "module" and attributes.get("src"):
            self.scripts.append(str(attributes["src"]))
        elif tag == "link" and attributes.get("rel") == "modulepreload" and attributes.get("href"):
            self.preloads.append(str(attributes["href"]))


@dataclass(frozen=True)
class Chunk:
    path: str  # relative to dist, POSIX
    raw: int
    gzipped: int


@dataclass(frozen=True)
class Bundle:
    initial: list[Chunk]
    lazy: dict[str, list[Chunk]]  # lazy entry -> it and the static imports the first page did not load

    @property
    def initial_gzipped(self) -> int:
        return sum(chunk.gzipped for chunk in self.initial)

    def largest_lazy(self) -> tuple[str, list[Chunk]] | None:
        if not self.lazy:
            return None
        return max(self.lazy.items(), key=lambda item: sum(chunk.gzipped for chunk in item[1]))


def _local(reference: str, base: PurePosixPath) -> str | None:
    """A script reference as a path inside dist, or None for another origin."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", reference) or reference.startswith("//"):
        return None
    reference = reference.split("?", 1)[0].split("#", 1)[0]
    joined = PurePosixPath(reference.lstrip("/")) if reference.startswith("/") else base / reference
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


class Dist:
    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self._chunks: dict[str, Chunk] = {}
        self._sources: dict[str, str] = {}

    def source(self, path: str) -> str:
        if path not in self._sources:
            file = self.dist / path
            if not file.is_file():
                raise BenchError(f"{file} is referenced by the build but missing")
            self._sources[path] = file.read_text(encoding="utf-8")
        return self._sources[path]

    def chunk(self, path: str) -> Chunk:
        if path not in self._chunks:
            data = self.source(path).encode("utf-8")
            self._chunks[path] = Chunk(path, len(data), len(gzip.compress(data, GZIP_LEVEL, mtime=0)))
        return self._chunks[path]

    def _references(self, path: str, pattern: re.Pattern[str]) -> list[str]:
        base = PurePosixPath(path).parent
        found = (_local(match.group(1), base) for match in pattern.finditer(self.source(path)))
        return [reference for reference in found if reference is not None]

    def static_closure(self, roots: Iterable[str], loaded: frozenset[str] = frozenset()) -> list[str]:
        """The roots and everything they import statically, depth first, leaving out what is `loaded`."""
        seen: list[str] = []
        stack = [root for root in reversed(list(roots)) if root not in loaded]
        while stack:
            path = stack.pop()
            if path in seen:
                continue
            seen.append(path)
            stack.extend(p for p in reversed(self._references(path, STATIC_IMPORT)) if p not in loaded)
        return seen

    def dynamic_imports(self, paths: Iterable[str]) -> list[str]:
        found: list[str] = []
        for path in paths:
            found.extend(p for p in self._references(path, DYNAMIC_IMPORT) if p not in found)
        return found


def measure(dist: Path) -> Bundle:
    index = dist / "index.html"
    if not index.is_file():
        raise BenchError(f"{index} does not exist: build the web client first (make web)")
    entries = _EntryScripts()
    entries.feed(index.read_text(encoding="utf-8"))
    base = PurePosixPath(".")
    roots = [p for p in (_local(r, base) for r in entries.scripts + entries.preloads) if p is not None]
    if not entries.scripts:
        raise BenchError(f"{index} has no <script type='module' src=...>: not a Vite build")
    files = Dist(dist)
    initial = files.static_closure(roots)
    loaded = frozenset(initial)
    # Lazy chunks, and the lazy chunks they import lazily in turn (a page that loads a dialog later).
    lazy: dict[str, list[str]] = {}
    pending = files.dynamic_imports(initial)
    while pending:
        entry = pending.pop(0)
        if entry in lazy or entry in loaded:
            continue
        lazy[entry] = files.static_closure([entry], loaded)
        pending.extend(p for p in files.dynamic_imports(lazy[entry]) if p not in lazy)
    return Bundle(
        initial=[files.chunk(p) for p in initial],
        lazy={entry: [files.chunk(p) for p in closure] for entry, closure in lazy.items()},
    )


def _kb(size: int) -> str:
    return f"{size / KB:,.1f} KB"


def report(bundle: Bundle, dist: Path) -> None:
    print(f"Web client bundle ({dist}): JavaScript gzipped per file (level {GZIP_LEVEL}), KB = 1,000 bytes")
    print()
    initial = bundle.initial_gzipped
    verdict = "PASS" if initial <= GOAL_INITIAL_KB * KB else "FAIL"
    raw = sum(chunk.raw for chunk in bundle.initial)
    print(
        f"  first page, initial JS      {_kb(initial):>10}  ({len(bundle.initial)} files, {_kb(raw)} raw)"
        f"   goal: at most {GOAL_INITIAL_KB} KB   {verdict}"
    )
    largest = bundle.largest_lazy()
    if largest is None:
        print("  largest lazy chunk          none (no dynamic import in the first page's code)")
        return
    entry, chunks = largest
    print(
        f"  largest lazy chunk          {_kb(sum(c.gzipped for c in chunks)):>10}  "
        f"({PurePosixPath(entry).name} and {len(chunks) - 1} files it imports, "
        f"{_kb(sum(c.raw for c in chunks))} raw)"
    )
    for other, others in sorted(bundle.lazy.items(), key=lambda item: -sum(c.gzipped for c in item[1])):
        print(f"      lazy {PurePosixPath(other).name:<40} {_kb(sum(c.gzipped for c in others)):>10}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web_bundle", description=DESCRIPTION)
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist", help="the built client")
    args = parser.parse_args(argv)
    try:
        bundle = measure(args.dist)
    except (BenchError, OSError, UnicodeDecodeError) as error:
        print(f"web bundle bench failed: {error}", file=sys.stderr)
        return 1
    report(bundle, args.dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
