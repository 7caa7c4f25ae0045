"""REDACT_PII through the pipeline: the transcript is masked as it is written, so the summarizer (and any
reader) sees the masks, never the data; off by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.bootstrap import Services
from shared.config import Settings
from shared.ports import TranscribedSegment, Transcription, TranscriptionContext
from tests.conftest import FunctionCaller
from tests.fakes import FakeTranscriber
from tests.functions.test_recordings_http import WAV, _create, _meeting, _run_jobs, _transcript, _upload

SAID = "mail jane.doe@example.com or call 415 555 2671, card 4111 1111 1111 1111"


@pytest.fixture(params=[True, False], ids=["redact", "keep"])
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return Settings(data_dir=tmp_path / "data", redact_pii=request.param)


async def test_the_summarizer_sees_only_the_masks(call: FunctionCaller, services: Services) -> None:
    transcriber = services.transcriber
    assert isinstance(transcriber, FakeTranscriber)

    async def saying(
        wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        del wav, context
        return Transcription([TranscribedSegment(0.0, 1.0, SAID)], language or "en")

    transcriber.transcribe = saying  # type: ignore[method-assign]
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    await _upload(services, meeting_id, recording_id, WAV)
    await _run_jobs(services, "transcription_job")
    await _run_jobs(services, "summary_job")
    text = (await _transcript(call, meeting_id, recording_id, "txt")).body.decode()
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    summary = (await call("get_summary", "GET", "s", route=route, params={"format": "json"})).json()
    if services.settings.redact_pii:
        assert "mail [email] or call [phone], card [card number]" in text
        assert "jane.doe" not in summary["overview"]
        assert "[email]" in summary["overview"]  # the fake summarizer quotes the first segment
    else:
        assert SAID in text
        assert "jane.doe@example.com" in summary["overview"]
