"""Recording the meeting's call through the functions, on both stores, with ACS's recorder faked: start,
pause, resume, stop; the RecordingFileStatusUpdated event fetches the file and the pipeline takes over."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from shared.bootstrap import Services
from shared.domain.models import AcsIdentity
from shared.domain.recording_paths import RECORDINGS, RecordingRef
from shared.ports import CallRecordingNotFound, CommunicationUnavailable, StoreUnavailable
from shared.services.jobs import Job, Outcome
from tests import audio
from tests.conftest import FakeContext, FunctionCaller, registered_functions
from tests.fakes import FakeCallRecorder
from tests.functions.test_recordings_http import _event, _run_jobs, _run_pipeline

LAYOUT: audio.Layout = [("tone", 1.0), ("silence", 2.5), ("noise", 1.0), ("silence", 0.5)]
STORAGE = "https://eu-storage.asm.skype.com/v1/objects"


async def _meeting(call: FunctionCaller) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Design review",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}, {"userId": "pat", "role": "presenter"}],
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    meeting: dict[str, Any] = reply.json()
    return meeting


async def _act(call: FunctionCaller, meeting_id: str, action: str, user: str = "alice", **body: Any) -> Any:
    route = {"meetingId": meeting_id}
    if action == "start":
        return await call("start_call_recording", "POST", "r", user=user, route=route, json_body=body)
    return await call(f"{action}_call_recording", "POST", "r", user=user, route=route)


def _recorder(services: Services) -> FakeCallRecorder:
    assert isinstance(services.recorder, FakeCallRecorder)
    return services.recorder


async def _deliver(acs_id: str, chunks: list[str], metadata: str | None = None) -> None:
    """ACS's RecordingFileStatusUpdated event, as Event Grid delivers it."""
    data = {
        "recordingStorageInfo": {
            "recordingChunks": [
                {
                    "documentId": f"doc-{i}",
                    "index": i,
                    "endReason": "SessionEnded" if i == len(chunks) - 1 else "ChunkMaximumTimeExceeded",
                    "contentLocation": location,
                    "metadataLocation": metadata or f"{location}/metadata",
                    "deleteLocation": f"{STORAGE}/doc-{i}",
                }
                for i, location in enumerate(chunks)
            ]
        },
        "recordingStartTime": "2026-12-01T10:00:00Z",
        "recordingDurationMs": 5000,
        "sessionEndReason": "CallEnded",
    }
    event = func.EventGridEvent(
        id=str(uuid.uuid4()),
        data=data,
        topic="/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/CommunicationServices/z",
        subject=f"/recording/call/c-1/serverCallId/s-1/recordingId/{acs_id}",
        event_type="Microsoft.Communication.RecordingFileStatusUpdated",
        event_time=datetime.now(UTC),
        data_version="1.0",
    )
    await registered_functions()["call_recording_ready"].get_user_function()(event, FakeContext("acs"))


@pytest.mark.usefixtures("services")
async def test_start_pause_resume_stop(call: FunctionCaller, services: Services) -> None:
    meeting = await _meeting(call)
    started = await _act(call, meeting["id"], "start", user="pat")
    assert started.status == 202, started.body
    body = started.json()
    assert body["status"] == "recording"
    assert body["call"] == {
        "callKind": "room", "callId": meeting["roomId"], "content": "audio", "channels": "mixed",
        "format": "mp3", "state": "active",
    }  # fmt: skip
    assert (await _act(call, meeting["id"], "start")).status == 409  # one recording per call
    assert (await _act(call, meeting["id"], "pause")).json()["call"]["state"] == "paused"
    assert (await _act(call, meeting["id"], "pause")).status == 202  # again: nothing to do
    assert (await _act(call, meeting["id"], "resume")).json()["call"]["state"] == "active"
    stopped = (await _act(call, meeting["id"], "stop")).json()
    assert (stopped["status"], stopped["call"]["state"]) == ("awaiting_upload", "stopped")
    assert (await _act(call, meeting["id"], "stop")).status == 409  # nothing is running any more
    methods = [method for method, _ in _recorder(services).calls]
    assert methods == ["start", "pause", "resume", "stop"]


