"""One contract for every CallRecorder: the ACS adapter (against tests/acs_server.py, which speaks Call
Automation's recording API and the recording storage's downloads and checks every signature), by
connection string and by token credential, and the local stand-in.

Each is driven with a harness that also plays ACS's part once a recording ends: `deliver` hands over the
bytes the recording captured and returns the RecordingFileStatusUpdated event (the server's
`set_recording_file` + `recording_event`, the stand-in's `deliver_file`).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import secrets
import tracemalloc
import wave
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pytest

from shared.adapters.acs_call_recording import (
    CALL_AUTOMATION_API_VERSION,
    RECORDING_HOST_SUFFIXES,
    AcsCallRecorder,
)
from shared.adapters.acs_common import MAX_WAIT_SECONDS
from shared.adapters.local_call_recording import LocalCallRecorder
from shared.call_events import recording_file
from shared.ports import (
    RECORDING_FORMATS,
    CallLocator,
    CallRecorder,
    CallRecordingConflict,
    CallRecordingNotFound,
    CommunicationError,
    CommunicationRejected,
    CommunicationUnavailable,
    RecordingRequest,
)
from tests.acs_server import AcsServer
from tests.contract.test_acs_adapter import FakeManagedIdentity, Sleeps

ROOM = CallLocator("room", "12345678901234567")
MP3 = RecordingRequest("audio", "mixed", "mp3")
WAV_UNMIXED = RecordingRequest("audio", "unmixed", "wav")
PEOPLE = [("8:acs:resource_0001", 0), ("8:acs:resource_0002", 1)]


class Harness(Protocol):
    @property
    def recorder(self) -> CallRecorder: ...

    async def deliver(
        self,
        recording_id: str,
        data: bytes,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> dict[str, Any]: ...

    async def redeliver(self, recording_id: str) -> dict[str, Any]: ...

    async def expire(self, recording_id: str) -> None: ...


@dataclass
class AcsHarness:
    recorder: AcsCallRecorder
    server: AcsServer

    async def deliver(
        self,
        recording_id: str,
        data: bytes,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> dict[str, Any]:
        self.server.set_recording_file(recording_id, data, participants=participants, chunk_bytes=chunk_bytes)
        return self.server.recording_event(recording_id)

    async def redeliver(self, recording_id: str) -> dict[str, Any]:
        return self.server.recording_event(recording_id)

    async def expire(self, recording_id: str) -> None:
        self.server.expire_recording_files(recording_id)


@dataclass
class LocalHarness:
    recorder: LocalCallRecorder
    inbox: Path

    async def deliver(
        self,
        recording_id: str,
        data: bytes,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> dict[str, Any]:
        event_format = "wav" if data.startswith(b"RIFF") else "mp3"
        source = self.inbox / f"{secrets.token_hex(4)}.{event_format}"
        source.write_bytes(data)
        return await self.recorder.deliver_file(
            recording_id, source, participants=participants, chunk_bytes=chunk_bytes
        )

    async def redeliver(self, recording_id: str) -> dict[str, Any]:
        return await self.recorder.recording_event(recording_id)

    async def expire(self, recording_id: str) -> None:
        await self.recorder.expire_files(recording_id)


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@contextlib.asynccontextmanager
async def _acs_hmac(tmp_path: Path) -> AsyncIterator[Harness]:
    # Files served from another host than the resource's, as ACS's storage is: the allowlist names it.
    async with AcsServer(access_key=_key(), storage_host="localhost") as server:
        recorder = AcsCallRecorder(
            connection_string=server.connection_string,
            recording_hosts=[*RECORDING_HOST_SUFFIXES, "localhost"],
            sleep=Sleeps(),  # retries (of the throttled tests) do not wait
            **server.client_kwargs,
        )
        try:
            yield AcsHarness(recorder, server)
        finally:
            await recorder.aclose()
        assert server.auth_failures == []


@contextlib.asynccontextmanager
async def _acs_token(tmp_path: Path) -> AsyncIterator[Harness]:
    # Files served from the resource's own host: allowed without naming it.
    async with AcsServer(access_key=_key(), accept_bearer=True) as server:
        recorder = AcsCallRecorder(
            endpoint=server.endpoint, credential=FakeManagedIdentity(), sleep=Sleeps(), **server.client_kwargs
        )
        try:
            yield AcsHarness(recorder, server)
        finally:
            await recorder.aclose()
        assert {r.auth for r in server.requests} == {"bearer"}


@contextlib.asynccontextmanager
async def _local(tmp_path: Path) -> AsyncIterator[Harness]:
    recorder = LocalCallRecorder(tmp_path / "data")
    (tmp_path / "inbox").mkdir()
    try:
        yield LocalHarness(recorder, tmp_path / "inbox")
    finally:
        await recorder.aclose()


@pytest.fixture(
    params=[
        pytest.param(_acs_hmac, id="acs-hmac"),
        pytest.param(_acs_token, id="acs-token"),
        pytest.param(_local, id="local"),
    ]
)
async def acs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    factory: Callable[[Path], contextlib.AbstractAsyncContextManager[Harness]] = request.param
    async with factory(tmp_path) as harness:
        yield harness


async def _download(recorder: CallRecorder, location: str, chunk_size: int = 4 * 1024 * 1024) -> bytes:
    return b"".join([part async for part in recorder.download(location, chunk_size=chunk_size)])


def _chunks(event: dict[str, Any]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = event["data"]["recordingStorageInfo"]["recordingChunks"]
    return chunks


async def _ended(acs: Harness, request: RecordingRequest = MP3, call: CallLocator = ROOM) -> str:
    recording_id = await acs.recorder.start_recording(call, request)
    await acs.recorder.stop_recording(recording_id)
    return recording_id


def _wav(seconds: float, channels: int = 2, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(secrets.token_bytes(int(seconds * rate) * channels * 2))
    return out.getvalue()


# --- recording ---------------------------------------------------------------------------------------


async def test_a_recording_pauses_resumes_and_stops(acs: Harness) -> None:
    recorder = acs.recorder
    recording_id = await recorder.start_recording(ROOM, MP3)
    assert recording_id
    assert await recorder.recording_state(recording_id) == "active"
    await recorder.pause_recording(recording_id)
    await recorder.pause_recording(recording_id)  # paused already: nothing to do
    assert await recorder.recording_state(recording_id) == "inactive"
    await recorder.resume_recording(recording_id)
    await recorder.resume_recording(recording_id)
    assert await recorder.recording_state(recording_id) == "active"
    await recorder.stop_recording(recording_id)
    assert await recorder.recording_state(recording_id) == "inactive"
    await recorder.stop_recording(recording_id)  # stopped already: no error
    with pytest.raises(CallRecordingConflict):
        await recorder.pause_recording(recording_id)
    with pytest.raises(CallRecordingConflict):
        await recorder.resume_recording(recording_id)


async def test_a_call_has_one_recording_at_a_time(acs: Harness) -> None:
    recorder = acs.recorder
    first = await recorder.start_recording(ROOM, MP3)
    with pytest.raises(CallRecordingConflict):
        await recorder.start_recording(ROOM, WAV_UNMIXED)
    await recorder.pause_recording(first)
    with pytest.raises(CallRecordingConflict):  # paused is still being recorded
        await recorder.start_recording(ROOM, MP3)
    other = await recorder.start_recording(CallLocator("server_call", "aHR0cHM6Ly9jYWxsLzE"), MP3)
    await recorder.stop_recording(first)
    again = await recorder.start_recording(ROOM, MP3)
    assert len({first, other, again}) == 3
    assert await recorder.recording_state(other) == "active"
    assert await recorder.recording_state(again) == "active"


async def test_an_unknown_recording_is_not_found_but_stopping_it_is_fine(acs: Harness) -> None:
    unknown = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiJub25lIn0"
    with pytest.raises(CallRecordingNotFound):
        await acs.recorder.recording_state(unknown)
    with pytest.raises(CallRecordingNotFound):
        await acs.recorder.pause_recording(unknown)
    with pytest.raises(CallRecordingNotFound):
        await acs.recorder.resume_recording(unknown)
    await acs.recorder.stop_recording(unknown)


@pytest.mark.parametrize(
    ("content", "channels", "file_format"),
    [(content, channels, f) for (content, channels), formats in RECORDING_FORMATS.items() for f in formats],
)
async def test_every_documented_format_is_recorded(
    acs: Harness, content: Any, channels: Any, file_format: Any
) -> None:
    recording_id = await acs.recorder.start_recording(ROOM, RecordingRequest(content, channels, file_format))
    assert await acs.recorder.recording_state(recording_id) == "active"


@pytest.mark.parametrize(
    "request_",
    [
        RecordingRequest("audio", "unmixed", "mp3"),
        RecordingRequest("audio-video", "mixed", "wav"),
        RecordingRequest("audio-video", "unmixed", "mp4"),
        RecordingRequest("audio", "mixed", "mp4"),
    ],
    ids=lambda r: f"{r.content}-{r.channels}-{r.format}",
)
async def test_formats_acs_does_not_record_are_rejected(acs: Harness, request_: RecordingRequest) -> None:
    # The rule is the caller's to respect (the port's RECORDING_FORMATS): what is sent anyway is refused,
    # and leaves nothing behind.
    with pytest.raises(CommunicationRejected):
        await acs.recorder.start_recording(ROOM, request_)
    assert await acs.recorder.start_recording(ROOM, MP3)


# --- what ACS delivers -------------------------------------------------------------------------------


async def test_the_event_has_the_shape_acs_sends(acs: Harness) -> None:
    recording_id = await acs.recorder.start_recording(ROOM, WAV_UNMIXED)
    await acs.recorder.pause_recording(recording_id)
    await acs.recorder.resume_recording(recording_id)
    await acs.recorder.stop_recording(recording_id)
    event = await acs.deliver(recording_id, _wav(0.5), participants=PEOPLE)

    assert set(event) == {
        "id",
        "topic",
        "subject",
        "data",
        "eventType",
        "dataVersion",
        "metadataVersion",
        "eventTime",
    }
    assert event["eventType"] == "Microsoft.Communication.RecordingFileStatusUpdated"
    assert (event["dataVersion"], event["metadataVersion"]) == ("1.0", "1")
    assert "/providers/Microsoft.Communication/communicationServices/" in event["topic"]
    head, _, rest = event["subject"].partition("/serverCallId/")
    server_call_id, _, subject_recording_id = rest.partition("/recordingId/")
    assert head.startswith("/recording/call/")
    assert server_call_id
    assert subject_recording_id == recording_id
    data = event["data"]
    assert set(data) == {
        "recordingStorageInfo",
        "recordingStartTime",
        "recordingDurationMs",
        "recordingContentType",
        "recordingChannelType",
        "recordingFormatType",
        "sessionEndReason",
    }
    assert (data["recordingContentType"], data["recordingChannelType"], data["recordingFormatType"]) == (
        "Audio",
        "Unmixed",
        "Wav",
    )
    assert isinstance(data["recordingDurationMs"], int)
    assert data["recordingStartTime"].endswith("Z")
    datetime.fromisoformat(data["recordingStartTime"][:26] + "+00:00")
    [chunk] = _chunks(event)
    assert set(chunk) == {
        "documentId",
        "index",
        "endReason",
        "contentLocation",
        "metadataLocation",
        "deleteLocation",
    }
    assert (chunk["index"], chunk["endReason"]) == (0, "SessionEnded")
    assert chunk["documentId"] in chunk["contentLocation"]
    assert chunk["documentId"] in chunk["metadataLocation"]

    metadata = json.loads(await _download(acs.recorder, chunk["metadataLocation"]))
    assert metadata["chunkDocumentId"] == chunk["documentId"]
    assert metadata["chunkIndex"] == 0
    assert metadata["participants"] == [{"participantId": p, "channel": c} for p, c in PEOPLE]
    info = metadata["recordingInfo"]
    assert (info["contentType"], info["channelType"], info["format"]) == ("audio", "unmixed", "wav")
    assert info["audioConfiguration"]["channels"] == 2
    assert [set(p) for p in metadata["pauseResumeIntervals"]] == [{"startTime", "duration"}]
    assert head.removeprefix("/recording/call/") == metadata["callId"]


async def test_the_apps_event_reader_finds_the_recording_and_its_chunks(acs: Harness) -> None:
    recording_id = await _ended(acs)
    event = await acs.deliver(recording_id, b"ID3" + secrets.token_bytes(2_000), chunk_bytes=900)
    announced = recording_file(event["eventType"], event["subject"], event["data"])
    assert announced is not None
    assert announced.acs_recording_id == recording_id
    assert [(c.index, c.content_location, c.metadata_location) for c in announced.chunks] == [
        (c["index"], c["contentLocation"], c["metadataLocation"]) for c in _chunks(event)
    ]


async def test_a_redelivered_event_is_the_same_event(acs: Harness) -> None:
    recording_id = await _ended(acs)
    first = await acs.deliver(recording_id, b"ID3" + secrets.token_bytes(1000))
    assert await acs.redeliver(recording_id) == first


async def test_a_delivered_file_downloads_whole_in_chunks_of_the_size_asked(acs: Harness) -> None:
    recording_id = await _ended(acs)
    data = b"ID3" + secrets.token_bytes(300_000)
    event = await acs.deliver(recording_id, data)
    [chunk] = _chunks(event)
    parts = [part async for part in acs.recorder.download(chunk["contentLocation"], chunk_size=64 * 1024)]
    assert b"".join(parts) == data
    assert [len(part) for part in parts[:-1]] == [64 * 1024] * (len(parts) - 1)
    assert 0 < len(parts[-1]) <= 64 * 1024


async def test_a_long_recording_comes_in_chunks(acs: Harness) -> None:
    recording_id = await _ended(acs)
    data = b"ID3" + secrets.token_bytes(250_000)
    event = await acs.deliver(recording_id, data, participants=PEOPLE[:1], chunk_bytes=100_000)
    chunks = _chunks(event)
    assert [c["index"] for c in chunks] == [0, 1, 2]
    assert [c["endReason"] for c in chunks] == ["ChunkMaximumSizeExceeded"] * 2 + ["SessionEnded"]
    assert len({c["documentId"] for c in chunks}) == 3
    contents = [await _download(acs.recorder, c["contentLocation"]) for c in chunks]
    assert [len(c) for c in contents] == [100_000, 100_000, 50_003]
    assert b"".join(contents) == data
    for chunk in chunks:
        metadata = json.loads(await _download(acs.recorder, chunk["metadataLocation"]))
        assert (metadata["chunkIndex"], metadata["chunkDocumentId"]) == (chunk["index"], chunk["documentId"])
        assert metadata["participants"] == [{"participantId": PEOPLE[0][0], "channel": 0}]


async def test_wav_chunks_are_wav_files_of_their_own(acs: Harness) -> None:
    recording_id = await _ended(acs, WAV_UNMIXED)
    original = _wav(1.0)
    event = await acs.deliver(recording_id, original, chunk_bytes=24_000)
    frames = b""
    for chunk in _chunks(event):
        with wave.open(io.BytesIO(await _download(acs.recorder, chunk["contentLocation"]))) as part:
            assert (part.getnchannels(), part.getsampwidth(), part.getframerate()) == (2, 2, 16000)
            frames += part.readframes(part.getnframes())
    assert len(_chunks(event)) == 3  # 64,000 bytes of frames in pieces of 24,000
    with wave.open(io.BytesIO(original)) as whole:
        assert frames == whole.readframes(whole.getnframes())


async def test_an_expired_file_is_not_found(acs: Harness) -> None:
    recording_id = await _ended(acs)
    [chunk] = _chunks(await acs.deliver(recording_id, b"ID3" + secrets.token_bytes(100)))
    await acs.expire(recording_id)
    for location in (chunk["contentLocation"], chunk["metadataLocation"]):
        with pytest.raises(CallRecordingNotFound):
            await _download(acs.recorder, location)


async def test_only_the_resources_recording_locations_are_fetched(acs: Harness) -> None:
    recording_id = await _ended(acs)
    [chunk] = _chunks(await acs.deliver(recording_id, b"ID3" + secrets.token_bytes(100)))
    genuine = chunk["contentLocation"]
    scheme, rest = genuine.split("://", 1)
    host, path = rest.split("/", 1)
    forged = [
        f"{scheme}://evil.example/{path}",
        f"{scheme}://{host}.evil.example/{path}",
        f"{scheme}://{host}@evil.example/{path}",
        f"{'http' if scheme == 'https' else 'https'}://{host}/{path}",
        f"{scheme}://storage.asm.skype.com.evil.example/{path}",
        "file:///etc/passwd",
        "",
    ]
    server = acs.server if isinstance(acs, AcsHarness) else None
    sent = len(server.requests) if server else 0
    for location in forged:
        with pytest.raises(CommunicationRejected):
            await _download(acs.recorder, location)
    if server is not None:
        assert len(server.requests) == sent, "nothing is sent to a host that is not the resource's"
    assert await _download(acs.recorder, genuine)


async def test_a_download_holds_a_bounded_amount_in_memory(acs: Harness) -> None:
    # Measured here: about 2 MB at the peak for chunks of 256 KiB, whatever the file's size (the ACS
    # adapter's buffer, the transport's and TLS's); a download held whole would peak above 16 MB.
    recording_id = await _ended(acs)
    size = 16 * 1024 * 1024
    [chunk] = _chunks(await acs.deliver(recording_id, bytes(size)))
    received = 0
    tracemalloc.start()
    try:
        async for part in acs.recorder.download(chunk["contentLocation"], chunk_size=256 * 1024):
            received += len(part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert peak < 4 * 1024 * 1024, f"{peak} bytes at the peak for a {size}-byte file"


# --- what only the ACS adapter does ------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[AcsServer]:
    async with AcsServer(access_key=_key(), storage_host="localhost") as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def recorder(server: AcsServer, sleeps: Sleeps) -> AsyncIterator[AcsCallRecorder]:
    adapter = AcsCallRecorder(
        connection_string=server.connection_string,
        recording_hosts=["localhost"],
        sleep=sleeps,
        **server.client_kwargs,
    )
    yield adapter
    await adapter.aclose()


async def test_requests_are_signed_and_pin_the_api_version(
    server: AcsServer, recorder: AcsCallRecorder
) -> None:
    recording_id = await _ended(AcsHarness(recorder, server))
    server.set_recording_file(recording_id, b"ID3" + secrets.token_bytes(100))
    [chunk] = _chunks(server.recording_event(recording_id))
    await _download(recorder, chunk["contentLocation"])
    assert {r.auth for r in server.requests} == {"hmac"}
    calls = [r for r in server.requests if r.path.startswith("/calling/")]
    assert {r.api_version for r in calls} == {CALL_AUTOMATION_API_VERSION}
    # The download went to the storage host, signed for the resource's (x-ms-host), which the server checks.
    assert server.requests[-1].path.startswith("/v1/objects/")
    assert server.statuses[-1] == 200
    assert server.auth_failures == []


async def test_a_download_signed_without_x_ms_host_is_denied(
    server: AcsServer, recorder: AcsCallRecorder
) -> None:
    # What makes the test above meaningful: the storage checks the signature against x-ms-host.
    from azure.core.rest import HttpRequest

    location = await _delivered(server, recorder, b"ID3")
    response = await recorder._automation()._client.send_request(HttpRequest("GET", location))
    assert response.status_code == 401
    assert "x-ms-host" in server.auth_failures[-1]


async def test_the_call_and_the_recording_asked_for_reach_acs(
    server: AcsServer, recorder: AcsCallRecorder
) -> None:
    in_room = await recorder.start_recording(ROOM, RecordingRequest("audio-video", "mixed", "mp4"))
    on_call = await recorder.start_recording(CallLocator("server_call", "c2VydmVyLWNhbGw"), WAV_UNMIXED)
    room, call = server.state.recording(in_room), server.state.recording(on_call)
    assert (room.locator, room.request) == (
        ("roomCallLocator", ROOM.id),
        RecordingRequest("audio-video", "mixed", "mp4"),
    )
    assert (call.locator, call.request) == (("serverCallLocator", "c2VydmVyLWNhbGw"), WAV_UNMIXED)


async def test_throttling_is_retried_honouring_retry_after(
    server: AcsServer, recorder: AcsCallRecorder, sleeps: Sleeps
) -> None:
    server.throttle(2, retry_after=3)
    recording_id = await recorder.start_recording(ROOM, MP3)
    assert server.statuses == [429, 429, 200]
    assert len(sleeps.waits) == 2
    assert all(3 <= wait < 3.2 for wait in sleeps.waits)
    assert list(server.state.recordings) == [recording_id]


async def test_server_errors_past_the_retries_are_unavailable(
    server: AcsServer, recorder: AcsCallRecorder, sleeps: Sleeps
) -> None:
    recording_id = await recorder.start_recording(ROOM, MP3)
    server.fail(100)
    with pytest.raises(CommunicationUnavailable):
        await recorder.pause_recording(recording_id)
    assert server.statuses[1:] == [500] * 4, "bounded: four attempts, then give up"
    assert len(sleeps.waits) == 3
    server.throttle(1, retry_after=int(MAX_WAIT_SECONDS) + 60)
    with pytest.raises(CommunicationUnavailable) as caught:
        await recorder.stop_recording(recording_id)
    assert caught.value.retry_after == MAX_WAIT_SECONDS + 60, "a long Retry-After is passed on, not waited"


async def test_a_start_whose_answer_was_lost_is_not_a_second_recording(
    server: AcsServer, recorder: AcsCallRecorder
) -> None:
    server.lose_answers(1)  # ACS started it, but we saw a 500
    recording_id = await recorder.start_recording(ROOM, MP3)
    assert server.statuses == [500, 200]
    assert server.state.recording_starts == 1
    assert list(server.state.recordings) == [recording_id]


async def test_an_ended_call_cannot_be_recorded(server: AcsServer, recorder: AcsCallRecorder) -> None:
    recording_id = await recorder.start_recording(ROOM, MP3)
    server.end_call("roomCallLocator", ROOM.id)
    assert await recorder.recording_state(recording_id) == "inactive"
    with pytest.raises(CallRecordingNotFound):
        await recorder.start_recording(ROOM, MP3)


async def _delivered(server: AcsServer, recorder: AcsCallRecorder, data: bytes) -> str:
    recording_id = await recorder.start_recording(ROOM, MP3)
    await recorder.stop_recording(recording_id)
    server.set_recording_file(recording_id, data)
    location: str = _chunks(server.recording_event(recording_id))[0]["contentLocation"]
    return location


async def test_a_download_is_retried_past_throttling_and_server_errors(
    server: AcsServer, recorder: AcsCallRecorder, sleeps: Sleeps
) -> None:
    data = b"ID3" + secrets.token_bytes(10_000)
    location = await _delivered(server, recorder, data)
    server.throttle(1, retry_after=2)
    assert await _download(recorder, location) == data
    server.fail(1, status=503)
    assert await _download(recorder, location) == data
    assert server.statuses[-4:] == [429, 200, 503, 200]
    assert sleeps.waits[0] >= 2


async def test_a_download_cut_short_resumes_where_it_stopped(
    server: AcsServer, recorder: AcsCallRecorder
) -> None:
    data = b"ID3" + secrets.token_bytes(500_000)
    location = await _delivered(server, recorder, data)
    server.cut_downloads(after_bytes=200_000)
    assert await _download(recorder, location, chunk_size=64 * 1024) == data
    assert server.statuses[-2:] == [200, 206], "the second request asked for the rest only"
    server.cut_downloads(after_bytes=10, times=10)
    with pytest.raises(CommunicationUnavailable):
        await _download(recorder, location)


async def test_the_default_allowlist_is_acs_storage_and_the_resource(server: AcsServer) -> None:
    recorder = AcsCallRecorder(connection_string=server.connection_string, **server.client_kwargs)
    try:
        location = await _delivered(server, recorder, b"ID3")
        with pytest.raises(CommunicationRejected):  # localhost: neither ACS's storage nor the resource
            await _download(recorder, location)
        own = location.replace("https://localhost:", "https://127.0.0.1:")
        assert await _download(recorder, own) == b"ID3"
    finally:
        await recorder.aclose()


def test_the_default_allowlist_is_the_sdks() -> None:
    # The SDK's download_recording enforces this list; we enforce the same one before our own request.
    from azure.communication.callautomation.recording_url_validator import ALLOWED_HOST_SUFFIXES

    assert set(RECORDING_HOST_SUFFIXES) == set(ALLOWED_HOST_SUFFIXES)


async def test_a_wrong_key_is_a_communication_error(server: AcsServer) -> None:
    wrong = server.connection_string.replace(server.connection_string.split("accesskey=")[1], _key())
    recorder = AcsCallRecorder(connection_string=wrong, **server.client_kwargs)
    try:
        with pytest.raises(CommunicationError) as caught:
            await recorder.start_recording(ROOM, MP3)
        assert type(caught.value) is CommunicationError
    finally:
        await recorder.aclose()


def test_settings_must_say_how_to_authenticate() -> None:
    with pytest.raises(ValueError, match="connection string"):
        AcsCallRecorder(endpoint="https://x.communication.azure.com/")


# --- what only the local stand-in does ---------------------------------------------------------------


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalCallRecorder]:
    adapter = LocalCallRecorder(tmp_path / "data")
    yield adapter
    await adapter.aclose()


async def test_local_delivers_only_an_ended_recording_and_only_once(
    local: LocalCallRecorder, tmp_path: Path
) -> None:
    source = tmp_path / "captured.mp3"
    source.write_bytes(b"ID3" + secrets.token_bytes(100))
    recording_id = await local.start_recording(ROOM, MP3)
    with pytest.raises(CallRecordingConflict):
        await local.deliver_file(recording_id, source)
    await local.stop_recording(recording_id)
    with pytest.raises(ValueError, match="mp3"):
        await local.deliver_file(recording_id, source.rename(tmp_path / "captured.wav"))
    event = await local.deliver_file(recording_id, (tmp_path / "captured.wav").rename(source))
    with pytest.raises(CallRecordingConflict):
        await local.deliver_file(recording_id, source)
    assert await local.recording_event(recording_id) == event
    with pytest.raises(CallRecordingNotFound):
        await local.deliver_file("unknown", source)


async def test_local_state_outlives_the_process(tmp_path: Path) -> None:
    first = LocalCallRecorder(tmp_path / "data")
    recording_id = await first.start_recording(ROOM, MP3)
    await first.aclose()
    again = LocalCallRecorder(tmp_path / "data")
    try:
        assert await again.recording_state(recording_id) == "active"
        with pytest.raises(CallRecordingConflict):
            await again.start_recording(ROOM, MP3)
    finally:
        await again.aclose()


async def test_local_serves_nothing_outside_its_store(local: LocalCallRecorder, tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"not a recording")
    recording_id = await local.start_recording(ROOM, MP3)
    await local.stop_recording(recording_id)
    source = tmp_path / "captured.mp3"
    source.write_bytes(b"ID3")
    [chunk] = _chunks(await local.deliver_file(recording_id, source))
    for location in (
        chunk["contentLocation"].replace(chunk["documentId"], "../../../secret"),
        chunk["contentLocation"].replace("/content/audio", "/../../../secret"),
        chunk["contentLocation"].replace("/content/audio", "/content"),
        chunk["deleteLocation"],
    ):
        with pytest.raises(CommunicationRejected):
            await _download(local, location)


async def test_local_cannot_cut_an_mp4(local: LocalCallRecorder, tmp_path: Path) -> None:
    recording_id = await local.start_recording(ROOM, RecordingRequest("audio-video", "mixed", "mp4"))
    await local.stop_recording(recording_id)
    source = tmp_path / "captured.mp4"
    source.write_bytes(secrets.token_bytes(1000))
    with pytest.raises(ValueError, match="mp4"):
        await local.deliver_file(recording_id, source, chunk_bytes=100)
    [chunk] = _chunks(await local.deliver_file(recording_id, source))
    assert chunk["contentLocation"].endswith("/content/video")


# --- real-time transcription (live captions) ---------------------------------------------------------------

TRANSPORT = "wss://captions.example/ws/meeting-1/recording-1"
CALLBACK = "https://captions.example/callbacks/meeting-1/recording-1"


async def test_a_call_is_connected_with_transcription_and_left_again(acs: Harness) -> None:
    connection = await acs.recorder.start_transcription(ROOM, TRANSPORT, "en-US", callback_url=CALLBACK)
    assert connection
    await acs.recorder.stop_transcription(connection)
    await acs.recorder.stop_transcription(connection)  # gone already: no error
    if isinstance(acs, AcsHarness):
        asked = acs.server.state.connections[connection]
        assert asked["locator"] == ["roomCallLocator", ROOM.id]
        assert asked["callbackUri"] == CALLBACK
        # What ACS needs to stream to the captions service: the WebSocket, the locale, started at once, with
        # the intermediate results that make captions live.
        assert asked["transcription"] == {
            "transportUrl": TRANSPORT,
            "transportType": "websocket",
            "locale": "en-US",
            "startTranscription": True,
            "enableIntermediateResults": True,
        }
        assert asked["transcriptionStopped"] is True
        assert asked["state"] == "disconnected"


async def test_a_transport_that_is_no_websocket_is_rejected(acs: Harness) -> None:
    with pytest.raises(CommunicationRejected):
        await acs.recorder.start_transcription(
            ROOM, "https://captions.example/ws/m/r", "en-US", callback_url=CALLBACK
        )


async def test_an_ended_call_cannot_be_transcribed(acs: Harness) -> None:
    if not isinstance(acs, AcsHarness):
        pytest.skip("the stand-in has no calls to end: its calls are the rooms")
    acs.server.end_call("roomCallLocator", ROOM.id)
    with pytest.raises(CallRecordingNotFound):
        await acs.recorder.start_transcription(ROOM, TRANSPORT, "en-US", callback_url=CALLBACK)
