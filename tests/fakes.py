"""In-memory stand-ins for the ports, faithful enough to run the contract suites the real adapters pass.

`InMemoryStore` behaves like the stores (ETags, version-guarded membership entries, keyset paging with an
opaque continuation) and counts operations as SqliteStore does. `FakeCommunication` behaves like ACS as
the local stand-in does, records every call it receives, and can be told to fail the next call.
Both can share a `journal` so a test can assert the order of ACS calls and store writes.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.adapters import keyset
from shared.adapters.local_communication import check_room_window
from shared.domain.erasure import Erasure
from shared.domain.models import AcsIdentity, Meeting, Membership, Role
from shared.domain.recordings import Recording, RecordingStatus
from shared.ports import (
    AccessToken,
    AlreadyExists,
    CallLocator,
    CallRecordingConflict,
    CallRecordingNotFound,
    CallRecordingState,
    CommunicationError,
    CommunicationRejected,
    EtagMismatch,
    ModelUsage,
    Page,
    RecordingRequest,
    RoomMember,
    RoomNotFound,
    Stored,
    Summarization,
    TranscribedSegment,
    TranscriberLimits,
    Transcription,
    TranscriptionContext,
)
from shared.summaries import ActionItem, Chapter, Decision, SummaryContent
from shared.timefmt import iso
from shared.transcripts import Transcript

Journal = list[tuple[str, ...]]


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def _etag() -> str:
    return f'"{uuid.uuid4()}"'


class InMemoryStore:
    """The Store protocol in dictionaries. Values are copied in and out, as a real store serializes them."""

    def __init__(self, journal: Journal | None = None) -> None:
        self._meetings: dict[str, Stored[Meeting]] = {}
        # meetingId -> recordingId -> the stored recording (the meeting's partition).
        self._recordings: dict[str, dict[str, Stored[Recording]]] = {}
        self._call_recordings: dict[str, tuple[str, str]] = {}
        self._memberships: dict[str, dict[str, Membership]] = {}
        self._tombstones: dict[str, dict[str, int]] = {}
        self._identities: dict[str, AcsIdentity] = {}
        self._erasures: dict[str, Stored[Erasure]] = {}
        self.operations: dict[str, int] = {"reads": 0, "queries": 0, "writes": 0}
        # Writes that changed something, in order: ("create_meeting", id), ("replace_meeting", id), ...
        self.journal: Journal = journal if journal is not None else []
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    # --- meetings ----------------------------------------------------------------------------------

    async def create_meeting(self, meeting: Meeting) -> str:
        self.operations["writes"] += 1
        if meeting.id in self._meetings:
            raise AlreadyExists(meeting.id)
        etag = _etag()
        self._meetings[meeting.id] = Stored(meeting.model_copy(deep=True), etag)
        self.journal.append(("create_meeting", meeting.id))
        return etag

    async def get_meeting(self, meeting_id: str) -> Stored[Meeting] | None:
        self.operations["reads"] += 1
        stored = self._meetings.get(meeting_id)
        if stored is None:
            return None
        return Stored(stored.value.model_copy(deep=True), stored.etag)

    async def replace_meeting(self, meeting: Meeting, etag: str) -> str:
        self.operations["writes"] += 1
        stored = self._meetings.get(meeting.id)
        if stored is None or stored.etag != etag:
            raise EtagMismatch(meeting.id)
        new_etag = _etag()
        self._meetings[meeting.id] = Stored(meeting.model_copy(deep=True), new_etag)
        self.journal.append(("replace_meeting", meeting.id))
        return new_etag

    # --- recordings --------------------------------------------------------------------------------

    async def create_recording(self, recording: Recording) -> str:
        self.operations["writes"] += 1
        partition = self._recordings.setdefault(recording.meeting_id, {})
        if recording.id in partition:
            raise AlreadyExists(recording.id)
        etag = _etag()
        partition[recording.id] = Stored(recording.model_copy(deep=True), etag)
        self.journal.append(("create_recording", recording.meeting_id, recording.id))
        return etag

    async def get_recording(self, meeting_id: str, recording_id: str) -> Stored[Recording] | None:
        self.operations["reads"] += 1
        stored = self._recordings.get(meeting_id, {}).get(recording_id)
        if stored is None:
            return None
        return Stored(stored.value.model_copy(deep=True), stored.etag)

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        self.operations["writes"] += 1
        partition = self._recordings.get(recording.meeting_id, {})
        stored = partition.get(recording.id)
        if stored is None or stored.etag != etag:
            raise EtagMismatch(recording.id)
        new_etag = _etag()
        partition[recording.id] = Stored(recording.model_copy(deep=True), new_etag)
        self.journal.append(("replace_recording", recording.meeting_id, recording.id))
        return new_etag

    async def list_recordings(self, meeting_id: str) -> list[Recording]:
        self.operations["queries"] += 1
        stored = self._recordings.get(meeting_id, {}).values()
        return sorted((s.value.model_copy(deep=True) for s in stored), key=lambda r: (r.created_at, r.id))

    async def list_recordings_by_status(
        self, status: RecordingStatus, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Recording]:
        self.operations["queries"] += 1
        found = [s.value for p in self._recordings.values() for s in p.values() if s.value.status == status]
        ordered = sorted(found, key=lambda r: (r.updated_at, r.id))
        if after is not None:
            ordered = [r for r in ordered if (r.updated_at, r.id) > after]
        return [r.model_copy(deep=True) for r in ordered[:limit]]

    async def list_recordings_transcribed_before(
        self, before: datetime, *, source_kept: bool, limit: int
    ) -> list[Recording]:
        self.operations["queries"] += 1
        found = [
            s.value
            for p in self._recordings.values()
            for s in p.values()
            if s.value.transcript_written_at is not None
            and s.value.transcript_written_at < before
            and not (source_kept and s.value.source_deleted_at is not None)
        ]
        ordered = sorted(found, key=lambda r: r.transcript_written_at or before)
        return [r.model_copy(deep=True) for r in ordered[:limit]]

    async def delete_recording(self, meeting_id: str, recording_id: str) -> None:
        self.operations["writes"] += 1
        if self._recordings.get(meeting_id, {}).pop(recording_id, None) is not None:
            self.journal.append(("delete_recording", meeting_id, recording_id))

    async def put_call_recording_ref(self, acs_recording_id: str, meeting_id: str, recording_id: str) -> None:
        self.operations["writes"] += 1
        self._call_recordings[acs_recording_id] = (meeting_id, recording_id)

    async def get_call_recording_ref(self, acs_recording_id: str) -> tuple[str, str] | None:
        self.operations["reads"] += 1
        return self._call_recordings.get(acs_recording_id)

    # --- users -------------------------------------------------------------------------------------

    async def put_membership(self, membership: Membership) -> None:
        self.operations["writes"] += 1
        if self._version(membership.user_id, membership.meeting_id) > membership.version:
            return
        self._memberships.setdefault(membership.user_id, {})[membership.meeting_id] = membership.model_copy(
            deep=True
        )
        self.journal.append(
            ("put_membership", membership.user_id, membership.meeting_id, str(membership.version))
        )

    async def remove_membership(self, user_id: str, meeting_id: str, version: int) -> None:
        self.operations["writes"] += 1
        if self._version(user_id, meeting_id) > version:
            return
        # A tombstone keeps the version, so an older write arriving later cannot bring the entry back.
        self._memberships.setdefault(user_id, {}).pop(meeting_id, None)
        self._tombstones.setdefault(user_id, {})[meeting_id] = version
        self.journal.append(("remove_membership", user_id, meeting_id, str(version)))

    def _version(self, user_id: str, meeting_id: str) -> int:
        entry = self._memberships.get(user_id, {}).get(meeting_id)
        if entry is not None:
            return entry.version
        return self._tombstones.get(user_id, {}).get(meeting_id, -1)

    async def list_memberships(
        self,
        user_id: str,
        *,
        ends_after: datetime | None,
        starts_before: datetime | None,
        limit: int,
        continuation: str | None,
    ) -> Page[Membership]:
        self.operations["queries"] += 1
        after = None if continuation is None else keyset.position(continuation)
        entries = sorted(
            self._memberships.get(user_id, {}).values(), key=lambda m: (m.starts_at, m.meeting_id)
        )
        selected = [
            m
            for m in entries
            if (ends_after is None or m.ends_at > ends_after)
            and (starts_before is None or m.starts_at < starts_before)
            and (after is None or (m.starts_at, m.meeting_id) > after)
        ]
        items = [m.model_copy(deep=True) for m in selected[:limit]]
        token = keyset.after(items[-1]) if len(selected) > limit else None
        return Page(items, token)

    async def get_identity(self, user_id: str) -> AcsIdentity | None:
        self.operations["reads"] += 1
        identity = self._identities.get(user_id)
        return None if identity is None else identity.model_copy()

    async def create_identity(self, identity: AcsIdentity) -> None:
        self.operations["writes"] += 1
        if identity.user_id in self._identities:
            raise AlreadyExists(identity.user_id)
        self._identities[identity.user_id] = identity.model_copy()
        self.journal.append(("create_identity", identity.user_id))

    async def purge_user(self, user_id: str) -> int:
        self.operations["writes"] += 1
        gone = len(self._memberships.pop(user_id, {})) + len(self._tombstones.pop(user_id, {}))
        gone += self._identities.pop(user_id, None) is not None
        self.journal.append(("purge_user", user_id))
        return gone

    async def get_erasure(self, key: str) -> Stored[Erasure] | None:
        self.operations["reads"] += 1
        found = self._erasures.get(key)
        return None if found is None else Stored(found.value.model_copy(deep=True), found.etag)

    async def put_erasure(self, erasure: Erasure, etag: str | None) -> str:
        self.operations["writes"] += 1
        found = self._erasures.get(erasure.key)
        if etag is None and found is not None:
            raise AlreadyExists(erasure.key)
        if etag is not None and (found is None or found.etag != etag):
            raise EtagMismatch(erasure.key)
        new_etag = _etag()
        self._erasures[erasure.key] = Stored(erasure.model_copy(deep=True), new_etag)
        return new_etag


_MIN_LIFETIME = timedelta(minutes=60)
_MAX_LIFETIME = timedelta(hours=24)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeCommunication:
    """ACS in memory. `calls` holds every call received, as ("method", arguments as text, ...):

    ("create_room", validFrom, validUntil), ("update_room", roomId, validFrom, validUntil),
    ("delete_room", roomId), ("upsert_room_members", roomId, "acsId=role", ...),
    ("remove_room_members", roomId, acsId, ...), ("create_user",), ("delete_user", acsId),
    ("issue_token", acsId, scopes, seconds), ("revoke_tokens", acsId).
    """

    endpoint_url = "https://acs.fake.invalid/"

    def __init__(self, clock: Callable[[], datetime] = _utc_now, journal: Journal | None = None) -> None:
        self._clock = clock
        self._journal = journal
        self.calls: Journal = []
        self.failed: Journal = []
        self.rooms: dict[str, tuple[datetime, datetime]] = {}
        self.members: dict[str, dict[str, Role]] = {}
        self.users: set[str] = set()
        # A token is valid while its serial is above the user's revocation mark.
        self._revoked_below: dict[str, int] = {}
        self._tokens: dict[str, tuple[str, int]] = {}
        self._serial = itertools.count(1)
        self._failures: list[tuple[str | None, CommunicationError]] = []
        self.closed = False

    @property
    def endpoint(self) -> str:
        return self.endpoint_url

    def fail_next(self, error: CommunicationError, *, method: str | None = None) -> None:
        """The next call (of `method`, or any call) raises `error` instead of doing anything.

        Queued failures apply in order; e.g. `fail_next(CommunicationUnavailable("busy", retry_after=7))`.
        """
        self._failures.append((method, error))

    def _record(self, *call: str) -> None:
        self.calls.append(call)
        if self._journal is not None:
            self._journal.append(call)
        for index, (method, error) in enumerate(self._failures):
            if method is None or method == call[0]:
                del self._failures[index]
                self.failed.append(call)
                raise error

    def calls_to(self, method: str) -> Journal:
        return [call for call in self.calls if call[0] == method]

    async def aclose(self) -> None:
        self.closed = True

    # --- rooms -------------------------------------------------------------------------------------

    async def create_room(self, valid_from: datetime, valid_until: datetime) -> str:
        self._record("create_room", iso(valid_from), iso(valid_until))
        check_room_window(valid_from, valid_until, self._clock())
        room_id = str(uuid.uuid4().int)[:17]
        self.rooms[room_id] = (valid_from, valid_until)
        self.members[room_id] = {}
        return room_id

    async def update_room(self, room_id: str, valid_from: datetime, valid_until: datetime) -> None:
        self._record("update_room", room_id, iso(valid_from), iso(valid_until))
        check_room_window(valid_from, valid_until, self._clock())
        if room_id not in self.rooms:
            raise RoomNotFound(room_id)
        self.rooms[room_id] = (valid_from, valid_until)

    async def delete_room(self, room_id: str) -> None:
        self._record("delete_room", room_id)
        self.rooms.pop(room_id, None)
        self.members.pop(room_id, None)

    async def upsert_room_members(self, room_id: str, members: Sequence[RoomMember]) -> None:
        self._record("upsert_room_members", room_id, *(f"{m.acs_user_id}={m.role.value}" for m in members))
        if room_id not in self.rooms:
            raise RoomNotFound(room_id)
        for member in members:
            self.members[room_id][member.acs_user_id] = member.role

    async def remove_room_members(self, room_id: str, acs_user_ids: Sequence[str]) -> None:
        self._record("remove_room_members", room_id, *acs_user_ids)
        if room_id not in self.rooms:
            raise RoomNotFound(room_id)
        for acs_user_id in acs_user_ids:
            self.members[room_id].pop(acs_user_id, None)

    async def room_members(self, room_id: str) -> dict[str, str]:
        """What the room holds now (acs user id to role), as LocalCommunication.room_members."""
        return {user: role.value for user, role in self.members.get(room_id, {}).items()}

    async def room_window(self, room_id: str) -> tuple[str, str] | None:
        window = self.rooms.get(room_id)
        return None if window is None else (iso(window[0]), iso(window[1]))

    # --- identities and tokens ---------------------------------------------------------------------

    async def create_user(self) -> str:
        self._record("create_user")
        acs_user_id = f"8:fake:{uuid.uuid4()}"
        self.users.add(acs_user_id)
        return acs_user_id

    async def delete_user(self, acs_user_id: str) -> None:
        self._record("delete_user", acs_user_id)
        self.users.discard(acs_user_id)
        for members in self.members.values():
            members.pop(acs_user_id, None)
        # A deleted identity's tokens stop working with it.
        self._revoked_below[acs_user_id] = next(self._serial)

    async def issue_token(self, acs_user_id: str, scopes: Sequence[str], lifetime: timedelta) -> AccessToken:
        self._record("issue_token", acs_user_id, " ".join(scopes), str(int(lifetime.total_seconds())))
        if not _MIN_LIFETIME <= lifetime <= _MAX_LIFETIME:
            raise CommunicationRejected("a token lives between 60 minutes and 24 hours")
        self._require_user(acs_user_id)
        serial = next(self._serial)
        token = f"fake-acs-token.{serial}.{uuid.uuid4().hex}"
        self._tokens[token] = (acs_user_id, serial)
        return AccessToken(token, (self._clock() + lifetime).replace(microsecond=0))

    async def revoke_tokens(self, acs_user_id: str) -> None:
        self._record("revoke_tokens", acs_user_id)
        self._require_user(acs_user_id)
        self._revoked_below[acs_user_id] = next(self._serial)

    async def verify_token(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it was issued here and not revoked since; else None."""
        found = self._tokens.get(token)
        if found is None:
            return None
        acs_user_id, serial = found
        if serial < self._revoked_below.get(acs_user_id, 0):
            return None
        return {"sub": acs_user_id}

    def _require_user(self, acs_user_id: str) -> None:
        if acs_user_id not in self.users:
            raise CommunicationRejected(f"unknown ACS identity {acs_user_id}")


