"""The captions service (captions/) as ACS meets it: its WebSocket, ACS's message format, reconnects,
duplicates and results out of order, a participant leaving, and callers that are not ACS.

The app's real embedded services (SQLite, files, the local ACS stand-in) under a temporary DATA_DIR; the
service is served on a port of its own, and the test speaks to it as ACS does (aiohttp's client).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from captions.__main__ import build_authenticator
from captions.app import build_app
from shared.adapters.local_call_recording import LOCAL_RESOURCE_ID, LocalCallRecorder
from shared.bootstrap import Services, build_services, signing_key_of
from shared.config import Settings
from shared.domain.recording_paths import SUMMARY_JOBS
from shared.domain.recordings import RecordingStatus
from shared.live_captions import (
    MalformedMessage,
    TranscriptionData,
    TranscriptionMetadata,
    parse,
    transcription_data,
    transcription_metadata,
)
from shared.ports import ClientAccess
from shared.schemas import CreateMeeting, ParticipantIn
from shared.services.captions import CaptionStream
from shared.stream_auth import sign_local_stream_token
from shared.transcripts import Transcript
from tests.fakes import FakeSummarizer, FakeTranscriber

# ACS's documented examples (the SDKs' streaming parsers are tested against these very strings).
DOCUMENTED_METADATA = (
    '{"kind":"TranscriptionMetadata","transcriptionMetadata":{"subscriptionId":'
    '"0000a000-9999-5555-ae00-cd00e0bc0000","locale":"en-US","callConnectionId":'
    '"6d09449c-6677-4f91-8cb7-012c338e6ec1","correlationId":"6d09449c-6677-4f91-8cb7-012c338e6ec1",'
    ' "speechRecognitionModelEndpointId":"0000a000-9999-5555-ae00-cd00e0bc0001"}}'
)
DOCUMENTED_DATA = (
    '{"kind":"TranscriptionData","transcriptionData":{"text":"Hello everyone.","format":"display",'
    '"confidence":0.922650933265686,"offset":212483227,"duration":9600000,"words":[{"text":"hello",'
    '"offset":212483227,"duration":2800000},{"text":"everyone","offset":215283227,"duration":6800000}],'
    '"participantRawID":"4:+000000000000","resultStatus":"Final"}}'
)
SPEECH = Path(__file__).resolve().parent.parent / "fixtures" / "speech" / "engineers.flac"


def test_acs_documented_messages_are_read() -> None:
    metadata = parse(DOCUMENTED_METADATA)
    assert isinstance(metadata, TranscriptionMetadata)
    assert metadata.locale == "en-US"
    assert metadata.call_connection_id == "6d09449c-6677-4f91-8cb7-012c338e6ec1"
    data = parse(DOCUMENTED_DATA.encode())  # ACS may send it as a binary frame: the same JSON
    assert isinstance(data, TranscriptionData)
    assert data.text == "Hello everyone."
    assert data.final
    assert data.participant_raw_id == "4:+000000000000"
    assert data.start_seconds == pytest.approx(21.2483227)
    assert data.end_seconds == pytest.approx(22.2083227)
    assert [w.text for w in data.words] == ["hello", "everyone"]


def test_what_the_stand_in_sends_is_acs_shape() -> None:
    documented = json.loads(DOCUMENTED_DATA)["transcriptionData"]
    words = [("hello", 21.25, 21.53), ("everyone", 21.53, 22.21)]
    ours = json.loads(transcription_data("Hello everyone.", words, "8:acs:x", final=False))
    assert ours["kind"] == "TranscriptionData"
    assert set(ours["transcriptionData"]) == set(documented)
    assert ours["transcriptionData"]["resultStatus"] == "Intermediate"
    assert set(ours["transcriptionData"]["words"][0]) == set(documented["words"][0])
    meta = json.loads(transcription_metadata("s", "en-US", "c", "k"))
    assert set(meta["transcriptionMetadata"]) <= set(json.loads(DOCUMENTED_METADATA)["transcriptionMetadata"])


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '{"transcriptionData": {}}',
        '{"kind": "TranscriptionData", "transcriptionData": '
        '{"text": "x", "offset": -1, "resultStatus": "Final"}}',
        '{"kind": "TranscriptionData", "transcriptionData": '
        '{"text": "x", "offset": 1, "resultStatus": "Maybe"}}',
        '{"kind": "TranscriptionData"}',
    ],
)
def test_malformed_frames_are_refused(frame: str) -> None:
    with pytest.raises(MalformedMessage):
        parse(frame)


def test_other_kinds_are_not_ours() -> None:
    assert parse('{"kind": "AudioData", "audioData": {"data": "AAAA", "silent": false}}') is None


# --- the service, served -----------------------------------------------------------------------------------


class Hub:
    """The realtime hub: what went to each group, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def client_access(self, user_id: str, groups: Sequence[str], lifetime: timedelta) -> ClientAccess:
        return ClientAccess("ws://hub", datetime.now(UTC) + lifetime)

    async def send_to_group(self, group: str, message: dict[str, object]) -> None:
        self.sent.append((group, dict(message)))

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        return None

    async def add_user_to_group(self, group: str, user_id: str) -> None:
        return None

    async def remove_user_from_group(self, group: str, user_id: str) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def captions(self) -> list[dict[str, Any]]:
        return [m["data"] for _, m in self.sent if m["type"] == "caption"]


