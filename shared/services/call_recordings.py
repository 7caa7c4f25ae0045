"""Recording the meeting's call with ACS Call Automation, and fetching what it recorded.

Start, pause, resume and stop are the organizer's and presenters'. A call recording is a recording like
an uploaded one, in status `recording` while ACS records, then `awaiting_upload` until ACS delivers the
file: its RecordingFileStatusUpdated event (at least once, in any order) is fetched into the recording's
source blob, and from there the pipeline is the upload's. An event for a call we did not record is
logged and dropped; a duplicate or late one changes nothing. A download that keeps failing is retried
by Event Grid, then the recording fails with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from shared.call_events import RecordingFile
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, UpstreamFailed
from shared.domain.models import Meeting, MeetingStatus, Role
from shared.domain.recording_paths import (
    FETCH_JOBS,
    RecordingRef,
    job_message,
    recording_prefix,
)
from shared.domain.recordings import (
    CallRecording,
    CallRecordingChunk,
    Recording,
    RecordingError,
    RecordingStatus,
)
from shared.logs import bind_meeting, bind_recording
from shared.ports import (
    BlobStore,
    CallLocator,
    CallRecorder,
    CallRecordingConflict,
    CallRecordingNotFound,
    CommunicationError,
    CommunicationRejected,
    CommunicationUnavailable,
    QueueStore,
    RecordingRequest,
    Store,
)
from shared.realtime.events import NO_EVENTS, EventPublisher, recording_changes
from shared.schemas import StartCallRecording
from shared.services import recording_state
from shared.services.meetings import MeetingService
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)
# The problem's `code` when the meeting's recording policy is not met (Meeting.recording_consent_missing).
CONSENT_MISSING = "consent_missing"

Action = Literal["pause", "resume", "stop"]
CallState = Literal["active", "paused", "stopped"]
_STATE_AFTER: dict[Action, CallState] = {"pause": "paused", "resume": "active", "stop": "stopped"}
# A start takes a request to ACS and two writes; one still `starting` after this died half way.
STARTING_FOR = timedelta(minutes=2)
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "mp4": "video/mp4"}


class CallRecordingService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        *,
        recorder: CallRecorder,
        meetings: MeetingService,
        queues: QueueStore,
        clock: Callable[[], datetime] = utc_now,
        events: EventPublisher = NO_EVENTS,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._recorder = recorder
        self._meetings = meetings
        self._queues = queues
        self._clock = clock
        self._events = events

    # --- start, pause, resume, stop ------------------------------------------------------------------

    async def start(self, caller: str, meeting_id: str, request: StartCallRecording) -> Recording:
        meeting = await self._presenters_meeting(caller, meeting_id)
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict(f"meeting {meeting_id} is cancelled")
        missing = meeting.recording_consent_missing()
        if missing:
            raise Conflict(
                f"the meeting records only with consent: {len(missing)} presenter(s) or attendee(s) have not "
                "accepted its recording notice (POST .../consent)",
                code=CONSENT_MISSING,
            )
        locator = self._locator(meeting)
        if any(_records(r, locator, self._clock()) for r in await self._store.list_recordings(meeting_id)):
            raise Conflict("this call is being recorded already: stop that recording first")
        assert request.format is not None  # the schema fills it in
        now = self._clock()
        recording_id = str(uuid.uuid4())
        bind_recording(recording_id)
        recording = Recording(
            id=recording_id,
            meeting_id=meeting_id,
            created_by=caller,
            file_name=f"call-recording.{request.format}",
            content_type=CONTENT_TYPES[request.format],
            size_bytes=0,
            language=request.language,
            status=RecordingStatus.RECORDING,
            source_blob=f"{recording_prefix(meeting_id, recording_id)}source.{request.format}",
            call=CallRecording(
                call_kind=locator.kind,
                call_id=locator.id,
                content=request.content,
                channels=request.channels,
                format=request.format,
            ),
            created_at=now,
            updated_at=now,
        )
        # Ours first, ACS's after: a failure to start leaves a visible failed recording, never a recording
        # running in ACS that nothing of ours knows about.
        await self._store.create_recording(recording)
        await self._events.publish(*recording_changes(None, recording))
        try:
            acs_id = await self._recorder.start_recording(
                locator, RecordingRequest(request.content, request.channels, request.format)
            )
        except CommunicationError as exc:
            detail = str(exc)
            await self._set(meeting_id, recording_id, lambda r: _fail(r, "recording_not_started", detail))
            raise _domain_error(exc, "start recording the call") from exc
        try:
            await self._store.put_call_recording_ref(acs_id, meeting_id, recording_id)
            stored = await self._set(meeting_id, recording_id, lambda r: _started(r, acs_id))
        except Exception as exc:
            # ACS records, but we could not note it: stop it rather than record a call nobody can stop.
            await self._abandon(meeting_id, recording_id, acs_id, exc)
            raise Unavailable("the recording could not be noted: it was stopped; start it again") from exc
        log.info("recording the call (ACS recording %s)", acs_id)
        return stored

    async def _abandon(self, meeting_id: str, recording_id: str, acs_id: str, exc: Exception) -> None:
        log.error("abandoning ACS recording %s, which could not be noted: %s", acs_id, exc)
        with contextlib.suppress(Exception):
            await self._recorder.stop_recording(acs_id)
        with contextlib.suppress(Exception):
            detail = f"the recording could not be noted, so it was stopped: {exc}"
            await self._set(meeting_id, recording_id, lambda r: _fail(r, "recording_not_started", detail))

    async def control(
        self, caller: str, meeting_id: str, action: Action, recording_id: str | None
    ) -> Recording:
        await self._presenters_meeting(caller, meeting_id)
        recording = await self._active(meeting_id, recording_id)
        assert recording.call is not None
        acs_id = recording.call.acs_recording_id
        if acs_id is None:
            if self._clock() - recording.created_at <= STARTING_FOR:
                raise Conflict("the recording is still starting: try again in a moment")
            # Its start died half way: nothing ACS knows of records under it.
            detail = "the recording's start never completed"
            await self._set(meeting_id, recording.id, lambda r: _fail(r, "recording_not_started", detail))
            raise Conflict(f"{detail}: start a new one")
        state = _STATE_AFTER[action]
        if (action, recording.call.state) in {("pause", "paused"), ("resume", "active")}:
            return recording  # asked again (a client retrying): nothing to do
        try:
            if action == "pause":
                await self._recorder.pause_recording(acs_id)
            elif action == "resume":
                await self._recorder.resume_recording(acs_id)
            else:
                await self._recorder.stop_recording(acs_id)
        except CommunicationError as exc:
            raise _domain_error(exc, f"{action} the recording") from exc
        log.info("call recording %s: %s", acs_id, action)
        return await self._set(meeting_id, recording.id, lambda r: _call_state(r, state))

    # --- the file ACS delivers -----------------------------------------------------------------------

    async def file_ready(self, delivered: RecordingFile) -> bool:
        """Notes where ACS put a finished call recording and queues its fetch; whether it queued one.

        The download is a queued job, not this event's handler: Event Grid waits 30 s for an answer and
        then delivers again, and a long recording takes longer than that to fetch. A duplicate event
        queues the fetch again (the job ignores a duplicate); one for a fetched recording changes nothing.
        """
        found = await self._store.get_call_recording_ref(delivered.acs_recording_id)
        if found is None:
            log.warning("ACS recording %s is none of ours: event dropped", delivered.acs_recording_id)
            return False
        ref = RecordingRef(*found)
        bind_meeting(ref.meeting_id)
        bind_recording(ref.recording_id)
        chunks = [
            CallRecordingChunk(index=c.index, content=c.content_location, metadata=c.metadata_location)
            for c in delivered.chunks
        ]

        def note(recording: Recording) -> Recording | None:
            if (
                recording.call is None
                or recording.call.state == "fetched"
                or recording.status
                not in (
                    RecordingStatus.RECORDING,
                    RecordingStatus.AWAITING_UPLOAD,
                )
            ):
                return None
            recording.status = RecordingStatus.AWAITING_UPLOAD
            recording.call.state = "stopped"
            recording.call.chunks = recording.call.chunks or chunks
            return recording

        stored = await recording_state.update(
            self._store, ref.meeting_id, ref.recording_id, note, clock=self._clock, events=self._events
        )
        if (
            stored is None
            or stored.value.call is None
            or stored.value.call.state == "fetched"
            or (stored.value.status != RecordingStatus.AWAITING_UPLOAD)
        ):
            log.info("the recording's file was fetched already (or it is gone): event changes nothing")
            return False
        await self._queues.send(FETCH_JOBS, job_message(ref))
        log.info("the call recording's file is ready at ACS: fetch queued (%d chunk(s))", len(chunks))
        return True

    # --- helpers ---------------------------------------------------------------------------------------

    async def _presenters_meeting(self, caller: str, meeting_id: str) -> Meeting:
        bind_meeting(meeting_id)
        meeting = (await self._meetings.get(caller, meeting_id)).value
        if meeting.role_of(caller) != Role.PRESENTER:
            raise Forbidden("only the organizer and presenters may record the call")
        return meeting

    @staticmethod
    def _locator(meeting: Meeting) -> CallLocator:
        if meeting.room_id is None:
            raise Conflict("the meeting has no ACS room, so no call to record")
        return CallLocator("room", meeting.room_id)

    async def _active(self, meeting_id: str, recording_id: str | None) -> Recording:
        active = [
            r
            for r in await self._store.list_recordings(meeting_id)
            if r.call is not None and r.status == RecordingStatus.RECORDING and r.call.state != "stopped"
        ]
        if recording_id is not None:
            active = [r for r in active if r.id == recording_id]
        if not active:
            raise Conflict("no recording of this meeting's call is running")
        if len(active) > 1:
            raise InvalidInput(
                "more than one call of this meeting is being recorded: name it with recordingId"
            )
        bind_recording(active[0].id)
        return active[0]

    async def _set(
        self, meeting_id: str, recording_id: str, change: Callable[[Recording], Recording]
    ) -> Recording:
        stored = await recording_state.update(
            self._store, meeting_id, recording_id, change, clock=self._clock, events=self._events
        )
        if stored is None:
            raise NotFound(f"recording {recording_id} was not found")
        return stored.value


def _records(recording: Recording, locator: CallLocator, now: datetime) -> bool:
    """Whether the recording holds the call. One still `starting` after STARTING_FOR died mid-start."""
    call = recording.call
    if call is None or recording.status != RecordingStatus.RECORDING or call.state == "stopped":
        return False
    if call.state == "starting" and now - recording.created_at > STARTING_FOR:
        return False
    return (call.call_kind, call.call_id) == (locator.kind, locator.id)


def _started(recording: Recording, acs_id: str) -> Recording:
    assert recording.call is not None
    recording.call.acs_recording_id = acs_id
    recording.call.state = "active"
    return recording


def _call_state(recording: Recording, state: CallState) -> Recording:
    assert recording.call is not None
    recording.call.state = state
    if state == "stopped" and recording.status == RecordingStatus.RECORDING:
        recording.status = RecordingStatus.AWAITING_UPLOAD  # the file comes from ACS
    return recording


def _fail(recording: Recording, code: str, detail: str) -> Recording:
    recording.status = RecordingStatus.FAILED
    recording.error = RecordingError(code=code, detail=detail)
    return recording


def _domain_error(exc: CommunicationError, doing: str) -> Exception:
    if isinstance(exc, CallRecordingConflict):
        return Conflict(f"ACS could not {doing}: {exc}")
    if isinstance(exc, CallRecordingNotFound):
        return Conflict(f"ACS could not {doing}: the call or the recording is not there ({exc})")
    if isinstance(exc, CommunicationUnavailable):
        return Unavailable(f"ACS is unavailable: could not {doing}", exc.retry_after)
    if isinstance(exc, CommunicationRejected):
        return UpstreamFailed(f"ACS refused to {doing}: {exc}")
    return Unavailable(f"ACS failed: could not {doing}")