class FakeTranscriber:
    """Speech to text without speech: one segment per piece, saying where the piece is, instantly.

    A segment's text names the piece (`piece 3 at 12.48s`, counted per call) and spans the piece's audio,
    so tests can check offsets and resumption. `fail` queues exceptions raised by the next calls (None
    means: answer normally); `gate`, when set, makes every call wait for it (to hold a job mid-way).
    """

    def __init__(
        self, *, max_piece_seconds: float = 600, max_piece_bytes: int = 24 * 1024 * 1024, concurrency: int = 2
    ) -> None:
        self._limits = TranscriberLimits(
            max_piece_bytes=max_piece_bytes, max_piece_seconds=max_piece_seconds, concurrency=concurrency
        )
        self.calls: list[float] = []  # the duration of each piece received
        self.contexts: list[TranscriptionContext | None] = []  # the context each piece came with
        self.fail: list[BaseException | None] = []
        self.gate: asyncio.Event | None = None
        self.closed = False

    @property
    def name(self) -> str:
        return "fake:instant"

    @property
    def limits(self) -> TranscriberLimits:
        return self._limits

    async def transcribe(
        self, wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        self.contexts.append(context)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            failure = self.fail.pop(0)
            if failure is not None:
                raise failure
        seconds = (len(wav) - 44) / 32000
        self.calls.append(seconds)
        text = f"piece {len(self.calls)} of {seconds:.2f}s"
        return Transcription([TranscribedSegment(0.0, seconds, text)], language or "en")

    async def aclose(self) -> None:
        self.closed = True


class FakeSummarizer:
    """Notes without a model: the first segment as overview, one chapter over the transcript, instantly.

    `fail` queues exceptions for the next calls (None: answer normally); `calls` counts calls.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.fail: list[BaseException | None] = []
        self.closed = False

    @property
    def name(self) -> str:
        return "fake:notes"

    async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
        if self.fail:
            failure = self.fail.pop(0)
            if failure is not None:
                raise failure
        self.calls += 1
        texts = [s.text for s in transcript.segments]
        content = SummaryContent(
            overview=f"{title or 'A meeting'}: {texts[0] if texts else 'nothing was said'}",
            key_points=texts[:3],
            decisions=[Decision(text=texts[-1])] if texts else [],
            # Owned by the first segment's speaker, as the transcript names them (null where unknown).
            action_items=[
                ActionItem(
                    owner=transcript.speaker_name(transcript.segments[0].speaker), task="Follow up", due=None
                )
            ]
            if texts
            else [],
            chapters=[
                Chapter(title="All of it", start=0, end=transcript.duration_seconds, summary="Everything.")
            ]
            if texts
            else [],
            open_questions=[],
        )
        return Summarization(content, ModelUsage(requests=1, input_tokens=10 * len(texts), output_tokens=42))

    async def aclose(self) -> None:
        self.closed = True


class FakeCallRecorder:
    """ACS Call Automation's recording in memory: one active recording per call, files by location.

    `files` maps a location to the bytes a download gives; `fail_downloads` queues exceptions for the
    next downloads; `calls` records every call as ("method", argument).
    """

    def __init__(self) -> None:
        self.recordings: dict[str, tuple[CallLocator, str]] = {}  # id -> (call, "active"|"paused"|"stopped")
        self.files: dict[str, bytes] = {}
        self.fail_downloads: list[BaseException] = []
        self.fail_next: list[BaseException] = []
        self.calls: list[tuple[str, str]] = []
        self.transcriptions: dict[str, dict[str, str]] = {}
        self.closed = False

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    async def start_recording(self, call: CallLocator, request: RecordingRequest) -> str:
        self.calls.append(("start", call.id))
        self._maybe_fail()
        if any(c == call and state != "stopped" for c, state in self.recordings.values()):
            raise CallRecordingConflict(f"call {call.id} is being recorded")
        recording_id = f"acs-rec-{len(self.recordings) + 1}/+="
        self.recordings[recording_id] = (call, "active")
        return recording_id

    def _set(self, recording_id: str, method: str, state: str) -> None:
        self.calls.append((method, recording_id))
        self._maybe_fail()
        if recording_id not in self.recordings:
            raise CallRecordingNotFound(recording_id)
        self.recordings[recording_id] = (self.recordings[recording_id][0], state)

    async def pause_recording(self, recording_id: str) -> None:
        self._set(recording_id, "pause", "paused")

    async def resume_recording(self, recording_id: str) -> None:
        self._set(recording_id, "resume", "active")

    async def stop_recording(self, recording_id: str) -> None:
        self._set(recording_id, "stop", "stopped")

    async def start_transcription(
        self, call: CallLocator, transport_url: str, locale: str, *, callback_url: str
    ) -> str:
        self.calls.append(("start_transcription", call.id))
        self._maybe_fail()
        connection_id = f"connection-{len(self.transcriptions) + 1}"
        self.transcriptions[connection_id] = {
            "call": call.id, "transport": transport_url, "locale": locale, "callback": callback_url,
            "state": "active",
        }  # fmt: skip
        return connection_id

    async def stop_transcription(self, call_connection_id: str) -> None:
        self.calls.append(("stop_transcription", call_connection_id))
        self._maybe_fail()
        if call_connection_id in self.transcriptions:
            self.transcriptions[call_connection_id]["state"] = "stopped"

    async def recording_state(self, recording_id: str) -> CallRecordingState:
        if recording_id not in self.recordings:
            raise CallRecordingNotFound(recording_id)
        return "inactive" if self.recordings[recording_id][1] != "active" else "active"

    def download(self, location: str, *, chunk_size: int = 4 * 1024 * 1024) -> AsyncIterator[bytes]:
        return self._download(location, chunk_size)

    async def _download(self, location: str, chunk_size: int) -> AsyncIterator[bytes]:
        self.calls.append(("download", location))
        if self.fail_downloads:
            raise self.fail_downloads.pop(0)
        if location not in self.files:
            raise CallRecordingNotFound(location)
        data = self.files[location]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def aclose(self) -> None:
        self.closed = True