@dataclass
class Call:
    services: Services
    hub: Hub
    base: str  # http://127.0.0.1:port
    meeting_id: str
    acs: dict[str, str]  # user -> ACS raw id
    key: bytes

    @property
    def recorder(self) -> LocalCallRecorder:
        assert isinstance(self.services.recorder, LocalCallRecorder)
        return self.services.recorder

    def token(self, audience: str = LOCAL_RESOURCE_ID) -> str:
        return sign_local_stream_token(self.key, audience)

    def url(self, recording_id: str, kind: str = "ws") -> str:
        scheme = "ws" if kind == "ws" else "http"
        path = "ws" if kind == "ws" else "callbacks"
        return f"{scheme}://{self.base.removeprefix('http://')}/{path}/{self.meeting_id}/{recording_id}"


@pytest.fixture
async def call(tmp_path: Path) -> AsyncIterator[Call]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    settings = Settings(data_dir=tmp_path / "data", captions_url=f"ws://127.0.0.1:{port}")
    hub = Hub()
    services = build_services(
        settings, transcriber=FakeTranscriber(), summarizer=FakeSummarizer(), realtime=hub
    )
    key = signing_key_of(settings)
    runner = web.AppRunner(build_app(services, build_authenticator(settings, key)))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    starts = datetime.now(UTC) + timedelta(minutes=5)
    meeting = await services.meetings.create(
        "alice",
        CreateMeeting(
            title="Standup",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            participants=[ParticipantIn(user_id="bob", role="attendee", display_name="Bob Marley")],
        ),
    )
    acs = {user: (await services.join.join(user, meeting.value.id)).acs_user_id for user in ("alice", "bob")}
    try:
        yield Call(services, hub, f"http://127.0.0.1:{port}", meeting.value.id, acs, key)
    finally:
        await runner.cleanup()
        await services.aclose()


async def _connect(call: Call, recording_id: str, token: str | None) -> aiohttp.ClientWebSocketResponse:
    session = aiohttp.ClientSession()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        socket_ = await session.ws_connect(call.url(recording_id), headers=headers)
    except BaseException:
        await session.close()
        raise
    socket_._test_session = session  # type: ignore[attr-defined]  # closed with the socket below
    return socket_


async def _close(socket_: aiohttp.ClientWebSocketResponse) -> None:
    await socket_.close()
    await socket_._test_session.close()  # type: ignore[attr-defined]


def _result(text: str, start: float, speaker: str, *, final: bool = True) -> str:
    words = text.split()
    step = 0.4
    return transcription_data(
        text,
        [(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(words)],
        speaker,
        final=final,
    )


async def _settled(call: Call, count: int) -> None:
    for _ in range(100):
        if len(call.hub.captions()) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} captions expected, {len(call.hub.captions())} published")


