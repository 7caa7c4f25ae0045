"""The transcription job: one queued recording's source blob to its four transcript files.

Reliability (DESIGN rule 5), step by step:
- The job claims the recording with an ETag write. The claim names the queue message and expires unless
  renewed: a duplicate message finds a live claim held by another message and leaves (that message
  stays until its own job ends, so nothing is lost); a redelivery of the same message, or any message
  after the claim expired, takes over.
- Every finished piece is kept under `work/` before it counts, so a retried job sends only the pieces
  that were in flight.
- The transcript files are written before the status that announces them; the claim is checked at that
  write, so of two jobs only one ever marks the recording, and they wrote the same files.
- A permanent error (a broken file, a refusal by the provider) fails the recording at once with a
  precise error; anything else is raised for the queue to retry, and the poison handler fails the
  recording when the retries run out.
- A job that would outlive its time budget stops between pieces and queues its own continuation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import IO, cast

from shared.blob_file import BlobFile
from shared.domain.recording_paths import (
    ARTIFACTS,
    RECORDINGS,
    TRANSCRIPT_FILES,
    TRANSCRIPTION_JOBS,
    RecordingRef,
    artifact_blob,
    job_message,
    work_prefix,
)
from shared.domain.recordings import (
    JobClaim,
    Recording,
    RecordingError,
    RecordingStage,
    RecordingStatus,
)
from shared.logs import bind_meeting, bind_recording
from shared.media import MediaError, probe
from shared.ports import BlobStore, QueueStore, Store, Stored, Transcriber, TranscriberRejected
from shared.services import recording_state
from shared.speech import SpeechResult, transcribe_source
from shared.timefmt import now as utc_now
from shared.transcripts import PieceResult, merge, to_json, to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

# A claim not renewed for this long belongs to a job that died: another may take over.
LEASE = timedelta(minutes=3)
# How often a running job renews its claim and reports progress.
HEARTBEAT_SECONDS = 20.0
# Stop between pieces and continue in a new invocation before the host's function timeout (10 min).
TIME_BUDGET_SECONDS = 8 * 60.0


class Outcome(StrEnum):
    TRANSCRIBED = "transcribed"
    FAILED = "failed"  # permanently, with the reason on the recording
    SKIPPED = "skipped"  # nothing to do: done already, deleted, or another job holds it
    CONTINUED = "continued"  # out of time: a continuation was queued


class ClaimLost(Exception):
    """Another job took the recording over (this one was presumed dead), or the recording is gone."""


class OutOfTime(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Job:
    ref: RecordingRef
    message_id: str
    dequeue_count: int


class TranscriptionJob:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        transcriber: Transcriber,
        *,
        clock: Callable[[], datetime] = utc_now,
        time_budget_seconds: float = TIME_BUDGET_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._queues = queues
        self._transcriber = transcriber
        self._clock = clock
        self._budget = time_budget_seconds
        self._heartbeat = heartbeat_seconds

    async def run(self, job: Job) -> Outcome:
        bind_meeting(job.ref.meeting_id)
        bind_recording(job.ref.recording_id)
        claimed = await self._claim(job)
        if claimed is None:
            return Outcome.SKIPPED
        log.info(
            "transcribing recording (attempt %d, delivery %d)", claimed.value.attempts, job.dequeue_count
        )
        try:
            return await self._run_claimed(job, claimed.value)
        except (MediaError, TranscriberRejected) as exc:
            code = f"media_{exc.kind}" if isinstance(exc, MediaError) else "transcriber_rejected"
            detail = exc.detail if isinstance(exc, MediaError) else str(exc)
            await self._fail(job, code, detail)
            return Outcome.FAILED
        except ClaimLost:
            log.info("another job took the recording over, or it was deleted: this one stops")
            return Outcome.SKIPPED
        except Exception as exc:
            # Retried by the queue; the recording shows why meanwhile, and the claim is let go so the
            # retry need not wait for it to expire.
            with contextlib.suppress(Exception):
                await self._release(job, RecordingError(code="retrying", detail=_describe(exc)))
            raise

    async def _run_claimed(self, job: Job, recording: Recording) -> Outcome:
        ref = job.ref
        source = await self._blobs.info(RECORDINGS, recording.source_blob)
        if source is None:
            raise MediaError("empty", "the recording's upload is gone from storage")
        if source.size == 0:
            raise MediaError("empty", "the uploaded file is empty")
        loop = asyncio.get_running_loop()

        def open_source() -> IO[bytes]:
            # A RawIOBase is a binary file to PyAV; typeshed's IO[bytes] is the nominal type media takes.
            return cast(
                IO[bytes], BlobFile(self._blobs, RECORDINGS, recording.source_blob, source.size, loop)
            )

        declared = (await asyncio.to_thread(probe, open_source())).duration_seconds
        finished = await self._finished_pieces(ref)
        progress = _Progress(declared)
        deadline = time.monotonic() + self._budget

        async def keep(key: str, result: PieceResult) -> None:
            if time.monotonic() > deadline:
                raise OutOfTime
            await self._blobs.put(
                ARTIFACTS, f"{work_prefix(ref.meeting_id, ref.recording_id)}{key}.json",
                result.model_dump_json(by_alias=True).encode(), content_type="application/json",
            )  # fmt: skip

        try:
            async with self._keeping_claim(job, progress):
                speech = await transcribe_source(
                    open_source,
                    self._transcriber,
                    per_channel=bool(recording.channels),
                    language=recording.language,
                    finished=finished,
                    on_piece=keep,
                    on_decoded=progress.decoded,
                )
        except OutOfTime:
            await self._continue_later(job)
            return Outcome.CONTINUED
        await self._write_transcript(job, recording, speech)
        return Outcome.TRANSCRIBED

    async def poisoned(self, ref: RecordingRef) -> bool:
        """The queue gave up on a job for `ref`: fail the recording with the last error it saw.

        Not while another job holds a live claim (a poisoned duplicate says nothing about that job), and
        never a recording that is done. Returns whether the recording was failed.
        """
        bind_meeting(ref.meeting_id)
        bind_recording(ref.recording_id)
        now = self._clock()

        def fail(recording: Recording) -> Recording | None:
            if recording.status not in (RecordingStatus.QUEUED, RecordingStatus.TRANSCRIBING):
                return None
            if recording.claim is not None and recording.claim.expires_at > now:
                return None
            last = recording.error.detail if recording.error is not None else "no error was recorded"
            recording.status = RecordingStatus.FAILED
            recording.error = RecordingError(
                code="transcription_failed",
                detail=f"transcription failed after {recording.attempts} attempts; the last error: {last}",
            )
            recording.claim = None
            return recording

        before = await self._store.get_recording(ref.meeting_id, ref.recording_id)
        stored = await recording_state.update(
            self._store, ref.meeting_id, ref.recording_id, fail, clock=self._clock, current=before
        )
        failed = stored is not None and before is not None and stored.etag != before.etag
        if failed:
            log.error("transcription job poisoned: the recording is marked failed")
        else:
            log.warning("a poisoned transcription job changed nothing (the recording is done or held)")
        return failed

    # --- claim ---------------------------------------------------------------------------------------

    async def _claim(self, job: Job) -> Stored[Recording] | None:
        now = self._clock()
        skipped: list[str] = []

        def take(recording: Recording) -> Recording | None:
            reason = _why_not_claim(recording, job.message_id, now)
            if reason is not None:
                skipped.append(reason)
                return None
            recording.status = RecordingStatus.TRANSCRIBING
            recording.stage = RecordingStage.TRANSCRIPT
            recording.claim = JobClaim(owner=job.message_id, expires_at=now + LEASE)
            recording.attempts += 1
            return recording

        stored = await recording_state.update(
            self._store, job.ref.meeting_id, job.ref.recording_id, take, clock=self._clock
        )
        if stored is None:
            log.warning("transcription job for a recording that does not exist: dropped")
            return None
        if skipped:
            log.info("transcription job skipped: %s", skipped[-1])
            return None
        return stored

    async def _renew(self, job: Job, progress: float | None) -> None:
        def renew(recording: Recording) -> Recording:
            if not _holds(recording, job.message_id):
                raise ClaimLost
            recording.claim = JobClaim(owner=job.message_id, expires_at=self._clock() + LEASE)
            if progress is not None:
                recording.progress = max(recording.progress, progress)
            return recording

        if await self._update(job, renew) is None:
            raise ClaimLost

    @contextlib.asynccontextmanager
    async def _keeping_claim(self, job: Job, progress: _Progress) -> AsyncIterator[None]:
        """Renews the claim (with the progress) while the body runs; a lost claim cancels the body."""
        body = asyncio.current_task()
        assert body is not None
        lost: list[BaseException] = []

        async def heartbeat() -> None:
            try:
                while True:
                    await asyncio.sleep(self._heartbeat)
                    await self._renew(job, progress.fraction())
            except ClaimLost as exc:
                lost.append(exc)
                body.cancel()

        keeper = asyncio.ensure_future(heartbeat())
        try:
            yield
        except asyncio.CancelledError:
            if lost:
                raise ClaimLost from None
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _release(self, job: Job, error: RecordingError | None) -> None:
        def release(recording: Recording) -> Recording | None:
            if not _holds(recording, job.message_id):
                return None
            recording.claim = None
            recording.error = error
            return recording

        await self._update(job, release)

    async def _continue_later(self, job: Job) -> None:
        await self._release(job, None)
        await self._queues.send(TRANSCRIPTION_JOBS, job_message(job.ref))
        log.info("time budget spent: the transcription continues in a new job")

    async def _update(self, job: Job, change: recording_state.Change) -> Stored[Recording] | None:
        return await recording_state.update(
            self._store, job.ref.meeting_id, job.ref.recording_id, change, clock=self._clock
        )

    # --- pieces and outputs ----------------------------------------------------------------------------

    async def _finished_pieces(self, ref: RecordingRef) -> dict[str, PieceResult]:
        prefix = work_prefix(ref.meeting_id, ref.recording_id)
        finished: dict[str, PieceResult] = {}
        async for blob in self._blobs.list_blobs(ARTIFACTS, prefix=prefix):
            key = blob.name.removeprefix(prefix).removesuffix(".json")
            finished[key] = PieceResult.model_validate_json(await self._blobs.get(ARTIFACTS, blob.name))
        if finished:
            log.info("resuming: %d pieces were transcribed by an earlier attempt", len(finished))
        return finished

    async def _write_transcript(self, job: Job, recording: Recording, speech: SpeechResult) -> None:
        ref = job.ref
        channel_users = {c.channel: c.user_id for c in recording.channels}
        language = recording.language or speech.language or "und"
        transcript = merge(ref.recording_id, language, speech.duration_seconds, speech.pieces, channel_users)
        renderings = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}
        for fmt, (name, media_type) in TRANSCRIPT_FILES.items():
            body = renderings[fmt](transcript).encode()
            await self._blobs.put(
                ARTIFACTS,
                artifact_blob(ref.meeting_id, ref.recording_id, name),
                body,
                content_type=media_type,
            )

        def announce(stored: Recording) -> Recording:
            if not _holds(stored, job.message_id):
                raise ClaimLost
            stored.status = RecordingStatus.COMPLETED
            stored.stage = RecordingStage.TRANSCRIPT
            stored.progress = 1.0
            stored.error = None
            stored.claim = None
            stored.duration_seconds = round(speech.duration_seconds, 3)
            stored.language = stored.language or (None if language == "und" else language)
            stored.artifacts = sorted({*stored.artifacts, *(name for name, _ in TRANSCRIPT_FILES.values())})
            return stored

        if await self._update(job, announce) is None:
            # Deleted while we worked: what we wrote after the delete must not outlive it.
            await self._blobs.delete_prefix(ARTIFACTS, f"{ref.meeting_id}/{ref.recording_id}/")
            raise ClaimLost
        removed = await self._blobs.delete_prefix(ARTIFACTS, work_prefix(ref.meeting_id, ref.recording_id))
        log.info(
            "transcript written: %d segments, %.1f s of audio, %d pieces sent now (%d kept from before)",
            len(transcript.segments),
            speech.duration_seconds,
            speech.transcribed,
            removed - speech.transcribed,
        )

    async def _fail(self, job: Job, code: str, detail: str) -> None:
        def fail(recording: Recording) -> Recording | None:
            if not _holds(recording, job.message_id):
                return None
            recording.status = RecordingStatus.FAILED
            recording.error = RecordingError(code=code, detail=detail)
            recording.claim = None
            return recording

        await self._update(job, fail)
        log.warning("transcription failed for good (%s): %s", code, detail)


class _Progress:
    """The share of the recording transcribed, from the seconds decoded (decoding runs barely ahead)."""

    def __init__(self, declared_seconds: float | None) -> None:
        self._declared = declared_seconds
        self._decoded = 0.0

    def decoded(self, seconds: float) -> None:
        self._decoded = seconds  # called from the decoding thread: a float store is atomic

    def fraction(self) -> float | None:
        if not self._declared:
            return None
        # Never 1 before the transcript is written: the final write says done.
        return min(0.99, round(self._decoded / self._declared, 3))


def _holds(recording: Recording, owner: str) -> bool:
    return (
        recording.status == RecordingStatus.TRANSCRIBING
        and recording.claim is not None
        and recording.claim.owner == owner
    )


def _why_not_claim(recording: Recording, owner: str, now: datetime) -> str | None:
    if recording.status in (RecordingStatus.COMPLETED, RecordingStatus.SUMMARIZING):
        return "the transcript is written already"
    if recording.status == RecordingStatus.FAILED:
        return "the recording failed; a new upload starts it over"
    if recording.status == RecordingStatus.AWAITING_UPLOAD:
        return "the recording has not been uploaded"
    claim = recording.claim
    if claim is not None and claim.owner != owner and claim.expires_at > now:
        return f"another job ({claim.owner}) holds the recording until {claim.expires_at.isoformat()}"
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
