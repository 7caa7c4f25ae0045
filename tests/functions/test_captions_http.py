"""Live captions on and off through the functions, with ACS's Call Automation faked: who may, what ACS is
asked, one captioning at a time, and stopping making the transcript and queueing the summary."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap
from shared.bootstrap import Services, build_services
from shared.config import Settings
from shared.domain.recording_paths import ARTIFACTS, SUMMARY_JOBS
from shared.live_captions import TranscriptionData, parse, transcription_data
from shared.services.captions import CaptionStream
from tests.conftest import FunctionCaller
from tests.fakes import FakeCallRecorder, FakeSummarizer, FakeTranscriber


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(data_dir=tmp_path / "data", captions_url="wss://captions.example")
    built = build_services(
        settings, transcriber=FakeTranscriber(), summarizer=FakeSummarizer(), recorder=FakeCallRecorder()
    )
    bootstrap.override(built)
    yield built
    bootstrap.override(None)
    await built.aclose()


async def _meeting(call: FunctionCaller) -> str:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Design review",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}, {"userId": "pat", "role": "presenter"}],
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    meeting_id: str = reply.json()["id"]
    return meeting_id


async def _captions(
    call: FunctionCaller, meeting_id: str, action: str, user: str = "alice", **body: Any
) -> Any:
    route = {"meetingId": meeting_id}
    return await call(
        f"{action}_captions", "POST", f"meetings/{meeting_id}/captions/{action}", user=user, route=route,
        json_body=body if action == "start" else None,
    )  # fmt: skip


async def test_a_presenter_turns_captions_on_and_acs_streams_to_the_captions_service(
    services: Services,
) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    reply = await _captions(call, meeting_id, "start", user="pat", language="de-DE")
    assert reply.status == 202, reply.body
    recording = reply.json()
    assert recording["status"] == "recording"
    assert recording["live"]["state"] == "active"
    assert recording["live"]["locale"] == "de-DE"
    assert "callConnectionId" not in recording["live"]
    recorder = services.recorder
    assert isinstance(recorder, FakeCallRecorder)
    [asked] = recorder.transcriptions.values()
    assert asked["transport"] == f"wss://captions.example/ws/{meeting_id}/{recording['id']}"
    assert asked["callback"] == f"https://captions.example/callbacks/{meeting_id}/{recording['id']}"
    assert asked["locale"] == "de-DE"
    again = await _captions(call, meeting_id, "start")
    assert again.status == 409


@pytest.mark.parametrize(("user", "status"), [("bob", 403), ("mallory", 404)])
async def test_only_the_organizer_and_presenters_turn_captions_on_or_off(
    services: Services, user: str, status: int
) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    assert (await _captions(call, meeting_id, "start", user=user)).status == status
    assert (await _captions(call, meeting_id, "start")).status == 202
    assert (await _captions(call, meeting_id, "stop", user=user)).status == status


@pytest.mark.parametrize("language", ["english", "en_US", "", "e"])
async def test_a_language_that_is_no_locale_is_a_400(services: Services, language: str) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    reply = await _captions(call, meeting_id, "start", language=language)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"


async def test_stopping_makes_the_transcript_and_queues_the_summary_at_once(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    assert (await _captions(call, meeting_id, "stop")).status == 409  # not on
    started = (await _captions(call, meeting_id, "start")).json()
    stream = CaptionStream(services.store, services.blobs, meeting_id, started["id"])
    await stream.open()
    words = [("let", 0.5, 0.7), ("us", 0.7, 0.9), ("begin", 0.9, 1.3)]
    said = parse(transcription_data("let us begin", words, "8:acs:nobody", final=True))
    assert isinstance(said, TranscriptionData)
    await stream.on_result(said)
    reply = await _captions(call, meeting_id, "stop")
    assert reply.status == 202
    stopped = reply.json()
    assert stopped["status"] == "summarizing"
    assert stopped["live"]["state"] == "finalized"
    assert "transcript.json" in stopped["artifacts"]
    recorder = services.recorder
    assert isinstance(recorder, FakeCallRecorder)
    assert ("stop_transcription", "connection-1") in recorder.calls
    transcript = json.loads(
        await services.blobs.get(ARTIFACTS, f"{meeting_id}/{started['id']}/transcript.json")
    )
    assert transcript["source"] == "live"
    assert [s["text"] for s in transcript["segments"]] == ["let us begin"]
    queued = await services.queues.receive(
        SUMMARY_JOBS, max_messages=5, visibility_timeout=timedelta(seconds=5)
    )
    assert [json.loads(m.text)["recordingId"] for m in queued] == [started["id"]]
    assert (await _captions(call, meeting_id, "stop")).status == 409  # off already


async def test_captions_with_nothing_said_fail_plainly(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    await _captions(call, meeting_id, "start")
    stopped = (await _captions(call, meeting_id, "stop")).json()
    assert stopped["status"] == "failed"
    assert stopped["error"]["code"] == "captions_empty"


@pytest.mark.parametrize(
    ("kind", "regenerated"), [("generated", True), ("edited", False), ("approved", False)]
)
async def test_a_recording_of_the_call_replaces_the_live_transcript(
    services: Services, kind: str, regenerated: bool
) -> None:
    from shared.domain.recordings import RecordingStatus, SummaryVersion
    from shared.schemas import StartCallRecording
    from shared.services import recording_state
    from shared.services.captions import replace_live_transcripts
    from shared.transcripts import Segment, Transcript

    call = FunctionCaller()
    meeting_id = await _meeting(call)
    live = (await _captions(call, meeting_id, "start")).json()
    stream = CaptionStream(services.store, services.blobs, meeting_id, live["id"])
    await stream.open()
    said = parse(
        transcription_data("hello there", [("hello", 0.5, 0.9), ("there", 0.9, 1.2)], "8:acs:x", final=True)
    )
    assert isinstance(said, TranscriptionData)
    await stream.on_result(said)
    await _captions(call, meeting_id, "stop")
    await services.queues.receive(SUMMARY_JOBS, max_messages=5, visibility_timeout=timedelta(minutes=5))

    def summarized(r: Any) -> Any:
        r.status = RecordingStatus.COMPLETED
        r.summary_versions = [
            SummaryVersion(
                version=1, blob="v1.json", kind=kind, at=datetime.now(UTC), approved=kind == "approved"
            )
        ]
        return r

    await recording_state.update(services.store, meeting_id, live["id"], summarized)
    recorded = await services.call_recordings.start("alice", meeting_id, StartCallRecording())
    better = Transcript(
        recording_id=recorded.id, language="en", duration_seconds=3.0,
        segments=[Segment(start=0.4, end=1.3, text="Hello there, everyone.")],
    )  # fmt: skip
    assert await replace_live_transcripts(
        services.store, services.blobs, services.queues, recorded, better
    ) == [live["id"]]
    transcript = json.loads(await services.blobs.get(ARTIFACTS, f"{meeting_id}/{live['id']}/transcript.json"))
    assert transcript["source"] == "recording"
    assert transcript["recordingId"] == live["id"]
    assert [s["text"] for s in transcript["segments"]] == ["Hello there, everyone."]
    stored = await services.store.get_recording(meeting_id, live["id"])
    assert stored is not None
    assert stored.value.status == (RecordingStatus.SUMMARIZING if regenerated else RecordingStatus.COMPLETED)
    queued = await services.queues.receive(
        SUMMARY_JOBS, max_messages=5, visibility_timeout=timedelta(seconds=5)
    )
    assert [json.loads(m.text)["recordingId"] for m in queued] == ([live["id"]] if regenerated else [])


async def test_a_meeting_with_auto_captions_starts_them_when_someone_joins(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    route = {"meetingId": meeting_id}
    joined = await call("join_meeting", "POST", f"meetings/{meeting_id}/join", user="bob", route=route)
    assert joined.status == 200
    recorder = services.recorder
    assert isinstance(recorder, FakeCallRecorder)
    assert recorder.transcriptions == {}  # off by default
    patched = await call(
        "update_meeting", "PATCH", f"meetings/{meeting_id}", route=route, json_body={"autoCaptions": True}
    )
    assert patched.status == 200, patched.body
    assert patched.json()["autoCaptions"] is True
    assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 200
    assert (await call("join_meeting", "POST", "j", user="alice", route=route)).status == 200
    assert len(recorder.transcriptions) == 1  # started once, by the first one in
    recordings = (await call("list_recordings", "GET", "r", user="bob", route=route)).json()["items"]
    assert [r["live"]["state"] for r in recordings] == ["active"]
    # Stopped by a presenter: a later join does not turn them on again.
    await _captions(call, meeting_id, "stop")
    assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 200
    assert len(recorder.transcriptions) == 1
    # ACS refusing does not fail the join; the refusal shows on the captions' recording, once.
    from shared.ports import CommunicationUnavailable

    other = await _meeting(call)
    other_route = {"meetingId": other}
    await call("update_meeting", "PATCH", "m", route=other_route, json_body={"autoCaptions": True})
    recorder.fail_next.append(CommunicationUnavailable("ACS is down"))
    assert (await call("join_meeting", "POST", "j", user="bob", route=other_route)).status == 200
    assert (await call("join_meeting", "POST", "j", user="bob", route=other_route)).status == 200
    items = (await call("list_recordings", "GET", "r", route=other_route)).json()["items"]
    assert [(r["status"], r["error"]["code"]) for r in items] == [("failed", "captions_not_started")]


async def test_captions_have_no_file_to_play_nor_to_upload(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    live = (await _captions(call, meeting_id, "start")).json()
    route = {"meetingId": meeting_id, "recordingId": live["id"]}
    media = await call("get_recording_media", "GET", "m", route=route)
    upload = await call("renew_upload", "POST", "u", route=route)
    assert (media.status, upload.status) == (409, 409)
    assert media.headers["content-type"] == upload.headers["content-type"] == "application/problem+json"


async def test_auto_captions_must_be_a_boolean(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    route = {"meetingId": meeting_id}
    for value in (0, "true", None):
        reply = await call("update_meeting", "PATCH", "m", route=route, json_body={"autoCaptions": value})
        assert reply.status == 400, value


async def test_deleting_captions_that_are_on_stops_the_transcription_first(services: Services) -> None:
    call = FunctionCaller()
    meeting_id = await _meeting(call)
    live = (await _captions(call, meeting_id, "start")).json()
    route = {"meetingId": meeting_id, "recordingId": live["id"]}
    assert (await call("delete_recording", "DELETE", "d", route=route)).status == 204
    recorder = services.recorder
    assert isinstance(recorder, FakeCallRecorder)
    assert recorder.transcriptions["connection-1"]["state"] == "stopped"
    assert (await _captions(call, meeting_id, "start")).status == 202  # the meeting can caption again