@pytest.mark.usefixtures("services")
async def test_who_may_record_and_what_acs_records(call: FunctionCaller) -> None:
    meeting = await _meeting(call)
    assert (await _act(call, meeting["id"], "start", user="bob")).status == 403
    assert (await _act(call, meeting["id"], "start", user="mallory")).status == 404
    for bad in (
        {"content": "audio", "channels": "unmixed", "format": "mp3"},
        {"content": "audio-video", "format": "wav"},
    ):
        refused = await _act(call, meeting["id"], "start", **bad)
        assert refused.status == 400
        assert "ACS records" in refused.json()["detail"]
    # Only the meeting's own call: who owns a call known by its server call id cannot be checked.
    foreign = await _act(call, meeting["id"], "start", serverCallId="someone-elses-call")
    assert foreign.status == 400
    assert foreign.json()["errors"][0]["field"] == "serverCallId"
    unmixed = await _act(call, meeting["id"], "start", channels="unmixed")
    assert unmixed.json()["call"]["format"] == "wav"
    assert unmixed.json()["call"]["callKind"] == "room"


async def test_acs_outage_on_start_leaves_a_failed_recording_and_a_503(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _meeting(call)
    _recorder(services).fail_next = [CommunicationUnavailable("throttled", retry_after=7)]
    reply = await _act(call, meeting["id"], "start")
    assert reply.status == 503
    assert reply.headers["retry-after"] == "7"
    [recording] = (await call("list_recordings", "GET", "l", route={"meetingId": meeting["id"]})).json()[
        "items"
    ]
    assert recording["status"] == "failed"
    assert recording["error"]["code"] == "recording_not_started"
    assert (await _act(call, meeting["id"], "start")).status == 202  # the failed one blocks nothing


async def _recorded(call: FunctionCaller, services: Services, **options: Any) -> tuple[str, str, str]:
    """A started and stopped call recording: (meeting id, recording id, ACS recording id)."""
    meeting = await _meeting(call)
    recording = (await _act(call, meeting["id"], "start", **options)).json()
    await _act(call, meeting["id"], "stop")
    acs_id = list(_recorder(services).recordings)[-1]
    return meeting["id"], recording["id"], acs_id


async def _get(call: FunctionCaller, meeting_id: str, recording_id: str) -> dict[str, Any]:
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    recording: dict[str, Any] = (await call("get_recording", "GET", "g", route=route)).json()
    return recording


async def test_the_delivered_file_goes_through_the_pipeline(call: FunctionCaller, services: Services) -> None:
    meeting_id, recording_id, acs_id = await _recorded(call, services, format="wav")
    _recorder(services).files[f"{STORAGE}/doc-0/content"] = audio.wav([audio.pcm(LAYOUT)])
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"])
    assert _recorder(services).calls[-1][0] == "stop"  # the event only queues the fetch: nothing downloaded
    assert await _run_jobs(services, "recording_fetch_job") == 1
    source = f"{meeting_id}/{recording_id}/source.wav"
    info = await services.blobs.info(RECORDINGS, source)
    assert info is not None
    assert info.content_type == "audio/wav"
    # Storage announces the blob; from there it is an upload like any other.
    await _event(f"/blobServices/default/containers/recordings/blobs/{source}")
    await _run_pipeline(services)
    done = await _get(call, meeting_id, recording_id)
    assert done["status"] == "completed"
    assert done["sizeBytes"] == info.size
    # The same event again, late: nothing is fetched twice.
    downloads = len(_recorder(services).calls)
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"])
    assert await _run_jobs(services, "recording_fetch_job") == 0
    assert len(_recorder(services).calls) == downloads


async def test_unmixed_channels_are_mapped_back_to_the_meetings_users(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id, recording_id, acs_id = await _recorded(call, services, channels="unmixed")
    now = datetime.now(UTC)
    for user in ("alice", "bob"):
        await services.store.create_identity(
            AcsIdentity(user_id=user, acs_user_id=f"8:acs:{user}", created_at=now)
        )
    metadata = {
        "participants": [
            {"participantId": "8:acs:bob", "channel": 1},
            {"participantId": "8:acs:alice", "channel": 0},
            {"participantId": "8:acs:a-stranger", "channel": 2},
        ]
    }
    recorder = _recorder(services)
    recorder.files[f"{STORAGE}/doc-0/content"] = audio.wav([audio.pcm(LAYOUT)] * 3)
    recorder.files[f"{STORAGE}/doc-0/metadata"] = json.dumps(metadata).encode()
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"], metadata=f"{STORAGE}/doc-0/metadata")
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"], metadata=f"{STORAGE}/doc-0/metadata")  # again
    assert await _run_jobs(services, "recording_fetch_job") == 2  # the duplicate finds the work done
    assert [m for m, _ in _recorder(services).calls].count("download") == 2  # metadata and content, once
    recording = await _get(call, meeting_id, recording_id)
    assert recording["channels"] == [{"channel": 0, "userId": "alice"}, {"channel": 1, "userId": "bob"}]


async def test_a_chunked_recording_is_queued_as_one(call: FunctionCaller, services: Services) -> None:
    meeting_id, recording_id, acs_id = await _recorded(call, services)
    mp3 = audio.encode(audio.pcm(LAYOUT), "mp3")
    recorder = _recorder(services)
    locations = [f"{STORAGE}/doc-{i}/content" for i in range(2)]
    recorder.files[locations[0]], recorder.files[locations[1]] = mp3, mp3
    await _deliver(acs_id, locations)
    await _run_jobs(services, "recording_fetch_job")
    queued = await _get(call, meeting_id, recording_id)
    assert queued["status"] == "queued"  # without waiting for a storage event of a source blob
    names = [
        b.name async for b in services.blobs.list_blobs(RECORDINGS, prefix=f"{meeting_id}/{recording_id}/")
    ]
    assert names == [
        f"{meeting_id}/{recording_id}/chunks/000.mp3",
        f"{meeting_id}/{recording_id}/chunks/001.mp3",
    ]
    await _run_pipeline(services)
    done = await _get(call, meeting_id, recording_id)
    assert done["status"] == "completed"
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    transcript = (await call("get_transcript", "GET", "t", route=route)).json()
    assert len(transcript["segments"]) == 4  # two bursts in each chunk, the second chunk's after the first
    assert transcript["segments"][2]["start"] == pytest.approx(5.0, abs=0.2)


async def test_failed_downloads_are_retried_then_fail_the_recording(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id, recording_id, acs_id = await _recorded(call, services)
    recorder = _recorder(services)
    recorder.files[f"{STORAGE}/doc-0/content"] = audio.encode(audio.pcm(LAYOUT), "mp3")
    recorder.fail_downloads = [CommunicationUnavailable("ACS storage answered 503")]
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"])
    ref = RecordingRef(meeting_id, recording_id)
    fetch = services.call_recording_fetch
    with pytest.raises(CommunicationUnavailable):  # the queue delivers the job again
        await fetch.run(Job(ref, message_id="m-1", dequeue_count=1))
    waiting = await _get(call, meeting_id, recording_id)
    assert waiting["status"] == "awaiting_upload"
    assert "503" in waiting["error"]["detail"]
    assert await fetch.run(Job(ref, message_id="m-1", dequeue_count=2)) == Outcome.DONE
    assert await services.blobs.info(RECORDINGS, f"{meeting_id}/{recording_id}/source.mp3") is not None

    meeting_id, recording_id, acs_id = await _recorded(call, services)
    recorder.fail_downloads = [CallRecordingNotFound("expired after 48 hours")]
    await _deliver(acs_id, [f"{STORAGE}/doc-0/gone"])
    await _run_jobs(services, "recording_fetch_job")  # gone for good: no retry asked for
    failed = await _get(call, meeting_id, recording_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "recording_download_failed"
    assert "no longer has" in failed["error"]["detail"]

    meeting_id, recording_id, acs_id = await _recorded(call, services)
    await _deliver(acs_id, [f"{STORAGE}/doc-0/content"])
    await services.queues.send(
        "recording-fetch-jobs-poison", json.dumps({"meetingId": meeting_id, "recordingId": recording_id})
    )
    assert await _run_jobs(services, "recording_fetch_job_poisoned") == 1  # the retries ran out
    assert (await _get(call, meeting_id, recording_id))["error"]["code"] == "recording_download_failed"


@pytest.mark.usefixtures("services")
async def test_events_for_unknown_calls_and_other_types_are_dropped(call: FunctionCaller) -> None:
    await _deliver("not-ours", [f"{STORAGE}/x/content"])  # logged and dropped, no exception
    event = func.EventGridEvent(
        id="e", data={}, topic="t", subject="/recording/call/c/serverCallId/s/recordingId/r",
        event_type="Microsoft.Communication.RecordingFileStatusUpdated", event_time=None, data_version="1.0",
    )  # fmt: skip
    await registered_functions()["call_recording_ready"].get_user_function()(event, FakeContext("acs"))


async def test_a_start_that_cannot_be_noted_stops_the_acs_recording(
    call: FunctionCaller, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = await _meeting(call)

    async def refuse(acs_recording_id: str, meeting_id: str, recording_id: str) -> None:
        raise StoreUnavailable("the database went away")

    monkeypatch.setattr(services.store, "put_call_recording_ref", refuse)
    reply = await _act(call, meeting["id"], "start")
    assert reply.status == 503
    recorder = _recorder(services)
    assert [method for method, _ in recorder.calls] == ["start", "stop"]  # not left recording unseen
    [recording] = (await call("list_recordings", "GET", "l", route={"meetingId": meeting["id"]})).json()[
        "items"
    ]
    assert recording["status"] == "failed"
    monkeypatch.undo()
    assert (await _act(call, meeting["id"], "start")).status == 202  # and it blocks nothing


async def test_deleting_a_recording_being_recorded_stops_acs_first(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _meeting(call)
    recording = (await _act(call, meeting["id"], "start")).json()
    route = {"meetingId": meeting["id"], "recordingId": recording["id"]}
    recorder = _recorder(services)
    recorder.fail_next = [CommunicationUnavailable("ACS is down")]
    assert (
        await call("delete_recording", "DELETE", "d", route=route)
    ).status == 503  # kept: ACS still records
    assert (await _get(call, meeting["id"], recording["id"]))["status"] == "recording"
    assert (await call("delete_recording", "DELETE", "d", route=route)).status == 204
    [(_, state)] = recorder.recordings.values()
    assert state == "stopped"


async def test_a_start_that_died_half_way_blocks_nothing(call: FunctionCaller, services: Services) -> None:
    meeting = await _meeting(call)
    stuck = (await _act(call, meeting["id"], "start")).json()
    stored = await services.store.get_recording(meeting["id"], stuck["id"])
    assert stored is not None
    assert stored.value.call is not None
    # As if the worker died between ACS's answer and our write of it, three minutes ago.
    call_state = stored.value.call.model_copy(update={"state": "starting", "acs_recording_id": None})
    old = stored.value.model_copy(
        update={"call": call_state, "created_at": stored.value.created_at - timedelta(minutes=3)}
    )
    await services.store.replace_recording(old, stored.etag)
    _recorder(services).recordings.clear()  # and ACS never started it
    stopped = await _act(call, meeting["id"], "stop")
    assert stopped.status == 409
    assert "never completed" in stopped.json()["detail"]
    assert (await _get(call, meeting["id"], stuck["id"]))["status"] == "failed"
    assert (await _act(call, meeting["id"], "start")).status == 202
