"""Live captions of the meeting's call: ACS real-time transcription, shown live and kept as a transcript.

The organizer (or a presenter) turns captions on: a recording is created for them (`live` set, status
`recording`), and Call Automation connects to the room's call with transcription, streaming to the
captions service's WebSocket for that recording (`CAPTIONS_URL/ws/{meetingId}/{recordingId}`). The
captions service (captions/) hands each result to a `CaptionStream`: intermediate and final results go to
the meeting's live group as `caption` events (one id per utterance, so a final replaces its
intermediates), and each final is kept in storage once, named by its offset and speaker, so a result ACS
sends again (a reconnect, a retry) finds its blob and changes nothing, and the finals read back in order.

When captions stop (the API, or the call ending: Call Automation's CallDisconnected), `finalize` turns the
finals into the recording's transcript (`source: "live"`), marks it `summarizing` and queues the summary at
once: notes within a minute of the call's end. A recording of the same call transcribed later replaces
that transcript (`replace_live_transcripts`) and has the summary made again, unless a person edited or
approved it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

from shared.domain.errors import Conflict, DomainError, Forbidden, NotFound, Unavailable
from shared.domain.models import Meeting, MeetingStatus, Role
from shared.domain.recording_paths import (
    ARTIFACTS,
    SUMMARY_JOBS,
    TRANSCRIPT_FILES,
    RecordingRef,
    artifact_blob,
    job_message,
)
from shared.domain.recordings import (
    LiveCaptions,
    Recording,
    RecordingError,
    RecordingStage,
    RecordingStatus,
)
from shared.live_captions import TranscriptionData
from shared.logs import bind_meeting, bind_recording
from shared.ports import (
    BlobStore,
    CallLocator,
    CallRecorder,
    CommunicationError,
    QueueStore,
    Store,
    StoreError,
)
from shared.realtime.events import NO_EVENTS, Event, EventPublisher
from shared.services import recording_state
from shared.services.meetings import MeetingService
from shared.timefmt import now as utc_now
from shared.transcripts import Segment, Speaker, Transcript, to_json, to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en-US"
LIVE_PREFIX = "live/"  # below the recording's artifacts: one blob per final caption
_RENDERINGS = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}


def live_blob(meeting_id: str, recording_id: str, result: TranscriptionData) -> str:
    """A final's blob: its offset first (zero-padded, so names sort in time), then its speaker (two
    people can start at the same tick). The same result sent again has the same name."""
    speaker = hashlib.sha256(result.participant_raw_id.encode()).hexdigest()[:12]
    return artifact_blob(meeting_id, recording_id, f"{LIVE_PREFIX}{result.offset:019d}-{speaker}.json")


def stream_urls(captions_url: str, meeting_id: str, recording_id: str) -> tuple[str, str]:
    """(transport URL, callback URL): the WebSocket ACS streams to and where Call Automation posts events."""
    base = captions_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    http = {"wss": "https", "ws": "http"}.get(scheme, scheme)
    return f"{base}/ws/{meeting_id}/{recording_id}", f"{http}://{rest}/callbacks/{meeting_id}/{recording_id}"


def caption_event(meeting_id: str, recording_id: str, result: TranscriptionData, user_id: str | None,
                  display_name: str | None) -> Event:  # fmt: skip
    data: dict[str, object] = {
        "recordingId": recording_id,
        "captionId": result.caption_id,
        "userId": user_id,
        "displayName": display_name,
        "text": result.text,
        "start": round(result.start_seconds, 3),
        "end": round(result.end_seconds, 3),
        "final": result.final,
    }
    # Every revision is its own event (a client deduplicates by id): the text makes it so.
    digest = hashlib.sha256(f"{result.final}/{result.text}".encode()).hexdigest()[:16]
    return Event("caption", meeting_id, data, key=f"{recording_id}/{result.caption_id}/{digest}")


class CaptionsService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        *,
        recorder: CallRecorder,
        meetings: MeetingService,
        captions_url: str | None,
        events: EventPublisher = NO_EVENTS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._queues = queues
        self._recorder = recorder
        self._meetings = meetings
        self._captions_url = captions_url
        self._events = events
        self._clock = clock

    # --- on and off ----------------------------------------------------------------------------------

    async def start(self, caller: str, meeting_id: str, locale: str | None) -> Recording:
        meeting = await self._presenters_meeting(caller, meeting_id)
        return await self._start(meeting, caller, locale or DEFAULT_LOCALE)

    async def _start(self, meeting: Meeting, caller: str, locale: str) -> Recording:
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict(f"meeting {meeting.id} is cancelled")
        if meeting.room_id is None:
            raise Conflict("the meeting has no ACS room, so no call to caption")
        if self._captions_url is None:
            raise Unavailable("live captions are not configured here (CAPTIONS_URL)")
        if any(_captioning(r) for r in await self._store.list_recordings(meeting.id)):
            raise Conflict("captions are on already: stop them first")
        now = self._clock()
        recording = Recording(
            id=_new_id(),
            meeting_id=meeting.id,
            created_by=caller,
            file_name="live-captions.json",
            content_type="application/json",
            size_bytes=0,
            language=locale.split("-", maxsplit=1)[0].lower(),
            status=RecordingStatus.RECORDING,
            stage=RecordingStage.TRANSCRIPT,
            source_blob="",
            live=LiveCaptions(call_kind="room", call_id=meeting.room_id, locale=locale, started_at=now),
            created_at=now,
            updated_at=now,
        )
        bind_recording(recording.id)
        await self._store.create_recording(recording)
        transport, callback = stream_urls(self._captions_url, meeting.id, recording.id)
        try:
            connection = await self._recorder.start_transcription(
                CallLocator("room", meeting.room_id), transport, locale, callback_url=callback
            )
        except CommunicationError as exc:
            detail = f"ACS could not start the transcription: {exc}"
            await self._set(meeting.id, recording.id, lambda r: _failed(r, "captions_not_started", detail))
            raise Conflict(detail) from exc

        def connected(r: Recording) -> Recording | None:
            if r.live is None or r.live.state != "starting":
                return None  # the call ended (or captions stopped) while we connected
            r.live.call_connection_id = connection
            r.live.state = "active"
            return r

        log.info("captions on (call connection %s)", connection)
        return await self._set(meeting.id, recording.id, connected)

    async def auto_start(self, caller: str, meeting: Meeting) -> Recording | None:
        """Someone joined the call: captions start if the meeting says so (`autoCaptions`), once: the first
        join does it, and a meeting that had captions (stopped by a presenter, or refused by ACS) is left to
        its presenters. Never fails the join: a refusal is logged and shows on the captions' recording."""
        if not meeting.auto_captions or self._captions_url is None:
            return None
        if any(r.live is not None for r in await self._store.list_recordings(meeting.id)):
            return None
        try:
            return await self._start(meeting, caller, DEFAULT_LOCALE)
        except (DomainError, StoreError) as exc:
            log.warning("captions did not start by themselves: %s", exc)
            return None

    async def stop(self, caller: str, meeting_id: str) -> Recording:
        await self._presenters_meeting(caller, meeting_id)
        live = [r for r in await self._store.list_recordings(meeting_id) if r.live is not None]
        running = [r for r in live if r.live is not None and r.live.state in ("starting", "active")]
        # Stopped but not finalized (a failure half way): stopping again finishes it.
        unfinished = [r for r in live if r.live is not None and r.live.state == "stopped"]
        if not running and not unfinished:
            raise Conflict("captions are not on")
        target = (running or unfinished)[-1]
        bind_recording(target.id)
        assert target.live is not None
        if target.live.call_connection_id is not None and target.live.state != "stopped":
            try:
                await self._recorder.stop_transcription(target.live.call_connection_id)
            except CommunicationError as exc:
                log.warning("ACS could not stop the transcription (finalizing anyway): %s", exc)
        return await self.finalize(meeting_id, target.id) or target

    async def call_ended(self, meeting_id: str, recording_id: str) -> Recording | None:
        """Call Automation said the call (or our part in it) ended: the captions are over."""
        bind_meeting(meeting_id)
        bind_recording(recording_id)
        return await self.finalize(meeting_id, recording_id)

    # --- the transcript ----------------------------------------------------------------------------------

    async def finalize(self, meeting_id: str, recording_id: str) -> Recording | None:
        """The finals as the recording's transcript, then the summary queued. Idempotent: a recording
        finalized already is left as it is (its summary job is queued again while it is summarizing)."""

        def stopped(r: Recording) -> Recording | None:
            if r.live is None or r.live.state in ("stopped", "finalized"):
                return None
            r.live.state = "stopped"
            r.live.stopped_at = self._clock()
            return r

        stored = await recording_state.update(
            self._store, meeting_id, recording_id, stopped, clock=self._clock, events=self._events
        )
        if stored is None or stored.value.live is None:
            return None
        if stored.value.live.state == "finalized":
            if stored.value.status == RecordingStatus.SUMMARIZING:
                await self._queues.send(SUMMARY_JOBS, job_message(RecordingRef(meeting_id, recording_id)))
            return stored.value
        meeting = await self._store.get_meeting(meeting_id)
        transcript = await self.transcript(stored.value, meeting.value if meeting else None)
        if not transcript.segments:
            detail = "nothing was captioned while captions were on"
            return await self._set(meeting_id, recording_id, lambda r: _finalized_empty(r, detail))
        for fmt, (name, media_type) in TRANSCRIPT_FILES.items():
            body = _RENDERINGS[fmt](transcript).encode()
            await self._blobs.put(
                ARTIFACTS, artifact_blob(meeting_id, recording_id, name), body, content_type=media_type
            )
        names = [name for name, _ in TRANSCRIPT_FILES.values()]

        def announce(r: Recording) -> Recording | None:
            if r.live is None or r.live.state == "finalized":
                return None
            r.live.state = "finalized"
            r.status = RecordingStatus.SUMMARIZING
            r.stage = RecordingStage.SUMMARY
            r.progress = 0.0
            r.duration_seconds = transcript.duration_seconds
            r.artifacts = sorted({*r.artifacts, *names})
            return r

        done = await self._set(meeting_id, recording_id, announce)
        # At once: the notes are what people wait for when the call ends.
        await self._queues.send(SUMMARY_JOBS, job_message(RecordingRef(meeting_id, recording_id)))
        log.info("captions finalized: %d segments; summary queued", len(transcript.segments))
        return done

    async def transcript(self, recording: Recording, meeting: Meeting | None) -> Transcript:
        """The finals kept so far, in order, as a transcript (speakers as the meeting names them now)."""
        prefix = artifact_blob(recording.meeting_id, recording.id, LIVE_PREFIX)
        finals = []
        async for blob in self._blobs.list_blobs(ARTIFACTS, prefix=prefix):
            finals.append(json.loads(await self._blobs.get(ARTIFACTS, blob.name)))
        finals.sort(key=lambda f: (f["start"], f.get("userId") or ""))
        names = meeting.display_names() if meeting is not None else {}
        speakers: dict[str, Speaker] = {}
        segments = []
        for final in finals:
            user = final.get("userId")
            speaker = None
            if user is not None:
                if user not in speakers:
                    label = f"spk_{_label(len(speakers))}"
                    speakers[user] = Speaker(id=label, user_id=user, display_name=names.get(user))
                speaker = speakers[user].id
            segments.append(
                Segment(
                    start=final["start"],
                    end=max(final["end"], final["start"]),
                    speaker=speaker,
                    text=final["text"],
                )
            )
        return Transcript(
            recording_id=recording.id,
            language=recording.language or "und",
            duration_seconds=max((s.end for s in segments), default=0.0),
            source="live",
            speakers=list(speakers.values()),
            segments=segments,
        )

    # --- helpers ---------------------------------------------------------------------------------------

    async def _presenters_meeting(self, caller: str, meeting_id: str) -> Meeting:
        bind_meeting(meeting_id)
        meeting = (await self._meetings.get(caller, meeting_id)).value
        if meeting.role_of(caller) != Role.PRESENTER:
            raise Forbidden("only the organizer and presenters may turn captions on or off")
        return meeting

    async def _set(
        self, meeting_id: str, recording_id: str, change: Callable[[Recording], Recording | None]
    ) -> Recording:
        stored = await recording_state.update(
            self._store, meeting_id, recording_id, change, clock=self._clock, events=self._events
        )
        if stored is None:
            raise NotFound(f"recording {recording_id} was not found")
        return stored.value


