"""Size and length limits of recordings, seen through the API (issue 15): a file other than the one
announced, or longer than MAX_RECORDING_MINUTES, fails with its code and is not transcribed."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.bootstrap import Services
from shared.config import Settings
from tests import audio
from tests.conftest import FunctionCaller
from tests.fakes import FakeTranscriber
from tests.functions.test_recordings_http import _create, _get, _meeting, _run_jobs, _upload

pytestmark = pytest.mark.usefixtures("services")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", max_recording_minutes=1)


def _transcriber(services: Services) -> FakeTranscriber:
    assert isinstance(services.transcriber, FakeTranscriber)
    return services.transcriber


async def test_announcing_1000_bytes_and_uploading_9_mb_fails_as_size_mismatch(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id, sizeBytes=1000)).json()["id"]
    await _upload(services, meeting_id, recording_id, audio.silence(282))  # 9 MB of audio
    await _run_jobs(services)
    failed = (await _get(call, meeting_id, recording_id)).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "size_mismatch"
    assert "9024000 bytes, but 1000 were announced" in failed["error"]["detail"]
    assert _transcriber(services).calls == []


async def test_a_recording_longer_than_max_recording_minutes_fails_as_too_long(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    data = audio.wav([audio.pcm([("tone", 2.0), ("silence", 3.0)] * 15)])  # 75 s
    recording_id = (await _create(call, meeting_id, sizeBytes=len(data))).json()["id"]
    await _upload(services, meeting_id, recording_id, data)
    await _run_jobs(services)
    failed = (await _get(call, meeting_id, recording_id)).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "too_long"
    assert "MAX_RECORDING_MINUTES" in failed["error"]["detail"]
    assert _transcriber(services).calls == []
