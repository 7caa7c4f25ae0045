"""Recording a call from start to transcript with the ACS adapters against the local ACS server (Call
Automation recording API, HMAC-checked): Event Grid events shaped as ACS sends them, duplicates and
failures included."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from shared import bootstrap
from shared.adapters.acs_call_recording import AcsCallRecorder
from shared.adapters.acs_common import ATTEMPTS
from shared.adapters.acs_communication import AcsCommunication
from shared.bootstrap import Services, build_services
from shared.config import Settings
from shared.domain.recording_paths import RecordingRef
from shared.ports import CommunicationUnavailable
from shared.services.jobs import Job
from tests import audio
from tests.acs_server import AcsServer
from tests.conftest import FakeContext, FunctionCaller, registered_functions
from tests.fakes import FakeSummarizer, FakeTranscriber
from tests.functions.test_recordings_http import _event, _run_jobs, _run_pipeline

LAYOUT: list[tuple[audio.Kind, float]] = [("tone", 1.0), ("silence", 2.5), ("noise", 1.0), ("silence", 0.5)]


@pytest.fixture
async def acs(settings: Settings) -> AsyncIterator[tuple[AcsServer, Services]]:
    async with AcsServer(access_key=base64.b64encode(secrets.token_bytes(32)).decode()) as server:
        services = build_services(
            settings,
            communication=AcsCommunication(
                connection_string=server.connection_string, **server.client_kwargs
            ),
            recorder=AcsCallRecorder(
                connection_string=server.connection_string, sleep=_no_wait, **server.client_kwargs
            ),
            transcriber=FakeTranscriber(),
            summarizer=FakeSummarizer(),
        )
        bootstrap.override(services)
        yield server, services
        bootstrap.override(None)
        await services.aclose()


async def _no_wait(seconds: float) -> None:
    """The adapter's backoff, without the waiting."""


async def _deliver(event: dict[str, Any]) -> None:
    """An event as Event Grid hands it to the function (the Python worker's EventGridEvent)."""
    delivered = func.EventGridEvent(
        id=event["id"],
        data=event["data"],
        topic=event["topic"],
        subject=event["subject"],
        event_type=event["eventType"],
        event_time=datetime.fromisoformat(event["eventTime"]),
        data_version=event["dataVersion"],
    )
    await registered_functions()["call_recording_ready"].get_user_function()(delivered, FakeContext("acs"))


async def _started(call: FunctionCaller, acs: AcsServer, **options: Any) -> tuple[str, str, str]:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Sync",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
    }
    meeting = (await call("create_meeting", "POST", "meetings", json_body=body)).json()
    route = {"meetingId": meeting["id"]}
    started = await call("start_call_recording", "POST", "s", route=route, json_body=options)
    assert started.status == 202, started.body
    [acs_id] = [r for r in acs.state.recordings if acs.state.recordings[r].locator[1] == meeting["roomId"]]
    return meeting["id"], started.json()["id"], acs_id


async def test_from_start_to_transcript_with_duplicate_events(
    call: FunctionCaller, acs: tuple[AcsServer, Services]
) -> None:
    server, services = acs
    meeting_id, recording_id, acs_id = await _started(call, server, format="wav")
    route = {"meetingId": meeting_id}
    assert (await call("start_call_recording", "POST", "s", route=route, json_body={})).status == 409
    assert (await call("pause_call_recording", "POST", "p", route=route)).status == 202
    assert (await call("resume_call_recording", "POST", "r", route=route)).status == 202
    assert (await call("stop_call_recording", "POST", "s", route=route)).status == 202
    assert server.state.recordings[acs_id].state == "stopped"

    server.set_recording_file(acs_id, audio.wav([audio.pcm(LAYOUT)]))
    event = server.recording_event(acs_id)
    await _deliver(event)
    await _deliver(event)  # Event Grid delivers at least once: the same event again
    assert await _run_jobs(services, "recording_fetch_job") == 2  # the second finds the file fetched
    source = f"{meeting_id}/{recording_id}/source.wav"
    await _event(f"/blobServices/default/containers/recordings/blobs/{source}")
    await _run_pipeline(services)
    got = (await call("get_recording", "GET", "g", route={**route, "recordingId": recording_id})).json()
    assert got["status"] == "completed", got
    await _deliver(event)  # late: after the transcript, it changes nothing
    again = (await call("get_recording", "GET", "g", route={**route, "recordingId": recording_id})).json()
    assert again["updatedAt"] == got["updatedAt"]


async def test_a_chunked_recording_from_acs(call: FunctionCaller, acs: tuple[AcsServer, Services]) -> None:
    server, services = acs
    meeting_id, recording_id, acs_id = await _started(call, server, format="wav")
    await call("stop_call_recording", "POST", "s", route={"meetingId": meeting_id})
    wav = audio.wav([audio.pcm(LAYOUT * 2)])
    server.set_recording_file(acs_id, wav, chunk_bytes=len(wav) // 2 + 100)  # each chunk a whole wav file
    event = server.recording_event(acs_id)
    assert len(event["data"]["recordingStorageInfo"]["recordingChunks"]) == 2
    await _deliver(event)
    await _run_jobs(services, "recording_fetch_job")
    await _run_pipeline(services)
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    assert (await call("get_recording", "GET", "g", route=route)).json()["status"] == "completed"
    transcript = (await call("get_transcript", "GET", "t", route=route)).json()
    assert len(transcript["segments"]) >= 4  # every burst of both chunks


async def test_expired_files_fail_the_recording_and_outages_are_retried(
    call: FunctionCaller, acs: tuple[AcsServer, Services]
) -> None:
    server, services = acs
    meeting_id, recording_id, acs_id = await _started(call, server)
    await call("stop_call_recording", "POST", "s", route={"meetingId": meeting_id})
    server.set_recording_file(acs_id, audio.encode(audio.pcm(LAYOUT), "mp3"))
    await _deliver(server.recording_event(acs_id))
    server.fail(ATTEMPTS, status=503)  # every one of the adapter's own attempts
    job = Job(RecordingRef(meeting_id, recording_id), message_id="m-1", dequeue_count=1)
    with pytest.raises(CommunicationUnavailable):  # the queue will deliver the job again
        await services.call_recording_fetch.run(job)
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    waiting = (await call("get_recording", "GET", "g", route=route)).json()
    assert waiting["status"] == "awaiting_upload"
    assert waiting["error"]["code"] == "retrying"

    server.expire_recording_files(acs_id)
    await services.call_recording_fetch.run(job)  # the file is gone: failed at once, no more retries
    failed = (await call("get_recording", "GET", "g", route=route)).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "recording_download_failed"
