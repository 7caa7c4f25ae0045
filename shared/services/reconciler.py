"""Heals what events and queues can miss, on a timer (functions/maintenance.py). Idempotent: a pass
that finds nothing to heal changes nothing, and two passes at once do each thing once (ETag writes).

- A recording `awaiting_upload` whose file is there: its BlobCreated event never arrived (dead-lettered,
  or lost while devhost was down). It is queued as the event would have queued it.
- A recording `awaiting_upload` with no file past its upload window (the last upload URL's expiry, plus
  a grace for an upload that began just before it): `failed` with `upload_expired`. A new upload URL
  (POST .../upload) and a file still start it over.
- A job whose claim ran out (its instance crashed mid-job): the claim is let go and the job queued again
  at once, instead of waiting out the queue message's lease and its retries.

- Retention (RETAIN_RECORDINGS_DAYS): a recording whose transcript was written longer ago than that
  loses its source blobs (the upload, or ACS's chunks) and gets `sourceDeletedAt`; its notes stay. A Blob
  lifecycle rule in infra/ deletes old sources too, as a backstop: a source already gone is still marked.
- Retention of notes (RETAIN_NOTES_DAYS): past it, the whole recording goes (blobs, then the document),
  as DELETE .../recordings/{id} does.

Every action is logged with the recording's ids, and each pass ends with one line counting them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.recording_paths import (
    ARTIFACTS,
    FETCH_JOBS,
    RECORDINGS,
    SUMMARY_JOBS,
    TRANSCRIPTION_JOBS,
    RecordingRef,
    job_message,
    recording_prefix,
)
from shared.domain.recordings import Recording, RecordingError, RecordingStatus
from shared.logs import log_context
from shared.ports import BlobStore, QueueStore, Store
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services import recording_state
from shared.services.recordings import RecordingService, upload_lifetime
from shared.telemetry import metrics
from shared.timefmt import now as utc_now
from shared.timefmt import utc_seconds

log = logging.getLogger(__name__)

# How many recordings of each status one pass looks at (oldest update first): a backlog drains over
# a few passes instead of making one pass outlive the timer's period.
SWEEP_LIMIT = 200
# An upload that began just before its URL expired may still be transferring (Storage checks the SAS
# when the request starts): its recording waits this much longer.
UPLOAD_GRACE = timedelta(minutes=10)
UPLOAD_EXPIRED = "upload_expired"
# The statuses a job works in, with the queue that runs it (a call recording's fetch works while it
# awaits its upload).
JOB_QUEUES = (
    (RecordingStatus.TRANSCRIBING, TRANSCRIPTION_JOBS),
    (RecordingStatus.SUMMARIZING, SUMMARY_JOBS),
)


# The statuses of work an operator may push on (GET /api/operations/recordings?status=stuck), with the queue
# whose job moves it: a queued recording waits for its transcription job.
STUCK_QUEUES = {
    RecordingStatus.QUEUED: TRANSCRIPTION_JOBS,
    RecordingStatus.TRANSCRIBING: TRANSCRIPTION_JOBS,
    RecordingStatus.SUMMARIZING: SUMMARY_JOBS,
}


@dataclass
class Reconciled:
    """What one pass did."""

    queued_uploads: int = 0
    expired_uploads: int = 0
    requeued_jobs: int = 0
    sources_deleted: int = 0
    notes_deleted: int = 0

    @property
    def anything(self) -> bool:
        return bool(
            self.queued_uploads
            or self.expired_uploads
            or self.requeued_jobs
            or self.sources_deleted
            or self.notes_deleted
        )


class Reconciler:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        recordings: RecordingService,
        *,
        clock: Callable[[], datetime] = utc_now,
        limit: int = SWEEP_LIMIT,
        events: EventPublisher = NO_EVENTS,
        retain_recordings_days: int = 0,
        retain_notes_days: int = 0,
    ) -> None:
        self._events = events
        # 0 keeps for ever (the settings' meaning).
        self._retain_sources = timedelta(days=retain_recordings_days) if retain_recordings_days else None
        self._retain_notes = timedelta(days=retain_notes_days) if retain_notes_days else None
        self._store = store
        self._blobs = blobs
        self._queues = queues
        self._recordings = recordings
        self._clock = clock
        self._limit = limit

    async def run(self) -> Reconciled:
        done = Reconciled()
        now = self._clock()
        waiting = await self._store.list_recordings_by_status(
            RecordingStatus.AWAITING_UPLOAD, limit=self._limit
        )
        for recording in waiting:
            with log_context(meeting=recording.meeting_id, recording=recording.id):
                if recording.call is not None:
                    # ACS delivers a call recording's file; its fetch job works while it waits.
                    done.requeued_jobs += await self._requeue(
                        recording, RecordingStatus.AWAITING_UPLOAD, FETCH_JOBS, now
                    )
                else:
                    await self._upload(recording, now, done)
        for status, queue in JOB_QUEUES:
            for recording in await self._store.list_recordings_by_status(status, limit=self._limit):
                with log_context(meeting=recording.meeting_id, recording=recording.id):
                    done.requeued_jobs += await self._requeue(recording, status, queue, now)
        for action, count in (
            ("queued_upload", done.queued_uploads),
            ("expired_upload", done.expired_uploads),
            ("requeued_job", done.requeued_jobs),
        ):
            metrics.add(metrics.RECONCILER_ACTIONS, count, {metrics.ACTION: action})
        log.info(
            "reconciled: %d upload(s) queued, %d upload(s) expired, %d job(s) queued again",
            done.queued_uploads,
            done.expired_uploads,
            done.requeued_jobs,
        )
        if self._retain_sources is not None or self._retain_notes is not None:
            await self._retention(now, done)
            log.info(
                "retention: %d source(s) deleted, %d recording(s) deleted",
                done.sources_deleted,
                done.notes_deleted,
            )
        return done

    async def requeue(self, recording: Recording) -> bool:
        """An operator's retry of work that does not move: its job queued again, as a pass does for a claim
        that ran out, and also when no job ever claimed it (a lost message). False while a job holds a live
        claim: that job is running, and a second one would only wait for it."""
        queue = STUCK_QUEUES[recording.status]
        if recording.claim is not None:
            return bool(await self._requeue(recording, recording.status, queue, self._clock()))
        await self._queues.send(queue, job_message(RecordingRef(recording.meeting_id, recording.id)))
        log.warning("recording %s: no job held it; the %s job is queued again", recording.id, queue)
        return True

    async def _retention(self, now: datetime, done: Reconciled) -> None:
        if self._retain_notes is not None:
            expired = await self._store.list_recordings_transcribed_before(
                now - self._retain_notes, source_kept=False, limit=self._limit
            )
            for recording in expired:
                with log_context(meeting=recording.meeting_id, recording=recording.id):
                    await self._delete_recording(recording)
                    done.notes_deleted += 1
        if self._retain_sources is not None:
            expired = await self._store.list_recordings_transcribed_before(
                now - self._retain_sources, source_kept=True, limit=self._limit
            )
            for recording in expired:
                with log_context(meeting=recording.meeting_id, recording=recording.id):
                    done.sources_deleted += await self._delete_source(recording, now)

    async def _delete_source(self, recording: Recording, now: datetime) -> int:
        """Deletes the recording's source blobs, then says so on the recording; 1 if this pass marked it."""
        # Blobs first, the mark last: a pass that dies between them deletes nothing more next time and
        # marks it then. Everything under the recording's prefix in `recordings` is its source (the
        # upload, or ACS's chunks): the notes live in `artifacts`.
        removed = await self._blobs.delete_prefix(
            RECORDINGS, recording_prefix(recording.meeting_id, recording.id)
        )
        marked: list[bool] = []

        def mark(current: Recording) -> Recording | None:
            if current.source_deleted_at is not None:
                return None  # another pass was first
            current.source_deleted_at = utc_seconds(now)
            marked.append(True)
            return current

        await recording_state.update(
            self._store, recording.meeting_id, recording.id, mark, clock=self._clock, events=self._events
        )
        if marked:
            log.info(
                "recording %s: its transcript is older than the retention of sources: %d source blob(s)"
                " deleted, the notes stay",
                recording.id,
                removed,
            )
        return len(marked)

    async def _delete_recording(self, recording: Recording) -> None:
        # As RecordingService.delete: blobs first, the document last, so a pass that dies part way
        # finds the recording again next time and finishes.
        prefix = recording_prefix(recording.meeting_id, recording.id)
        removed = await self._blobs.delete_prefix(RECORDINGS, prefix)
        removed += await self._blobs.delete_prefix(ARTIFACTS, prefix)
        await self._store.delete_recording(recording.meeting_id, recording.id)
        log.info(
            "recording %s: its notes are older than their retention: deleted with %d blob(s)",
            recording.id,
            removed,
        )

    async def _upload(self, recording: Recording, now: datetime, done: Reconciled) -> None:
        ref = RecordingRef(recording.meeting_id, recording.id)
        info = await self._blobs.info(RECORDINGS, recording.source_blob)
        if info is not None:
            # As the missed event would have: its version, so that the event arriving after all is a
            # redelivery.
            etag = info.etag.strip('"')
            if await self._recordings.queue_transcription(ref, landed=recording.source_blob, etag=etag):
                log.warning(
                    "recording %s: its file was there but no event queued it: queued now", recording.id
                )
                done.queued_uploads += 1
            return
        deadline = recording.upload_expires_at or recording.created_at + upload_lifetime(recording.size_bytes)
        if now < deadline + UPLOAD_GRACE:
            return
        if await self._fail_expired(ref, deadline, now):
            log.warning(
                "recording %s: no file before its upload URL expired (%s): failed",
                recording.id,
                deadline.isoformat(),
            )
            done.expired_uploads += 1

    async def _fail_expired(self, ref: RecordingRef, deadline: datetime, now: datetime) -> bool:
        failed: list[bool] = []

        def expire(recording: Recording) -> Recording | None:
            # Checked again on every attempt: the file, or a new upload URL, may have come meanwhile.
            if recording.status != RecordingStatus.AWAITING_UPLOAD or recording.call is not None:
                return None
            expires = recording.upload_expires_at or deadline
            if now < expires + UPLOAD_GRACE:
                return None
            recording.status = RecordingStatus.FAILED
            recording.error = RecordingError(
                code=UPLOAD_EXPIRED,
                detail="no file was uploaded before the upload URL expired: "
                "ask for a new one (POST .../upload) and upload the file again",
            )
            failed.append(True)
            return recording

        await recording_state.update(
            self._store, ref.meeting_id, ref.recording_id, expire, clock=self._clock, events=self._events
        )
        return bool(failed)

    async def _requeue(self, recording: Recording, status: RecordingStatus, queue: str, now: datetime) -> int:
        """Lets go of a claim that ran out and queues the job again; 1 if it did."""
        claim = recording.claim
        if claim is None or claim.expires_at > now:
            return 0
        released: list[bool] = []

        def release(current: Recording) -> Recording | None:
            held = current.claim
            if current.status != status or held is None or held.expires_at > now:
                return None  # the job came back to life, finished, or another pass was first
            current.claim = None
            released.append(True)
            return current

        await recording_state.update(
            self._store, recording.meeting_id, recording.id, release, clock=self._clock, events=self._events
        )
        if not released:
            return 0
        await self._queues.send(queue, job_message(RecordingRef(recording.meeting_id, recording.id)))
        log.warning(
            "recording %s: the %s job's claim (%s) ran out at %s: queued again",
            recording.id,
            queue,
            claim.owner,
            claim.expires_at.isoformat(),
        )
        return 1
