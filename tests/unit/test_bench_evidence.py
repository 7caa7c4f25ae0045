"""bench.evidence runs and reports what it measures (a short meeting, no corpus): every goal met, for
summary items and for questions asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import evidence
from tests.chat_server import SUBJECTS


async def test_the_evidence_bench_counts_items_and_catches_every_lie(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evidence, "GENERATED", ((5, 3, 1),))
    rows = await evidence.measure(evidence.generated() + evidence.corpus(tmp_path), 32_000)
    (row,) = rows
    assert row.offline.items > 0
    assert row.openai.items > 0
    assert row.openai.unverified == 0
    for how in evidence.LIES:
        assert row.lies[how].items == row.openai.items
        assert row.lies[how].unverified == row.lies[how].items
    asked = row.openai_asked
    assert asked.questions == row.offline_asked.questions == len(SUBJECTS)
    assert asked.answered > 0
    assert asked.good == asked.sources > 0
    assert row.offline_asked.good == row.offline_asked.sources > 0
    for how in evidence.LIES:
        assert asked.lies[how].items > 0
        assert asked.lies[how].unverified == asked.lies[how].items
    evidence.report(rows)
    printed = capsys.readouterr().out
    assert printed.count("every fabricated quote caught") == 2
    assert "FAIL" not in printed
