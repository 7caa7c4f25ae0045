"""bench.evidence runs and reports what it measures (a short meeting, no corpus): every goal met."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import evidence


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
    evidence.report(rows)
    printed = capsys.readouterr().out
    assert "every fabricated quote caught" in printed
    assert "FAIL" not in printed
