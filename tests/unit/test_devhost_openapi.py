"""`python -m devhost openapi`: the document the web client's API client is generated from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devhost.openapi_command import render

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_it_is_the_served_document_with_a_stable_version() -> None:
    document = json.loads(render())
    assert document["openapi"].startswith("3.1")
    # Stable across releases, so the committed generated client changes only when the API does.
    assert document["info"]["version"] == "current"
    assert "/meetings/{meetingId}" in document["paths"]
    assert "/meetings/{meetingId}/recordings/{recordingId}/transcript" in document["paths"]


def test_it_is_deterministic_text() -> None:
    assert render() == render()


def test_the_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    done = subprocess.run(
        [sys.executable, "-m", "devhost", "openapi", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(render())


def test_the_web_clients_copy_is_current() -> None:
    # The committed copy the TypeScript client was generated from: a changed API model without
    # regenerating it fails here too, not only in `make web-check`.
    committed = (REPO_ROOT / "web" / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(render()), (
        "web/openapi.json is stale: run `.venv/bin/python -m devhost openapi --out web/openapi.json` "
        "and `cd web && npm run api:generate`, then commit both"
    )
