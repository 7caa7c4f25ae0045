"""The embedded stand-in for ACS Call Automation's call recording.

Recording state lives in SQLite under DATA_DIR with ACS's rules: one recording at a time per call
(CallRecordingConflict), pause and resume only until it is stopped, stop idempotent, and the content,
channels and format combinations ACS records (the port's RECORDING_FORMATS; others CommunicationRejected).

Nothing is recorded here: `deliver_file` plays ACS's part once a recording has ended. It takes the file
"recorded" (optionally cut into chunks), writes ACS-shaped metadata beside it, and returns the
RecordingFileStatusUpdated Event Grid event ACS would publish. The event's locations are URLs of this
stand-in's own (`http://127.0.0.1/local-acs/recordings/...`, never fetched over the network), which only
its `download` serves, from DATA_DIR/local-acs-recordings.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from shared.adapters.acs_events import (
    RecordedCall,
    RecordedChunk,
    chunk_durations,
    recording_file_event,
    recording_metadata,
    split_recording,
)
from shared.adapters.local_call_audio import CallStream, play
from shared.adapters.sqlite_database import SqliteDatabase
from shared.ports import (
    RECORDING_FORMATS,
    CallLocator,
    CallRecordingConflict,
    CallRecordingNotFound,
    CallRecordingState,
    CommunicationRejected,
    RecordingRequest,
    Transcriber,
)
from shared.stream_auth import sign_local_stream_token

log = logging.getLogger(__name__)

LOCAL_RECORDINGS_URL = "http://127.0.0.1/local-acs/recordings/"
LOCAL_RESOURCE_ID = "10ca1ac5-0000-4000-8000-000000000000"  # the stand-in's "immutable resource id"
LOCAL_TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers"
    "/Microsoft.Communication/communicationServices/local-acs"
)
# {documentId}/content/{audio|video|acsmetadata}, as ACS's storage lays out its objects.
_LOCATION = re.compile(r"(?P<document>0-loc-d1-[0-9a-f]{32})/content/(?P<kind>audio|video|acsmetadata)")
_FILES = {"audio": "content", "video": "content", "acsmetadata": "metadata.json"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS call_recordings (
    recording_id TEXT PRIMARY KEY,
    locator_kind TEXT NOT NULL, locator_id TEXT NOT NULL,
    content TEXT NOT NULL, channels TEXT NOT NULL, format TEXT NOT NULL,
    state TEXT NOT NULL,                  -- active | paused | stopped
    started_at TEXT NOT NULL, stopped_at TEXT,
    pauses TEXT NOT NULL DEFAULT '[]',    -- [[since, until or null], ...]
    event TEXT                            -- the RecordingFileStatusUpdated event, once delivered
);
CREATE UNIQUE INDEX IF NOT EXISTS call_recordings_one_per_call
    ON call_recordings (locator_kind, locator_id) WHERE state != 'stopped';
"""