async def _transcript(call: Call, recording_id: str) -> Transcript:
    body = await call.services.blobs.get("artifacts", f"{call.meeting_id}/{recording_id}/transcript.json")
    return Transcript.model_validate_json(body)


async def test_captions_go_live_with_names_and_become_the_transcript(call: Call) -> None:
    recording = await call.services.captions.start("alice", call.meeting_id, "en-US")
    assert recording.live is not None
    assert recording.live.state == "active"
    ws = await _connect(call, recording.id, call.token())
    await ws.send_str(transcription_metadata("sub", "en-US", recording.live.call_connection_id or "", "c"))
    await ws.send_str(_result("good morning", 1.0, call.acs["alice"], final=False))
    await ws.send_str(_result("good morning everyone", 1.0, call.acs["alice"]))
    await ws.send_str(_result("hello alice", 3.0, call.acs["bob"]))
    await _settled(call, 3)
    await _close(ws)
    captions = call.hub.captions()
    # The intermediate and its final share an id: the final replaces it on screen.
    assert captions[0]["captionId"] == captions[1]["captionId"] != captions[2]["captionId"]
    assert [c["final"] for c in captions] == [False, True, True]
    assert [(c["userId"], c["displayName"]) for c in captions] == [
        ("alice", None), ("alice", None), ("bob", "Bob Marley")
    ]  # fmt: skip
    assert all(group == f"meeting.{call.meeting_id}" for group, _ in call.hub.sent)
    assert captions[2]["start"] == pytest.approx(3.0)

    stopped = await call.services.captions.stop("alice", call.meeting_id)
    assert stopped.status == RecordingStatus.SUMMARIZING
    transcript = await _transcript(call, recording.id)
    assert transcript.source == "live"
    assert [(s.text, transcript.speaker_name(s.speaker)) for s in transcript.segments] == [
        ("good morning everyone", "alice"), ("hello alice", "Bob Marley")
    ]  # fmt: skip
    # The summary is queued at once, not after a recording is fetched.
    queued = await call.services.queues.receive(
        SUMMARY_JOBS, max_messages=5, visibility_timeout=timedelta(seconds=5)
    )
    assert [json.loads(m.text)["recordingId"] for m in queued] == [recording.id]


async def test_reconnects_duplicates_and_results_out_of_order_keep_each_final_once_in_order(
    call: Call,
) -> None:
    recording = await call.services.captions.start("alice", call.meeting_id, None)
    first = await _connect(call, recording.id, call.token())
    await first.send_str(_result("second thing said", 10.0, call.acs["alice"]))
    await _settled(call, 1)
    await _close(first)  # the connection drops; ACS connects again and sends the last result again
    second = await _connect(call, recording.id, call.token())
    await second.send_str(_result("second thing said", 10.0, call.acs["alice"]))
    await second.send_str(_result("second thing", 10.0, call.acs["alice"], final=False))  # late intermediate
    await second.send_str(_result("first thing said", 2.0, call.acs["bob"]))  # out of order
    await second.send_str(_result("first thing said", 2.0, call.acs["bob"]))  # duplicate
    await second.send_str("{broken")  # one bad frame costs nothing else
    await second.send_str(_result("third thing", 20.0, call.acs["bob"]))
    await _settled(call, 3)
    await asyncio.sleep(0.1)
    await _close(second)
    texts = [(c["text"], c["final"]) for c in call.hub.captions()]
    assert texts == [("second thing said", True), ("first thing said", True), ("third thing", True)]
    await call.services.captions.stop("alice", call.meeting_id)
    transcript = await _transcript(call, recording.id)
    assert [s.text for s in transcript.segments] == ["first thing said", "second thing said", "third thing"]