def _captioning(recording: Recording) -> bool:
    return recording.live is not None and recording.live.state in ("starting", "active")


def _failed(recording: Recording, code: str, detail: str) -> Recording:
    recording.status = RecordingStatus.FAILED
    recording.error = RecordingError(code=code, detail=detail)
    if recording.live is not None:
        recording.live.state = "finalized"
    return recording


def _finalized_empty(recording: Recording, detail: str) -> Recording | None:
    if recording.live is None or recording.live.state == "finalized":
        return None
    return _failed(recording, "captions_empty", detail)


def _label(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _new_id() -> str:
    import uuid  # noqa: PLC0415

    return str(uuid.uuid4())


# --- one WebSocket of ACS's, in the captions service -------------------------------------------------------

SPEAKERS_TTL_SECONDS = 30.0  # how long the raw id -> user map holds before the meeting is read again


class CaptionStream:
    """The results of one of ACS's WebSocket connections for a captions recording.

    ACS may connect again (a dropped connection) and send a result again: finals are kept once (their blob
    is their identity), and a result for an utterance whose final was seen is dropped, so an intermediate
    that arrives late never replaces the final on anyone's screen.
    """

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        meeting_id: str,
        recording_id: str,
        *,
        events: EventPublisher = NO_EVENTS,
        monotonic: Callable[[], float] | None = None,
        speakers_ttl: float = SPEAKERS_TTL_SECONDS,
    ) -> None:
        import time  # noqa: PLC0415

        self._store = store
        self._blobs = blobs
        self._meeting_id = meeting_id
        self._recording_id = recording_id
        self._events = events
        self._monotonic = monotonic or time.monotonic
        self._ttl = speakers_ttl
        self._finals: set[str] = set()
        self._users: dict[str, str] = {}  # ACS raw id -> user id, of the meeting's participants now
        self._names: dict[str, str] = {}
        self._read_at: float | None = None
        self._connection_id: str | None = None

    async def open(self) -> None:
        """Checks that the URL names captions that are on: NotFound / Conflict otherwise (before the
        WebSocket is accepted)."""
        stored = await self._store.get_recording(self._meeting_id, self._recording_id)
        if stored is None or stored.value.live is None:
            raise NotFound("no such captions")
        if stored.value.live.state not in ("starting", "active"):
            raise Conflict("these captions are over")
        self._connection_id = stored.value.live.call_connection_id
        await self._read_speakers()

    def check_metadata(self, call_connection_id: str) -> None:
        """A stream of another call connection than the one these captions started is refused."""
        if self._connection_id and call_connection_id and call_connection_id != self._connection_id:
            raise Forbidden("the stream is of another call connection")

    async def on_result(self, result: TranscriptionData) -> bool:
        """Publishes (and, for a final, keeps) one result; whether it was new."""
        key = result.utterance_key
        if key in self._finals:
            return False  # a final sent again, or an intermediate overtaken by its final
        user = await self._user_of(result.participant_raw_id)
        if result.final:
            name = live_blob(self._meeting_id, self._recording_id, result)
            if await self._blobs.info(ARTIFACTS, name) is not None:
                self._finals.add(key)  # kept before this connection (ACS reconnected and sent it again)
                return False
            document = {"start": round(result.start_seconds, 3), "end": round(result.end_seconds, 3),
                        "text": result.text, "userId": user}  # fmt: skip
            await self._blobs.put(
                ARTIFACTS, name, json.dumps(document).encode(), content_type="application/json"
            )
            self._finals.add(key)
        display = self._names.get(user) if user is not None else None
        await self._events.publish_live(
            caption_event(self._meeting_id, self._recording_id, result, user, display)
        )
        return True

    async def _user_of(self, raw_id: str) -> str | None:
        stale = self._read_at is None or self._monotonic() - self._read_at >= self._ttl
        if stale or (
            raw_id and raw_id not in self._users and self._monotonic() - (self._read_at or 0) >= 1.0
        ):
            await self._read_speakers()
        return self._users.get(raw_id)

    async def _read_speakers(self) -> None:
        """The meeting's participants now, by their ACS identity: one removed meanwhile is nobody's."""
        self._read_at = self._monotonic()
        meeting = await self._store.get_meeting(self._meeting_id)
        if meeting is None:
            self._users, self._names = {}, {}
            return
        users: dict[str, str] = {}
        for participant in meeting.value.participants:
            identity = await self._store.get_identity(participant.user_id)
            if identity is not None:
                users[identity.acs_user_id] = participant.user_id
        self._users, self._names = users, meeting.value.display_names()