class LocalCallRecorder:
    def __init__(
        self,
        data_dir: Path,
        *,
        signing_key: bytes = b"",
        transcriber: Transcriber | None = None,
        call_audio: Path | None = None,
        call_audio_speed: float = 1.0,
        room_members: Callable[[str], Awaitable[Sequence[str]]] | None = None,
    ) -> None:
        """`call_audio`: the file played as the audio of every call connected with transcription (none:
        connecting transcribes nothing until `play` is called), by `transcriber`, `call_audio_speed` times
        real time; `room_members` names the ACS raw ids of a room's members, who speak its channels in
        turn."""
        self._db = SqliteDatabase(data_dir / "local-acs-recordings.sqlite3", _SCHEMA)
        self._files = data_dir / "local-acs-recordings"
        self._signing_key = signing_key
        self._transcriber = transcriber
        self._call_audio = call_audio
        self._speed = call_audio_speed
        self._room_members = room_members
        self._streams: dict[str, CallStream] = {}
        self._players: dict[str, asyncio.Task[None]] = {}

    async def aclose(self) -> None:
        for task in list(self._players.values()):
            task.cancel()
        await asyncio.gather(*self._players.values(), return_exceptions=True)
        await self._db.close()

    # --- real-time transcription ---------------------------------------------------------------------

    async def start_transcription(
        self, call: CallLocator, transport_url: str, locale: str, *, callback_url: str
    ) -> str:
        if not transport_url.startswith(("ws://", "wss://")):
            raise CommunicationRejected("the transcription's transport URL must be a WebSocket's")
        if not locale:
            raise CommunicationRejected("a transcription needs a locale")
        connection_id = str(uuid.uuid4())
        self._streams[connection_id] = CallStream(
            call_connection_id=connection_id,
            transport_url=transport_url,
            callback_url=callback_url,
            locale=locale,
            token=lambda: sign_local_stream_token(self._signing_key, LOCAL_RESOURCE_ID),
        )
        if self._call_audio is not None and self._transcriber is not None:
            members = (
                list(await self._room_members(call.id)) if self._room_members and call.kind == "room" else []
            )
            self.play(connection_id, self._call_audio, members, speed=self._speed)
        return connection_id

    def play(
        self,
        call_connection_id: str,
        source: Path,
        speakers: Sequence[str],
        *,
        speed: float | None = None,
        sent: Callable[[str], None] | None = None,
    ) -> asyncio.Task[None]:
        """Plays `source` as the connected call's audio (channel i spoken by `speakers[i]`), in the
        background; the call ends when it does."""
        stream = self._streams.get(call_connection_id)
        if stream is None or self._transcriber is None:
            raise CallRecordingNotFound(f"no call connection {call_connection_id} transcribes here")
        transcriber = self._transcriber

        async def run() -> None:
            try:
                await play(stream, source, speakers, transcriber, speed=speed or self._speed, sent=sent)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("playing %s into the call failed", source.name)
            finally:
                self._players.pop(call_connection_id, None)

        task = asyncio.ensure_future(run())
        self._players[call_connection_id] = task
        return task

    async def stop_transcription(self, call_connection_id: str) -> None:
        self._streams.pop(call_connection_id, None)
        task = self._players.pop(call_connection_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- recording -----------------------------------------------------------------------------------

    async def start_recording(self, call: CallLocator, request: RecordingRequest) -> str:
        if request.format not in RECORDING_FORMATS.get((request.content, request.channels), ()):
            raise CommunicationRejected(
                f"ACS does not record {request.content} {request.channels} content as {request.format}"
            )
        recording_id = _recording_id()
        row = (recording_id, call.kind, call.id, request.content, request.channels, request.format)
        try:
            await self._db.write(
                lambda c: c.execute(
                    "INSERT INTO call_recordings (recording_id, locator_kind, locator_id, content, channels,"
                    " format, state, started_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?)",
                    (*row, _now()),
                )
            )
        except sqlite3.IntegrityError:
            raise CallRecordingConflict(f"the {call.kind} call {call.id} is being recorded already") from None
        return recording_id

    async def pause_recording(self, recording_id: str) -> None:
        await self._change(recording_id, "pause")

    async def resume_recording(self, recording_id: str) -> None:
        await self._change(recording_id, "resume")

    async def stop_recording(self, recording_id: str) -> None:
        # Unknown counts as stopped already, as with ACS (which forgets ended recordings).
        await self._change(recording_id, "stop")

    async def recording_state(self, recording_id: str) -> CallRecordingState:
        row = self._db.read(
            lambda c: c.execute(
                "SELECT state FROM call_recordings WHERE recording_id = ?", (recording_id,)
            ).fetchone()
        )
        if row is None:
            raise CallRecordingNotFound(recording_id)
        return "active" if row[0] == "active" else "inactive"

    async def _change(self, recording_id: str, action: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute(
                    "SELECT state, pauses FROM call_recordings WHERE recording_id = ?", (recording_id,)
                ).fetchone()
                state, pauses = _changed(recording_id, action, row)
                c.execute(
                    "UPDATE call_recordings SET state = ?, pauses = ?,"
                    " stopped_at = CASE WHEN ? = 'stopped' THEN ? ELSE stopped_at END"
                    " WHERE recording_id = ?",
                    (state, json.dumps(pauses), state, _now(), recording_id),
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

        await self._db.write(work)

    # --- what ACS does once a recording has ended ----------------------------------------------------

    async def deliver_file(
        self,
        recording_id: str,
        source: Path,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Stores `source` as what the stopped recording captured and returns ACS's event for it.

        `participants` are (ACS raw id, channel) pairs for the metadata (unmixed audio: who is on which
        channel). `chunk_bytes` cuts the file into chunks of about that size, as ACS cuts long
        recordings (MP3 and PCM WAV only). A recording is delivered once: `recording_event` gives the
        same event again, for a redelivery. `prepare_file` and `mark_delivered` are its two halves.
        """
        event = await self.prepare_file(
            recording_id, source, participants=participants, chunk_bytes=chunk_bytes
        )
        try:
            await self.mark_delivered(recording_id, event)
        except BaseException:
            await self.discard_files(event)
            raise
        return event

    async def prepare_file(
        self,
        recording_id: str,
        source: Path,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> dict[str, Any]:
        """`deliver_file` up to the event, the recording not yet marked delivered: until `mark_delivered`
        it can be delivered again (devhost's command marks it once the running app took the event, so a
        wrong port or a stopped devhost leaves nothing stranded). `discard_files` drops what it stored."""
        session = self._session(recording_id)
        if session["state"] != "stopped":
            raise CallRecordingConflict(f"recording {recording_id} has not ended: stop it first")
        if session["event"] is not None:
            raise CallRecordingConflict(f"recording {recording_id} was delivered already")
        file_format = session["format"]
        if source.suffix.lower() in (".mp3", ".wav", ".mp4") and source.suffix.lower() != f".{file_format}":
            raise ValueError(f"recording {recording_id} records {file_format}, not {source.name}")
        call = _recorded_call(session)
        parts = await asyncio.to_thread(self._store, source, file_format, chunk_bytes)
        durations = chunk_durations(call.duration_ms, [size for _, size in parts])
        kind = "video" if file_format == "mp4" else "audio"
        chunks: list[RecordedChunk] = []
        started = call.started_at
        for index, ((document_id, _), duration) in enumerate(zip(parts, durations, strict=True)):
            location = f"{LOCAL_RECORDINGS_URL}{document_id}"
            chunk = RecordedChunk(
                document_id=document_id,
                index=index,
                content_location=f"{location}/content/{kind}",
                metadata_location=f"{location}/content/acsmetadata",
                delete_location=location,
                duration_ms=duration,
                started_at=started,
                end_reason="SessionEnded" if index == len(parts) - 1 else "ChunkMaximumSizeExceeded",
            )
            metadata = recording_metadata(call, chunk, participants)
            await asyncio.to_thread(
                (self._files / document_id / "metadata.json").write_text, json.dumps(metadata)
            )
            chunks.append(chunk)
            started += timedelta(milliseconds=duration)
        return recording_file_event(call, chunks, topic=LOCAL_TOPIC)

    async def mark_delivered(self, recording_id: str, event: dict[str, Any]) -> None:
        """Records `event` as the recording's delivery; CallRecordingConflict if one was recorded first."""
        stored = await self._db.write(
            lambda c: (
                c.execute(
                    "UPDATE call_recordings SET event = ? WHERE recording_id = ? AND event IS NULL",
                    (json.dumps(event), recording_id),
                ).rowcount
            )
        )
        if not stored:
            raise CallRecordingConflict(f"recording {recording_id} was delivered already")

    async def discard_files(self, event: dict[str, Any]) -> None:
        """Removes the files `prepare_file` stored for `event` (never delivered: nothing refers to them)."""
        for chunk in event["data"]["recordingStorageInfo"]["recordingChunks"]:
            await asyncio.to_thread(shutil.rmtree, self._files / chunk["documentId"], ignore_errors=True)

    async def recording_event(self, recording_id: str) -> dict[str, Any]:
        """The event `deliver_file` returned, again (Event Grid delivers at least once)."""
        event = self._session(recording_id)["event"]
        if event is None:
            raise CallRecordingNotFound(f"recording {recording_id} has not been delivered")
        return cast(dict[str, Any], json.loads(event))

    async def expire_files(self, recording_id: str) -> None:
        """What ACS does 48 hours after delivery: the files are gone, downloads are CallRecordingNotFound."""
        event = json.loads(self._session(recording_id)["event"] or "null")
        for chunk in event["data"]["recordingStorageInfo"]["recordingChunks"] if event else []:
            await asyncio.to_thread(shutil.rmtree, self._files / chunk["documentId"], ignore_errors=True)

    def _store(self, source: Path, file_format: str, chunk_bytes: int | None) -> list[tuple[str, int]]:
        """Copies (or cuts) the file into the store; (document id, size) of each chunk, in order."""
        if not source.is_file():
            raise FileNotFoundError(source)
        documents: list[str] = []

        def document() -> Path:
            documents.append(f"0-loc-d1-{uuid.uuid4().hex}")
            (self._files / documents[-1]).mkdir(parents=True)
            return self._files / documents[-1] / "content"

        if chunk_bytes is None:
            shutil.copyfile(source, document())  # streams: a long recording never sits in memory whole
        else:
            with source.open("rb") as file:
                for part in split_recording(file, file_format, chunk_bytes):
                    document().write_bytes(part)
        return [
            (document_id, (self._files / document_id / "content").stat().st_size) for document_id in documents
        ]

    # --- download ------------------------------------------------------------------------------------

    async def download(self, location: str, *, chunk_size: int = 4 * 1024 * 1024) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        match = _LOCATION.fullmatch(location.removeprefix(LOCAL_RECORDINGS_URL))
        if not location.startswith(LOCAL_RECORDINGS_URL) or match is None:
            raise CommunicationRejected(f"not a location of the local ACS stand-in: {location!r}")
        path = self._files / match["document"] / _FILES[match["kind"]]
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise CallRecordingNotFound(f"the recording file is gone: {location}") from None
        try:
            while block := await asyncio.to_thread(file.read, chunk_size):
                yield block
        finally:
            file.close()

    def _session(self, recording_id: str) -> dict[str, Any]:
        def read(c: sqlite3.Connection) -> dict[str, Any] | None:
            cursor = c.execute("SELECT * FROM call_recordings WHERE recording_id = ?", (recording_id,))
            row = cursor.fetchone()
            return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))

        session = self._db.read(read)
        if session is None:
            raise CallRecordingNotFound(recording_id)
        return session


def _changed(recording_id: str, action: str, row: tuple[str, str] | None) -> tuple[str, list[Any]]:
    """The state and pauses after `action`, by ACS's rules; the errors it answers otherwise."""
    if row is None:
        if action == "stop":
            return "stopped", []  # nothing to update: the UPDATE matches no row
        raise CallRecordingNotFound(recording_id)
    state, pauses = row[0], json.loads(row[1])
    if state == "stopped":
        if action == "stop":
            return state, pauses
        raise CallRecordingConflict(f"recording {recording_id} is stopped: it cannot {action}")
    now = _now()
    if action == "pause" and state == "active":
        return "paused", [*pauses, [now, None]]
    if action in ("resume", "stop") and state == "paused":
        pauses[-1][1] = now
    return {"pause": "paused", "resume": "active", "stop": "stopped"}[action], pauses


def _recorded_call(session: dict[str, Any]) -> RecordedCall:
    started = datetime.fromisoformat(session["started_at"])
    stopped = datetime.fromisoformat(session["stopped_at"])
    pauses = [
        (datetime.fromisoformat(since), datetime.fromisoformat(until or session["stopped_at"]))
        for since, until in json.loads(session["pauses"])
    ]
    paused_ms = sum(_to_ms(until - since) for since, until in pauses)
    kind, locator = session["locator_kind"], session["locator_id"]
    return RecordedCall(
        resource_id=LOCAL_RESOURCE_ID,
        call_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-acs:{kind}:{locator}")),
        # A room's call gets its server call id from ACS; here one made of the room id.
        server_call_id=locator if kind == "server_call" else _b64url(f"local-acs:room:{locator}".encode()),
        recording_id=session["recording_id"],
        request=RecordingRequest(session["content"], session["channels"], session["format"]),
        started_at=started,
        duration_ms=max(0, _to_ms(stopped - started) - paused_ms),
        pauses=[(since, _to_ms(until - since)) for since, until in pauses],
    )


def _recording_id() -> str:
    """Shaped as ACS's: base64url of a small JSON document, no padding."""
    document = {"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())}
    return _b64url(json.dumps(document, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _to_ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