async def test_a_participant_who_leaves_keeps_what_they_said_and_is_nobody_after(call: Call) -> None:
    recording = await call.services.captions.start("alice", call.meeting_id, None)
    ticks = iter(range(1000))
    stream = CaptionStream(
        call.services.store, call.services.blobs, call.meeting_id, recording.id,
        events=call.services.events, monotonic=lambda: float(next(ticks)), speakers_ttl=0,
    )  # fmt: skip
    await stream.open()
    said = parse(_result("see you all", 1.0, call.acs["bob"]))
    assert isinstance(said, TranscriptionData)
    await stream.on_result(said)
    await call.services.meetings.remove_participant("alice", call.meeting_id, "bob")
    after = parse(_result("still talking", 5.0, call.acs["bob"]))
    assert isinstance(after, TranscriptionData)
    await stream.on_result(after)
    assert [(c["userId"], c["displayName"]) for c in call.hub.captions()] == [
        ("bob", "Bob Marley"),
        (None, None),
    ]
    await call.services.captions.stop("alice", call.meeting_id)
    transcript = await _transcript(call, recording.id)
    assert [s.speaker is not None for s in transcript.segments] == [True, False]
    assert transcript.speakers[0].user_id == "bob"


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("not-a-jwt", 401),
        ("other-audience", 401),
        ("other-key", 401),
    ],
)
async def test_a_caller_that_is_not_acs_for_our_resource_is_refused(
    call: Call, token: str | None, status: int
) -> None:
    recording = await call.services.captions.start("alice", call.meeting_id, None)
    value = {
        None: None,
        "not-a-jwt": "not-a-jwt",
        "other-audience": call.token(audience="another-resource"),
        "other-key": sign_local_stream_token(b"another app's key", LOCAL_RESOURCE_ID),
    }[token]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _connect(call, recording.id, value)
    assert refused.value.status == status
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {value}"} if value else {}
        ended = [{"type": "Microsoft.Communication.CallDisconnected"}]
        async with session.post(call.url(recording.id, "callback"), json=ended, headers=headers) as response:
            assert response.status == status
    stored = await call.services.store.get_recording(call.meeting_id, recording.id)
    assert stored is not None
    assert stored.value.live is not None
    assert stored.value.live.state == "active"  # nothing a stranger sent ended the captions


async def test_a_stream_for_captions_that_are_not_on_is_refused(call: Call) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as unknown:
        await _connect(call, "00000000-0000-0000-0000-000000000000", call.token())
    assert unknown.value.status == 404
    recording = await call.services.captions.start("alice", call.meeting_id, None)
    await call.services.captions.stop("alice", call.meeting_id)
    with pytest.raises(aiohttp.WSServerHandshakeError) as over:
        await _connect(call, recording.id, call.token())
    assert over.value.status == 409


async def test_a_stream_of_another_call_connection_is_closed(call: Call) -> None:
    recording = await call.services.captions.start("alice", call.meeting_id, None)
    ws = await _connect(call, recording.id, call.token())
    await ws.send_str(transcription_metadata("sub", "en-US", "someone-elses-connection", "c"))
    closing = await ws.receive()
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await _close(ws)


async def test_the_stand_in_plays_a_file_into_the_call_until_it_ends(call: Call) -> None:
    """The local path end to end: connect with transcription, the file through the transcriber at 20x,
    ACS's messages over the WebSocket, CallDisconnected at the end, then the transcript and the summary."""
    recording = await call.services.captions.start("alice", call.meeting_id, "en-US")
    assert recording.live is not None
    assert recording.live.call_connection_id is not None
    sent: list[str] = []
    player = call.recorder.play(
        recording.live.call_connection_id, SPEECH, [call.acs["alice"]], speed=20, sent=sent.append
    )
    await asyncio.wait_for(player, 60)
    status = RecordingStatus.RECORDING
    for _ in range(100):
        stored = await call.services.store.get_recording(call.meeting_id, recording.id)
        assert stored is not None
        status = stored.value.status
        if status != RecordingStatus.RECORDING:
            break
        await asyncio.sleep(0.05)
    assert status == RecordingStatus.SUMMARIZING  # the call ended: finalized at once
    finals = [parse(m) for m in sent if '"Final"' in m]
    assert finals
    transcript = await _transcript(call, recording.id)
    assert [s.text for s in transcript.segments] == [
        f.text for f in finals if isinstance(f, TranscriptionData)
    ]
    assert {s.speaker for s in transcript.segments} == {transcript.speakers[0].id}
    assert transcript.speakers[0].user_id == "alice"
