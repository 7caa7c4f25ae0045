"""Upload events checked against storage, and uploads nobody may make any more (issue 15).

A BlobCreated event is a hint: the handler reads the blob itself. A forged or replayed event changes
nothing; an upload through a URL that outlived its recording or its uploader's role is deleted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.bootstrap import Services
from shared.domain.recording_paths import RECORDINGS, TRANSCRIPTION_JOBS
from tests.conftest import FunctionCaller
from tests.functions.test_recordings_http import WAV, _create, _event, _get, _meeting, _run_jobs

pytestmark = pytest.mark.usefixtures("services")


def _subject(name: str) -> str:
    return f"/blobServices/default/containers/recordings/blobs/{name}"


async def _queued_jobs(services: Services) -> int:
    messages = await services.queues.receive(
        TRANSCRIPTION_JOBS, max_messages=32, visibility_timeout=timedelta(seconds=1)
    )
    for message in messages:
        await services.queues.release(TRANSCRIPTION_JOBS, message, delay=timedelta(0))
    return len(messages)


async def _failed_recording(call: FunctionCaller, services: Services) -> tuple[str, str, str, str]:
    """A recording whose upload failed: (meeting id, recording id, blob name, the failed version)."""
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    name = f"{meeting_id}/{recording_id}/source.wav"
    broken = b"not a recording".ljust(len(WAV), b" ")
    version = (await services.blobs.put(RECORDINGS, name, broken, content_type="audio/wav")).etag.strip('"')
    await _event(_subject(name), etag=version)
    assert await _run_jobs(services) == 1
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "failed"
    return meeting_id, recording_id, name, version


# --- events are checked against storage (item 5) ----------------------------------------------------------


async def test_an_event_for_a_blob_that_does_not_exist_changes_nothing(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    await _event(_subject(f"{meeting_id}/{recording_id}/source.wav"), etag="0x8DD000000000001")
    await _event(_subject(f"{meeting_id}/{recording_id}/source.wav"))
    assert await _queued_jobs(services) == 0
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "awaiting_upload"


@pytest.mark.parametrize("etag", ["0x8DD0000000000FF", None], ids=["forged-version", "no-version"])
async def test_a_forged_event_does_not_restart_a_failed_recording(
    call: FunctionCaller, services: Services, etag: str | None
) -> None:
    # The file in storage is the one that failed: an event claiming otherwise must not bill it again.
    meeting_id, recording_id, name, _ = await _failed_recording(call, services)
    await _event(_subject(name), etag=etag)
    assert await _queued_jobs(services) == 0
    failed = (await _get(call, meeting_id, recording_id)).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "size_mismatch" or failed["error"]["code"].startswith("media_")


async def test_a_replayed_event_of_an_old_version_changes_nothing(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id, recording_id, name, old = await _failed_recording(call, services)
    # A new file lands; the old version's event is replayed before the new one's arrives.
    new = (await services.blobs.put(RECORDINGS, name, WAV, content_type="audio/wav")).etag.strip('"')
    await _event(_subject(name), etag=old)
    assert await _queued_jobs(services) == 0
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "failed"
    # The current version's own event starts it, recording the version storage holds.
    await _event(_subject(name), etag=new)
    assert await _queued_jobs(services) == 1
    stored = await services.store.get_recording(meeting_id, recording_id)
    assert stored is not None
    assert (stored.value.status.value, stored.value.source_etag) == ("queued", new)


# --- uploads after deletion (item 6) ----------------------------------------------------------------------


async def test_an_upload_for_a_deleted_recording_is_deleted(call: FunctionCaller, services: Services) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    assert (await call("delete_recording", "DELETE", "r", route=route)).status == 204
    # The upload URL still works for a while: the client's PUT lands after the delete.
    name = f"{meeting_id}/{recording_id}/source.wav"
    info = await services.blobs.put(RECORDINGS, name, WAV, content_type="audio/wav")
    await _event(_subject(name), etag=info.etag.strip('"'))
    assert await services.blobs.info(RECORDINGS, name) is None
    assert await _queued_jobs(services) == 0


@pytest.mark.parametrize("change", ["removed", "demoted", "cancelled"])
async def test_an_upload_by_someone_no_longer_presenter_is_deleted_and_not_started(
    call: FunctionCaller, services: Services, change: str
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id, user="pat")).json()["id"]  # pat presents
    route = {"meetingId": meeting_id, "userId": "pat"}
    if change == "removed":
        assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    elif change == "demoted":
        reply = await call("put_participant", "PUT", "p", route=route, json_body={"role": "attendee"})
        assert reply.status == 200
    else:
        reply = await call("cancel_meeting", "DELETE", "m", route={"meetingId": meeting_id})
        assert reply.status == 204
    name = f"{meeting_id}/{recording_id}/source.wav"
    info = await services.blobs.put(RECORDINGS, name, WAV, content_type="audio/wav")
    await _event(_subject(name), etag=info.etag.strip('"'))
    assert await services.blobs.info(RECORDINGS, name) is None
    assert await _queued_jobs(services) == 0
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "awaiting_upload"


async def test_a_taken_upload_is_kept_when_its_uploader_later_leaves(
    call: FunctionCaller, services: Services
) -> None:
    # Removing the presenter afterwards does not make a redelivered event delete the file in use.
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id, user="pat")).json()["id"]
    name = f"{meeting_id}/{recording_id}/source.wav"
    info = await services.blobs.put(RECORDINGS, name, WAV, content_type="audio/wav")
    await _event(_subject(name), etag=info.etag.strip('"'))
    route = {"meetingId": meeting_id, "userId": "pat"}
    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    await _event(_subject(name), etag=info.etag.strip('"'))
    assert await services.blobs.info(RECORDINGS, name) is not None
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "queued"