# --- a recording of the call replaces the live transcript ---------------------------------------------------


async def replace_live_transcripts(
    store: Store,
    blobs: BlobStore,
    queues: QueueStore,
    recording: Recording,
    transcript: Transcript,
    *,
    events: EventPublisher = NO_EVENTS,
    clock: Callable[[], datetime] = utc_now,
) -> list[str]:
    """A call recording was transcribed: the live captions of the same call get its transcript (the
    recording's audio, transcribed whole, is the better text), and their summary is made again, unless a
    person edited or approved it (their words are kept). The ids of the captions recordings replaced."""
    if recording.call is None:
        return []
    replaced = []
    for live in await store.list_recordings(recording.meeting_id):
        if (
            live.live is None
            or live.live.call_id != recording.call.call_id
            or live.live.state != "finalized"
            or live.status == RecordingStatus.FAILED
        ):
            continue
        copy = transcript.model_copy(update={"recording_id": live.id, "source": "recording"})
        for fmt, (name, media_type) in TRANSCRIPT_FILES.items():
            await blobs.put(
                ARTIFACTS, artifact_blob(live.meeting_id, live.id, name), _RENDERINGS[fmt](copy).encode(),
                content_type=media_type,
            )  # fmt: skip
        reviewed = any(v.kind in ("edited", "approved") or v.approved for v in live.summary_versions)

        def change(
            r: Recording, reviewed: bool = reviewed, seconds: float = copy.duration_seconds
        ) -> Recording:
            r.duration_seconds = seconds
            if not reviewed and r.status == RecordingStatus.COMPLETED:
                r.status = RecordingStatus.SUMMARIZING
                r.stage = RecordingStage.SUMMARY
                r.progress = 0.0
            return r

        stored = await recording_state.update(
            store, live.meeting_id, live.id, change, clock=clock, events=events
        )
        if stored is not None and stored.value.status == RecordingStatus.SUMMARIZING and not reviewed:
            await queues.send(SUMMARY_JOBS, job_message(RecordingRef(live.meeting_id, live.id)))
        log.info("the live transcript of recording %s was replaced by the call recording's", live.id)
        replaced.append(live.id)
    return replaced
