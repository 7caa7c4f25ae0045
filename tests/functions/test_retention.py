"""Retention through the reconciler's timer, on both stores: a source past RETAIN_RECORDINGS_DAYS after its
transcript is deleted and the recording says so (the player's 410), the notes stay; past RETAIN_NOTES_DAYS
the whole recording goes. After a pass, no source blob older than the limit remains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.bootstrap import Services
from shared.config import Settings
from shared.domain.recording_paths import ARTIFACTS, RECORDINGS
from tests import audio
from tests.conftest import FunctionCaller
from tests.functions.test_reconcile import _change, _reconcile
from tests.functions.test_recordings_http import (
    LAYOUT,
    _create,
    _get,
    _media,
    _meeting,
    _run_jobs,
    _transcript,
    _upload,
)

pytestmark = pytest.mark.usefixtures("services")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", retain_recordings_days=30, retain_notes_days=365)


def _retention(caplog: pytest.LogCaptureFixture) -> str:
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention:")]
    return line


async def _transcribed(call: FunctionCaller, services: Services, meeting_id: str) -> str:
    recording_id: str = (await _create(call, meeting_id)).json()["id"]
    await _upload(services, meeting_id, recording_id, audio.wav([audio.pcm(LAYOUT)]))
    await _run_jobs(services)
    return recording_id


async def _blobs(services: Services, container: str, meeting_id: str, recording_id: str) -> list[str]:
    prefix = f"{meeting_id}/{recording_id}/"
    return [b.name async for b in services.blobs.list_blobs(container, prefix=prefix)]


async def test_a_source_past_retention_is_deleted_and_the_notes_stay(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    old = await _transcribed(call, services, meeting_id)
    recent = await _transcribed(call, services, meeting_id)
    waiting = (await _create(call, meeting_id)).json()["id"]  # never transcribed: no clock runs
    written = (await _get(call, meeting_id, old)).json()
    assert written["transcriptWrittenAt"] is not None
    assert written["sourceDeletedAt"] is None
    await _reconcile(caplog)
    assert _retention(caplog) == "retention: 0 source(s) deleted, 0 recording(s) deleted"

    now = datetime.now(UTC)
    await _change(services, meeting_id, old, transcript_written_at=now - timedelta(days=30, minutes=1))
    await _change(services, meeting_id, recent, transcript_written_at=now - timedelta(days=29, hours=23))
    await _reconcile(caplog)
    assert _retention(caplog) == "retention: 1 source(s) deleted, 0 recording(s) deleted"

    assert await _blobs(services, RECORDINGS, meeting_id, old) == []
    assert await _blobs(services, RECORDINGS, meeting_id, recent) != []
    assert "transcript.json" in " ".join(await _blobs(services, ARTIFACTS, meeting_id, old))
    gone = (await _get(call, meeting_id, old)).json()
    assert gone["sourceDeletedAt"] is not None
    assert datetime.fromisoformat(gone["sourceDeletedAt"]) >= now - timedelta(seconds=1)
    media = await _media(call, meeting_id, old)
    assert media.status == 410
    assert media.headers["content-type"] == "application/problem+json"
    assert media.json()["code"] == "source_deleted"
    assert "transcript and summary stay" in media.json()["detail"]
    assert (await _media(call, meeting_id, recent)).status == 200
    assert (await _transcript(call, meeting_id, old, "txt")).status == 200

    # Idempotent: nothing more to do, and the mark keeps its first date.
    await _reconcile(caplog)
    assert _retention(caplog) == "retention: 0 source(s) deleted, 0 recording(s) deleted"
    assert (await _get(call, meeting_id, old)).json()["sourceDeletedAt"] == gone["sourceDeletedAt"]
    assert (await _get(call, meeting_id, waiting)).json()["sourceDeletedAt"] is None

    # What the issue measures: no source older than the limit remains.
    limit = datetime.now(UTC) - timedelta(days=30)
    for recording in await services.store.list_recordings(meeting_id):
        if recording.transcript_written_at is not None and recording.transcript_written_at < limit:
            assert await _blobs(services, RECORDINGS, meeting_id, recording.id) == []


async def test_a_source_the_lifecycle_rule_deleted_first_is_still_marked(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # Also what a pass that died between deleting the blobs and marking the recording leaves behind.
    meeting_id = await _meeting(call)
    recording_id = await _transcribed(call, services, meeting_id)
    await services.blobs.delete_prefix(RECORDINGS, f"{meeting_id}/{recording_id}/")
    old = datetime.now(UTC) - timedelta(days=31)
    await _change(services, meeting_id, recording_id, transcript_written_at=old)
    await _reconcile(caplog)
    assert _retention(caplog) == "retention: 1 source(s) deleted, 0 recording(s) deleted"
    assert (await _media(call, meeting_id, recording_id)).status == 410


async def test_notes_past_their_retention_go_with_the_recording(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    recording_id = await _transcribed(call, services, meeting_id)
    old = datetime.now(UTC) - timedelta(days=366)
    await _change(services, meeting_id, recording_id, transcript_written_at=old)
    await _reconcile(caplog)
    assert _retention(caplog) == "retention: 0 source(s) deleted, 1 recording(s) deleted"
    assert (await _get(call, meeting_id, recording_id)).status == 404
    for container in (RECORDINGS, ARTIFACTS):
        assert await _blobs(services, container, meeting_id, recording_id) == []


async def test_zero_keeps_for_ever(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.services.reconciler import Reconciler

    meeting_id = await _meeting(call)
    recording_id = await _transcribed(call, services, meeting_id)
    ancient = datetime.now(UTC) - timedelta(days=10_000)
    await _change(services, meeting_id, recording_id, transcript_written_at=ancient)
    keeper = Reconciler(services.store, services.blobs, services.queues, services.recordings)
    done = await keeper.run()
    assert (done.sources_deleted, done.notes_deleted) == (0, 0)
    assert await _blobs(services, RECORDINGS, meeting_id, recording_id) != []
