"""Recordings of a meeting: creating one with its upload URL, reading it and its transcript, deleting it,
and noticing that its upload has landed (which queues the transcription job).

Who may do what follows the meeting: organizer and presenters create, every participant reads, the
organizer deletes. An outsider learns nothing (404), as for the meeting itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.errors import Conflict, Forbidden, Gone, NotFound, Unavailable
from shared.domain.models import Meeting, MeetingStatus, Role
from shared.domain.recording_paths import (
    ARTIFACTS,
    RECORDINGS,
    SUMMARY_JOBS,
    TRANSCRIPT_FILES,
    TRANSCRIPTION_JOBS,
    RecordingRef,
    is_chunk_blob,
    job_message,
    parse_source_blob,
    recording_prefix,
    source_blob,
    work_prefix,
)
from shared.domain.recordings import (
    Recording,
    RecordingChannel,
    RecordingStage,
    RecordingStatus,
)
from shared.logs import bind_meeting, bind_recording
from shared.ports import (
    BlobNotFound,
    BlobStore,
    CallRecorder,
    CallRecordingNotFound,
    CommunicationError,
    QueueStore,
    ReadTarget,
    Store,
    Stored,
    UploadTarget,
)
from shared.realtime.events import NO_EVENTS, EventPublisher, recording_changes
from shared.schemas import CreateRecording
from shared.services import recording_state
from shared.services.meetings import MeetingService
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.timefmt import iso
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

# An upload URL is a write credential: it should live as long as its upload needs and no longer. The
# announced size at a slow uplink (1 MB/s, 8 Mbit/s), plus time to start and to stall, covers a real
# upload; the cap (long enough for 4 GiB at 1 MB/s) bounds what a leaked URL is worth. A slower client
# asks for a fresh URL (POST .../upload) and starts its PUT again.
UPLOAD_GRACE = timedelta(minutes=15)
SLOW_UPLINK_BYTES_PER_SECOND = 1_000_000
MAX_UPLOAD_LIFETIME = timedelta(hours=2)
# A read URL lets a player fetch ranges for as long as someone watches: the recording's length plus time
# to pause and seek, at least an hour (a short clip is still watched at leisure), at most six (a longer
# session asks again). Without a known length (not decoded yet) the most: a URL that dies mid-playback
# is worse than one that lives a few hours, and it is still read-only, one blob, expiring.
# The problem's `code` when retention deleted the source: the client shows its notice instead of a player.
SOURCE_DELETED = "source_deleted"
MEDIA_GRACE = timedelta(minutes=30)
MIN_MEDIA_LIFETIME = timedelta(hours=1)
MAX_MEDIA_LIFETIME = timedelta(hours=6)


def upload_lifetime(size_bytes: int) -> timedelta:
    """How long an upload URL for a file of `size_bytes` lives (see UPLOAD_GRACE)."""
    transfer = timedelta(seconds=max(0, size_bytes) / SLOW_UPLINK_BYTES_PER_SECOND)
    return min(UPLOAD_GRACE + transfer, MAX_UPLOAD_LIFETIME)


def media_lifetime(duration_seconds: float | None) -> timedelta:
    """How long a read URL of a recording lives (see MEDIA_GRACE)."""
    if duration_seconds is None:
        return MAX_MEDIA_LIFETIME
    wanted = timedelta(seconds=max(0.0, duration_seconds)) + MEDIA_GRACE
    return min(max(wanted, MIN_MEDIA_LIFETIME), MAX_MEDIA_LIFETIME)


@dataclass(frozen=True, slots=True)
class CreatedRecording:
    recording: Recording
    upload: UploadTarget


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    body: bytes
    media_type: str


class RecordingService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        meetings: MeetingService,
        clock: Callable[[], datetime] = utc_now,
        *,
        recorder: CallRecorder | None = None,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._queues = queues
        self._meetings = meetings
        self._clock = clock
        self._recorder = recorder  # to stop a call recording that is deleted while ACS records
        self._events = events
        self._search = search

    # --- HTTP use cases --------------------------------------------------------------------------

    async def create(self, caller: str, meeting_id: str, request: CreateRecording) -> CreatedRecording:
        meeting = await self._meeting(caller, meeting_id)
        if meeting.role_of(caller) != Role.PRESENTER:
            raise Forbidden("only the organizer and presenters may add a recording")
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict(f"meeting {meeting_id} is cancelled")
        now = self._clock()
        recording_id = str(uuid.uuid4())
        bind_recording(recording_id)
        recording = Recording(
            id=recording_id,
            meeting_id=meeting_id,
            created_by=caller,
            file_name=request.file_name,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
            channels=[RecordingChannel(channel=c.channel, user_id=c.user_id) for c in request.channels],
            language=request.language,
            source_blob=source_blob(meeting_id, recording_id, request.content_type),
            created_at=now,
            updated_at=now,
        )
        # The URL first: if the storage refuses it, no recording is left waiting for an upload that
        # can never come.
        upload = await self._blobs.upload_target(
            RECORDINGS,
            recording.source_blob,
            content_type=request.content_type,
            expires_in=upload_lifetime(request.size_bytes),
        )
        recording.upload_expires_at = upload.expires_on
        await self._store.create_recording(recording)
        await self._events.publish(*recording_changes(None, recording))
        log.info("recording %s created, awaiting its upload", recording_id)
        return CreatedRecording(recording, upload)

    async def renew_upload(self, caller: str, meeting_id: str, recording_id: str) -> CreatedRecording:
        """A fresh upload URL for a recording still waiting for its file, or one that failed.

        Only the recording's upload window moves on (the reconciler fails one whose window passed with no
        file): a failed one keeps its error until the new file lands, and then starts over
        (queue_transcription: a new version of a failed source is a new upload).
        """
        meeting = await self._meeting(caller, meeting_id)
        if meeting.role_of(caller) != Role.PRESENTER:
            raise Forbidden("only the organizer and presenters may upload a recording")
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict(f"meeting {meeting_id} is cancelled")
        recording = (await self._recording(meeting_id, recording_id)).value
        if recording.call is not None:
            raise Conflict("a recording of the meeting's call has no upload: ACS delivers its file")
        if recording.live is not None:
            raise Conflict("live captions have no upload: their transcript is made of the captions")
        if recording.status not in (RecordingStatus.AWAITING_UPLOAD, RecordingStatus.FAILED):
            raise Conflict(
                f"the recording is {recording.status.value}: its file has been uploaded already "
                "(only one awaiting its upload, or one that failed, takes a new file)"
            )
        upload = await self._blobs.upload_target(
            RECORDINGS,
            recording.source_blob,
            content_type=recording.content_type,
            expires_in=upload_lifetime(recording.size_bytes),
        )
        await recording_state.update(
            self._store, meeting_id, recording_id, _upload_until(upload.expires_on), clock=self._clock
        )
        log.info("recording %s: a new upload URL (the recording is %s)", recording_id, recording.status)
        return CreatedRecording(recording, upload)

    async def media(self, caller: str, meeting_id: str, recording_id: str) -> ReadTarget:
        """A short-lived, read-only URL of the recording's source file, for a player.

        Conflict when there is no one file to play: nothing uploaded yet, a call recording not fetched
        yet, a call recording ACS delivered in several chunks (none of them is the recording, and a
        player given the first would seek past its end without a word), or a source that is gone.
        """
        recording = await self.get(caller, meeting_id, recording_id)
        if recording.source_deleted_at is not None:
            raise Gone(
                f"the recording's audio was deleted on {iso(recording.source_deleted_at)} (retention); "
                "its transcript and summary stay",
                code=SOURCE_DELETED,
            )
        if recording.live is not None:
            raise Conflict("live captions have no file to play: their transcript is what they are")
        if recording.status in (RecordingStatus.AWAITING_UPLOAD, RecordingStatus.RECORDING):
            raise Conflict(_no_media(recording))
        if recording.source_parts:
            raise Conflict(
                f"the call's recording came in {len(recording.source_parts)} chunks: "
                "there is no single file to play"
            )
        info = await self._blobs.info(RECORDINGS, recording.source_blob)
        if info is None:
            raise Conflict(_no_media(recording))
        return await self._blobs.read_url(
            RECORDINGS, recording.source_blob, expires_in=media_lifetime(recording.duration_seconds)
        )

    async def list(self, caller: str, meeting_id: str) -> list[Recording]:
        await self._meeting(caller, meeting_id)
        return await self._store.list_recordings(meeting_id)

    async def get(self, caller: str, meeting_id: str, recording_id: str) -> Recording:
        await self._meeting(caller, meeting_id)
        return (await self._recording(meeting_id, recording_id)).value

    async def transcript(self, caller: str, meeting_id: str, recording_id: str, fmt: str) -> ArtifactFile:
        name, media_type = TRANSCRIPT_FILES[fmt]
        return await self._artifact(
            caller, meeting_id, recording_id, name=name, media_type=media_type, what="transcript"
        )

    async def regenerate_summary(
        self, caller: str, meeting_id: str, recording_id: str, *, force: bool = False
    ) -> Recording:
        """Summarizes the transcript again (say, after changing SUMMARIZER): organizer only.

        Idempotent: while the summary is being made, asking again changes nothing (it only queues the
        job again when no job holds the recording, in case an earlier request died before queueing it).
        The previous summary stays listed and served meanwhile; the job replaces it when it is done.
        """
        meeting = await self._meeting(caller, meeting_id)
        if meeting.organizer_id != caller:
            raise Forbidden("only the organizer may regenerate a summary")
        stored = await self._recording(meeting_id, recording_id)
        transcript = TRANSCRIPT_FILES["json"][0]
        if transcript not in stored.value.artifacts:
            raise Conflict(_not_ready(stored.value, "transcript to summarize"))
        if not force and _worked_on(stored.value):
            raise Conflict(
                "the summary was edited or approved: regenerating replaces that work as the current version "
                "(the old versions are kept); ask again with force=true"
            )
        return await self.restart_summary(stored)

    async def restart_summary(self, stored: Stored[Recording]) -> Recording:
        """Starts the summary stage again on a transcribed recording that is completed or failed (the
        organizer's regenerate, an operator's retry), and queues its job unless one holds it."""
        meeting_id, recording_id = stored.value.meeting_id, stored.value.id
        transcript = TRANSCRIPT_FILES["json"][0]
        if transcript not in stored.value.artifacts:
            raise Conflict(_not_ready(stored.value, "transcript to summarize"))
        now = self._clock()

        def restart(recording: Recording) -> Recording | None:
            # Checked again on every attempt: a lost race may have been to a new upload, with no transcript.
            if recording.status == RecordingStatus.SUMMARIZING or transcript not in recording.artifacts:
                return None
            if recording.status not in (RecordingStatus.COMPLETED, RecordingStatus.FAILED):
                return None
            recording.status = RecordingStatus.SUMMARIZING
            recording.stage = RecordingStage.SUMMARY
            recording.progress = 0.0
            recording.error = None
            recording.claim = None
            return recording

        updated = await recording_state.update(
            self._store,
            meeting_id,
            recording_id,
            restart,
            clock=self._clock,
            current=stored,
            events=self._events,
        )
        if updated is None:
            raise NotFound(f"recording {recording_id} was not found")
        if updated.value.status != RecordingStatus.SUMMARIZING:
            raise Conflict(_not_ready(updated.value, "transcript to summarize"))
        claim = updated.value.claim
        if claim is None or claim.expires_at <= now:
            await self._queues.send(SUMMARY_JOBS, job_message(RecordingRef(meeting_id, recording_id)))
            log.info("summary of recording %s queued (again)", recording_id)
        return updated.value

    async def _artifact(
        self, caller: str, meeting_id: str, recording_id: str, *, name: str, media_type: str, what: str
    ) -> ArtifactFile:
        recording = await self.get(caller, meeting_id, recording_id)
        if name not in recording.artifacts:
            raise Conflict(_not_ready(recording, what))
        try:
            body = await self._blobs.get(ARTIFACTS, f"{recording_prefix(meeting_id, recording_id)}{name}")
        except BlobNotFound:
            # Announced but gone: only a delete racing this read does that.
            raise NotFound(f"recording {recording_id} was not found") from None
        return ArtifactFile(body, media_type)

    async def delete(self, caller: str, meeting_id: str, recording_id: str) -> None:
        meeting = await self._meeting(caller, meeting_id)
        if meeting.organizer_id != caller:
            raise Forbidden("only the organizer may delete a recording")
        stored = await self._store.get_recording(meeting_id, recording_id)
        if stored is None:
            raise NotFound(f"recording {recording_id} was not found")
        await self._stop_recording_call(stored.value)
        # Blobs first, the document last: a failure part way leaves the recording visible, and deleting
        # it again finishes the job. A transcription job still running notices the document is gone
        # and removes what it writes after this (see TranscriptionJob).
        prefix = recording_prefix(meeting_id, recording_id)
        removed = await self._blobs.delete_prefix(RECORDINGS, prefix)
        removed += await self._blobs.delete_prefix(ARTIFACTS, prefix)
        await self._store.delete_recording(meeting_id, recording_id)
        # Out of search after the document: a search meanwhile drops it anyway (SearchService checks the
        # store), and a job that indexes it after this finds it deleted and removes it again.
        await self._search.recording_removed(meeting_id, recording_id)
        log.info("recording %s deleted with %d blobs", recording_id, removed)

    async def _stop_recording_call(self, recording: Recording) -> None:
        """A call recording deleted while ACS records it: ACS stops first, or it would go on recording.
        Live captions deleted while ACS transcribes: the transcription stops first, or it would go on
        streaming (and the captions service would keep what it sent)."""
        live = recording.live
        connection = live.call_connection_id if live is not None and live.state == "active" else None
        if self._recorder is not None and connection is not None:
            try:
                await self._recorder.stop_transcription(connection)
            except CommunicationError as exc:
                raise Unavailable(f"ACS could not stop the transcription, so it is kept: {exc}") from exc
        call = recording.call
        if self._recorder is None or call is None or call.acs_recording_id is None:
            return
        if call.state not in ("active", "paused"):
            return
        try:
            await self._recorder.stop_recording(call.acs_recording_id)
        except CallRecordingNotFound:
            pass  # ACS has forgotten it: nothing records
        except CommunicationError as exc:
            raise Unavailable(f"ACS could not stop the call's recording, so it is kept: {exc}") from exc

    # --- the upload landed -----------------------------------------------------------------------

    async def source_landed(self, name: str, *, etag: str | None = None) -> bool:
        """A blob was written to `recordings`: queue the transcription of its recording, if it has one.

        The event is only a hint: anyone who can reach the endpoint may forge one, and Event Grid
        redelivers old ones. What counts is what storage holds now, read here: a blob that does not
        exist, or an event for a version that is no longer the blob's (`etag`, a replay or a stale
        event: the current version's own event follows), changes nothing. The version recorded is the
        one read from storage, never the event's.

        An upload that no one may make any more (its recording was deleted, its creator is no longer a
        presenter, the meeting was cancelled) is deleted: an upload URL outlives those changes, and such
        a blob would be an orphan no API can reach.

        Idempotent under the at-least-once delivery of storage events: a recording already queued is
        queued again (the event may be a retry after the message could not be sent; the job tolerates
        duplicates), one further along is left alone. A re-upload after a failure starts over.
        Returns whether a job was queued.
        """
        ref = parse_source_blob(name)
        if ref is None:
            if is_chunk_blob(name):
                log.info("recordings/%s is a chunk of a call recording, queued with its others", name)
            else:
                log.warning(
                    "a blob landed at recordings/%s, which is no recording's source: left alone", name
                )
            return False
        bind_meeting(ref.meeting_id)
        bind_recording(ref.recording_id)
        info = await self._blobs.info(RECORDINGS, name)
        if info is None:
            log.warning("an event announced recordings/%s, which storage does not hold: ignored", name)
            return False
        current = info.etag.strip('"')
        if etag is not None and etag.strip('"') != current:
            log.warning(
                "an event announced version %s of recordings/%s, but storage holds %s: ignored "
                "(a replayed or stale event; the current version's own event counts)",
                etag,
                name,
                current,
            )
            return False
        if await self._unwanted_upload(ref, name, current):
            await self._blobs.delete(RECORDINGS, name)
            return False
        return await self.queue_transcription(ref, landed=name, etag=current)

    async def _unwanted_upload(self, ref: RecordingRef, name: str, version: str) -> bool:
        """Whether this upload came through a URL that no longer stands for anything (logged why)."""
        stored = await self._store.get_recording(ref.meeting_id, ref.recording_id)
        if stored is None:
            log.warning("recordings/%s was uploaded for a recording that does not exist: deleted", name)
            return True
        recording = stored.value
        if recording.call is not None or recording.source_blob != name:
            return False  # ACS's file, fetched by us; or no source of this recording (left to the queue)
        if recording.status not in (RecordingStatus.AWAITING_UPLOAD, RecordingStatus.FAILED):
            return False  # taken already: this is that upload's event again, whatever changed since
        if recording.status == RecordingStatus.FAILED and recording.source_etag == version:
            return False  # the failed version again: nothing starts, and the file stays with its error
        meeting = await self._store.get_meeting(ref.meeting_id)
        if meeting is None or meeting.value.status == MeetingStatus.CANCELLED:
            log.warning("recordings/%s was uploaded after its meeting was cancelled: deleted", name)
            return True
        if meeting.value.role_of(recording.created_by) != Role.PRESENTER:
            log.warning(
                "recordings/%s was uploaded after its uploader stopped being a presenter: deleted", name
            )
            return True
        return False

    async def queue_transcription(
        self, ref: RecordingRef, *, landed: str | None = None, etag: str | None = None
    ) -> bool:
        """Marks the recording `queued` and sends its transcription job, if it waits for one.

        `landed`: the blob that was written, which must be the recording's source; `etag` its version. A
        failed recording starts over for a new version only: the same event again is a redelivery.
        Returns whether a job was queued.
        """
        bind_meeting(ref.meeting_id)
        bind_recording(ref.recording_id)
        foreign: list[str] = []
        restarted: list[bool] = []

        def queue(recording: Recording) -> Recording | None:
            if landed is not None and recording.source_blob != landed:
                foreign.append(recording.source_blob)
                return None
            if (
                recording.status == RecordingStatus.FAILED
                and etag is not None
                and etag == recording.source_etag
            ):
                return None  # the failed version, announced again
            restarted.append(recording.status == RecordingStatus.FAILED)
            queued = self._queue_if_waiting(recording)
            if queued is not None:
                queued.source_etag = etag
            return queued

        stored = await recording_state.update(
            self._store, ref.meeting_id, ref.recording_id, queue, clock=self._clock, events=self._events
        )
        if stored is None or foreign:
            log.warning("recordings/%s is no recording's source: left alone", landed)
            return False
        if stored.value.status != RecordingStatus.QUEUED:
            log.info("recording is %s already: the upload event changes nothing", stored.value.status)
            return False
        if restarted and restarted[-1]:
            # A new file: the pieces kept from the old one must not be taken for its own.
            await self._blobs.delete_prefix(ARTIFACTS, work_prefix(ref.meeting_id, ref.recording_id))
        await self._queues.send(TRANSCRIPTION_JOBS, job_message(ref))
        log.info("recording %s queued for transcription", ref.recording_id)
        return True

    def _queue_if_waiting(self, recording: Recording) -> Recording | None:
        if recording.status not in (RecordingStatus.AWAITING_UPLOAD, RecordingStatus.FAILED):
            return None
        if recording.status == RecordingStatus.FAILED:
            log.info("recording %s was uploaded again after failing: starting over", recording.id)
        recording.status = RecordingStatus.QUEUED
        recording.stage = RecordingStage.TRANSCRIPT
        recording.progress = 0.0
        recording.error = None
        recording.artifacts = []
        recording.claim = None
        return recording

    # --- helpers ---------------------------------------------------------------------------------

    async def _meeting(self, caller: str, meeting_id: str) -> Meeting:
        bind_meeting(meeting_id)
        return (await self._meetings.get(caller, meeting_id)).value

    async def _recording(self, meeting_id: str, recording_id: str) -> Stored[Recording]:
        bind_recording(recording_id)
        stored = await self._store.get_recording(meeting_id, recording_id)
        if stored is None:
            raise NotFound(f"recording {recording_id} was not found")
        return stored


def _worked_on(recording: Recording) -> bool:
    """Whether a person edited or approved the summary since it was last generated."""
    kinds = [version.kind for version in recording.summary_versions]
    since = kinds[len(kinds) - kinds[::-1].index("generated") :] if "generated" in kinds else kinds
    return any(kind in ("edited", "approved") for kind in since)


def _upload_until(expires_on: datetime) -> recording_state.Change:
    """The recording waits for its file until `expires_on` at least (the reconciler reads it)."""

    def extend(recording: Recording) -> Recording | None:
        if recording.status not in (RecordingStatus.AWAITING_UPLOAD, RecordingStatus.FAILED):
            return None  # the file came meanwhile
        if recording.upload_expires_at is not None and recording.upload_expires_at >= expires_on:
            return None
        recording.upload_expires_at = expires_on
        return recording

    return extend


def _no_media(recording: Recording) -> str:
    if recording.status == RecordingStatus.AWAITING_UPLOAD:
        return "there is nothing to play: the recording has not been uploaded yet"
    if recording.call is not None and recording.call.state != "fetched":
        return f"there is nothing to play yet: the call's recording is {recording.call.state}, not fetched"
    return "there is nothing to play: the recording's file is gone"


def _not_ready(recording: Recording, what: str) -> str:
    if recording.status == RecordingStatus.FAILED and recording.error is not None:
        return f"the recording failed, so there is no {what}: {recording.error.detail}"
    if recording.status == RecordingStatus.AWAITING_UPLOAD:
        return f"the {what} is not ready: the recording has not been uploaded yet"
    return f"the {what} is not ready: the recording is {recording.status.value} ({recording.progress:.0%})"
