"""bench.web_bundle: which files of a Vite build the first page loads, and which load lazily."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from bench.web_bundle import GZIP_LEVEL, BenchError, main, measure


def build(dist: Path, files: dict[str, str], index: str) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(index, encoding="utf-8")
    for name, text in files.items():
        (dist / name).write_text(text, encoding="utf-8")


INDEX = """<!doctype html><html><head>
<script type="module" crossorigin src="/assets/index-a1.js"></script>
<link rel="modulepreload" crossorigin href="/assets/react-b2.js">
<link rel="stylesheet" crossorigin href="/assets/index-c3.css">
</head><body><div id="root"></div></body></html>"""


def test_the_first_page_is_the_entry_its_preloads_and_their_static_imports(tmp_path: Path) -> None:
    build(
        tmp_path,
        {
            "assets/index-a1.js": 'import{r as a}from"./react-b2.js";import"./fluent-d4.js";'
            'const C=()=>import("./CallPage-e5.js"),R=()=>p(()=>import(`./RecordingPage-f6.js`),[]);a(C,R);',
            "assets/react-b2.js": 'export*from"./shared-g7.js";export const r=1;',
            "assets/fluent-d4.js": "x".join("fluent" for _ in range(200)),
            "assets/shared-g7.js": "export const s=2;",
            "assets/CallPage-e5.js": 'import{s}from"./shared-g7.js";import"./acs-h8.js";export default s;',
            "assets/acs-h8.js": "".join(f"acs{i};" for i in range(5000)),
            "assets/RecordingPage-f6.js": 'import{r}from"./react-b2.js";'
            'const D=()=>import("./Dialog-i9.js");',
            "assets/Dialog-i9.js": "export default 1;",
            "assets/unused-j0.js": "never referenced",
        },
        INDEX,
    )

    bundle = measure(tmp_path)

    assert [c.path for c in bundle.initial] == [
        "assets/index-a1.js",
        "assets/react-b2.js",
        "assets/shared-g7.js",
        "assets/fluent-d4.js",
    ]
    source = (tmp_path / "assets/fluent-d4.js").read_bytes()
    fluent = next(c for c in bundle.initial if c.path == "assets/fluent-d4.js")
    assert fluent.raw == len(source)
    assert fluent.gzipped == len(gzip.compress(source, GZIP_LEVEL, mtime=0))
    # Lazy chunks leave out what the first page loaded already; a lazy chunk's own lazy import counts too.
    assert {entry: [c.path for c in chunks] for entry, chunks in bundle.lazy.items()} == {
        "assets/CallPage-e5.js": ["assets/CallPage-e5.js", "assets/acs-h8.js"],
        "assets/RecordingPage-f6.js": ["assets/RecordingPage-f6.js"],
        "assets/Dialog-i9.js": ["assets/Dialog-i9.js"],
    }
    largest = bundle.largest_lazy()
    assert largest is not None
    assert largest[0] == "assets/CallPage-e5.js"


def test_report_prints_the_initial_size_against_the_goal_and_the_largest_lazy_chunk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(
        tmp_path,
        {
            "assets/index-a1.js": 'import"./react-b2.js";import("./CallPage-e5.js");',
            "assets/react-b2.js": "export const r=1;",
            "assets/CallPage-e5.js": "export default 1;",
        },
        INDEX,
    )

    assert main(["--dist", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "first page, initial JS" in out
    assert "goal: at most 250 KB   PASS" in out
    assert "largest lazy chunk" in out
    assert "CallPage-e5.js and 0 files it imports" in out


def test_a_first_page_over_the_goal_fails_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noise = random.Random(1).randbytes(200_000)  # hex of random bytes gzips to about half: 200 KB
    build(tmp_path, {"assets/index-a1.js": "", "assets/react-b2.js": "export const r=1;"}, INDEX)
    (tmp_path / "assets/index-a1.js").write_text(noise.hex(), encoding="utf-8")
    (tmp_path / "assets/react-b2.js").write_text(random.Random(2).randbytes(100_000).hex(), encoding="utf-8")

    assert main(["--dist", str(tmp_path)]) == 0

    assert "FAIL" in capsys.readouterr().out


def test_no_build_is_an_error_not_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dist", str(tmp_path / "missing")]) == 1
    assert "make web" in capsys.readouterr().err
    with pytest.raises(BenchError):
        measure(tmp_path / "missing")


def test_a_missing_imported_file_is_an_error(tmp_path: Path) -> None:
    build(tmp_path, {"assets/index-a1.js": 'import"./gone.js";', "assets/react-b2.js": ""}, INDEX)
    with pytest.raises(BenchError, match=r"gone\.js"):
        measure(tmp_path)
