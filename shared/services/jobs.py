"""What every queued job on a recording shares: claiming it, keeping the claim, failing it, giving up.

A job claims the recording with an ETag write that names its queue message and expires unless renewed.
A duplicate message finds a live claim held by another message and leaves (that message stays until
its own job ends, so nothing is lost); a redelivery of the same message, or any message after the claim
expired, takes over. Every later write of the job checks that it still holds the claim, so of two jobs
only one ever announces a result. The poison handler fails the recording with the last error seen,
unless a job still holds a live claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.recording_paths import RecordingRef, job_message
from shared.domain.recordings import (
    JobClaim,
    Recording,
    RecordingError,
    RecordingStage,
    RecordingStatus,
)
from shared.logs import bind_meeting, bind_recording
from shared.ports import QueueStore, Store, Stored
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services import recording_state
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.speech import eased
from shared.telemetry import metrics
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

# A claim not renewed for this long belongs to a job that died: another may take over.
LEASE = timedelta(minutes=3)
# How often a running job renews its claim.
HEARTBEAT_SECONDS = 20.0
# How often a running job stores (and so announces) its progress when it has moved: often enough for a
# live progress bar that never stands still 2 s (the beat, plus the write and a loaded machine's delays,
# stays under that), rarely enough that a job writes its recording at most once in that time.
PROGRESS_SECONDS = 1.5


def elapsed_share(
    expected_seconds: float, *, clock: Callable[[], float] = time.monotonic
) -> Callable[[], float]:
    """Progress for work that reports none of its own (a request to a model): the time it has taken against
    the time it is expected to take, from now, in step at first and creeping after (never reaching 1)."""
    started = clock()

    def share() -> float:
        return min(0.99, round(eased((clock() - started) / max(expected_seconds, 1e-3)), 3))

    return share


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"  # permanently, with the reason on the recording
    SKIPPED = "skipped"  # nothing to do: done already, deleted, or another job holds it
    CONTINUED = "continued"  # out of time: a continuation was queued


class ClaimLost(Exception):
    """Another job took the recording over (this one was presumed dead), or the recording is gone."""


@dataclass(frozen=True, slots=True)
class Job:
    ref: RecordingRef
    message_id: str
    dequeue_count: int
    # When the message entered its queue (the host says), for the queue wait; None when unknown.
    enqueued_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    """The part of the pipeline a job runs: the status it works in and where its messages go."""

    stage: RecordingStage
    working: RecordingStatus  # the recording's status while the job is queued or running
    claimable_from: frozenset[RecordingStatus]  # statuses a job of this stage may claim
    queue: str
    failure_code: str  # the error code when the queue gives up


class RecordingJob(ABC):
    """The claim mechanics; subclasses do the work between `_claim` and their announcing write."""

    def __init__(
        self,
        stage: Stage,
        store: Store,
        queues: QueueStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        progress_seconds: float = PROGRESS_SECONDS,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
    ) -> None:
        self._stage = stage
        self._store = store
        self._queues = queues
        self._clock = clock
        self._heartbeat = heartbeat_seconds
        self._progress_every = min(progress_seconds, heartbeat_seconds)
        self._events = events
        self._search = search

    async def run(self, job: Job) -> Outcome:
        """Claims the recording and does the work; the outcome. Raises what the queue should retry."""
        if job.enqueued_at is not None:
            wait = (self._clock() - job.enqueued_at).total_seconds()
            metrics.record(metrics.QUEUE_WAIT, wait, {metrics.QUEUE: self._stage.queue})
        claimed = await self._claim(job)
        if claimed is None:
            await self._not_claimed(job.ref)
            return Outcome.SKIPPED
        started = time.monotonic()
        outcome: str = metrics.RETRY
        try:
            result = await self._worked(job, claimed.value)
            outcome = result.value
            return result
        finally:
            # Runs that did something, however they ended (a retry raised: its run took that long too).
            metrics.record(
                metrics.STAGE_DURATION,
                time.monotonic() - started,
                {metrics.STAGE: self._stage.stage.value, metrics.OUTCOME: outcome},
            )

    async def _worked(self, job: Job, recording: Recording) -> Outcome:
        try:
            return await self._work(job, recording)
        except ClaimLost:
            log.info("another job took the recording over, or it was deleted: this one stops")
            if await self._store.get_recording(job.ref.meeting_id, job.ref.recording_id) is None:
                await self._deleted_meanwhile(job.ref)
                # After the delete's own removal, this job may have indexed it again: gone for good.
                await self._search.recording_removed(job.ref.meeting_id, job.ref.recording_id)
            return Outcome.SKIPPED
        except Exception as exc:
            permanent = self._permanent(exc)
            if permanent is None:
                await self._release_after(job, exc)
                raise
            await self._fail(job, *permanent)
            return Outcome.FAILED

    @abstractmethod
    async def _work(self, job: Job, recording: Recording) -> Outcome:
        """The stage's work on a claimed recording, ending with `_announce`."""

    def _permanent(self, exc: Exception) -> tuple[str, str] | None:
        """(error code, detail) when `exc` means retrying cannot help; None to let the queue retry."""
        return None

    async def _deleted_meanwhile(self, ref: RecordingRef) -> None:  # noqa: B027 - a hook, empty by default
        """The recording was deleted while the job ran: what the job wrote since must go too."""

    async def _not_claimed(self, ref: RecordingRef) -> None:  # noqa: B027 - a hook, empty by default
        """Called when the job had nothing to do (done already, held by another, not yet at this stage)."""

    # --- claiming ------------------------------------------------------------------------------------

    async def _claim(self, job: Job) -> Stored[Recording] | None:
        bind_meeting(job.ref.meeting_id)
        bind_recording(job.ref.recording_id)
        now = self._clock()
        skipped: list[str] = []

        def take(recording: Recording) -> Recording | None:
            reason = self._why_not_claim(recording, job.message_id, now)
            if reason is not None:
                skipped.append(reason)
                return None
            recording.status = self._stage.working
            recording.stage = self._stage.stage
            recording.claim = JobClaim(owner=job.message_id, expires_at=now + LEASE)
            recording.attempts += 1
            return recording

        stored = await self._update(job.ref, take)
        if stored is None:
            log.warning("%s job for a recording that does not exist: dropped", self._stage.stage)
            return None
        if skipped:
            log.info("%s job skipped: %s", self._stage.stage, skipped[-1])
            return None
        log.info(
            "%s job running (attempt %d, delivery %d)",
            self._stage.stage,
            stored.value.attempts,
            job.dequeue_count,
        )
        return stored

    def _why_not_claim(self, recording: Recording, owner: str, now: datetime) -> str | None:
        if recording.status == RecordingStatus.FAILED:
            return "the recording failed; it must be started over"
        if recording.status not in self._stage.claimable_from:
            return f"the recording is {recording.status.value}, not at the {self._stage.stage.value} stage"
        claim = recording.claim
        if claim is not None and claim.owner != owner and claim.expires_at > now:
            return f"another job ({claim.owner}) holds the recording until {claim.expires_at.isoformat()}"
        return None

    def _holds(self, recording: Recording, owner: str) -> bool:
        return (
            recording.status == self._stage.working
            and recording.claim is not None
            and recording.claim.owner == owner
        )

    async def _renew(self, job: Job, progress: float | None) -> None:
        def renew(recording: Recording) -> Recording:
            if not self._holds(recording, job.message_id):
                raise ClaimLost
            recording.claim = JobClaim(owner=job.message_id, expires_at=self._clock() + LEASE)
            if progress is not None:
                recording.progress = max(recording.progress, progress)
            return recording

        if await self._update(job.ref, renew) is None:
            raise ClaimLost

    @contextlib.asynccontextmanager
    async def _keeping_claim(
        self, job: Job, progress: Callable[[], float | None] = lambda: None
    ) -> AsyncIterator[None]:
        """Renews the claim while the body runs, and stores the progress when it has moved (each write
        announces it); a lost claim cancels the body."""
        body = asyncio.current_task()
        assert body is not None
        lost: list[BaseException] = []
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        stored: list[float | None] = [None]

        async def heartbeat() -> None:
            nonlocal renewed_at
            beat = loop.time()
            while True:
                # On a fixed cadence: the time a write takes does not push the next one back.
                beat = max(beat + self._progress_every, loop.time())
                await asyncio.sleep(beat - loop.time())
                now = progress()
                moved = now is not None and now != stored[0]
                if not moved and loop.time() - renewed_at < self._heartbeat - self._progress_every / 2:
                    continue
                try:
                    await self._renew(job, now)
                    renewed_at, stored[0] = loop.time(), now
                except ClaimLost as exc:
                    lost.append(exc)
                    body.cancel()
                    return
                except Exception as exc:  # a store hiccup: the lease outlasts several beats, try again
                    log.warning(
                        "could not renew the claim (%s): trying again at the next beat", describe(exc)
                    )

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

    # --- ending ----------------------------------------------------------------------------------------

    async def _announce(self, job: Job, change: Callable[[Recording], None]) -> Stored[Recording] | None:
        """The write that says the job is done: only while holding the claim (else ClaimLost).

        None when the recording was deleted meanwhile (the caller removes what it wrote).
        """

        def finish(recording: Recording) -> Recording:
            if not self._holds(recording, job.message_id):
                raise ClaimLost
            change(recording)
            recording.claim = None
            recording.error = None
            return recording

        return await self._update(job.ref, finish)

    async def _release(self, job: Job, error: RecordingError | None) -> None:
        def release(recording: Recording) -> Recording | None:
            if not self._holds(recording, job.message_id):
                return None
            recording.claim = None
            recording.error = error
            return recording

        await self._update(job.ref, release)

    async def _release_after(self, job: Job, exc: BaseException) -> None:
        """A failure the queue will retry: the recording shows why meanwhile, and the claim is let go so
        the retry need not wait for it to expire."""
        with contextlib.suppress(Exception):
            await self._release(job, RecordingError(code="retrying", detail=describe(exc)))

    async def _continue_later(self, job: Job) -> None:
        await self._release(job, None)
        await self._queues.send(self._stage.queue, job_message(job.ref))
        log.info("time budget spent: the %s job continues in a new job", self._stage.stage)

    async def _fail(self, job: Job, code: str, detail: str) -> None:
        def fail(recording: Recording) -> Recording | None:
            if not self._holds(recording, job.message_id):
                return None
            recording.status = RecordingStatus.FAILED
            recording.error = RecordingError(code=code, detail=detail)
            recording.claim = None
            return recording

        await self._update(job.ref, fail)
        log.warning("%s failed for good (%s): %s", self._stage.stage, code, detail)

    async def poisoned(self, ref: RecordingRef) -> bool:
        """The queue gave up on a job for `ref`: fail the recording with the last error it saw.

        Not while another job holds a live claim (a poisoned duplicate says nothing about that job), and
        never a recording past this stage. Returns whether the recording was failed.
        """
        bind_meeting(ref.meeting_id)
        bind_recording(ref.recording_id)
        now = self._clock()

        held_until: list[datetime] = []

        def fail(recording: Recording) -> Recording | None:
            if recording.status not in self._stage.claimable_from:
                return None
            if recording.claim is not None and recording.claim.expires_at > now:
                held_until.append(recording.claim.expires_at)
                return None
            last = recording.error.detail if recording.error is not None else "no error was recorded"
            recording.status = RecordingStatus.FAILED
            recording.error = RecordingError(
                code=self._stage.failure_code,
                detail=f"{self._stage.stage.value} failed after {recording.attempts} attempts; "
                f"the last error: {last}",
            )
            recording.claim = None
            return recording

        before = await self._store.get_recording(ref.meeting_id, ref.recording_id)
        stored = await recording_state.update(
            self._store,
            ref.meeting_id,
            ref.recording_id,
            fail,
            clock=self._clock,
            current=before,
            events=self._events,
        )
        failed = stored is not None and before is not None and stored.etag != before.etag
        if failed:
            log.error("%s job poisoned: the recording is marked failed", self._stage.stage)
        elif held_until:
            # A live claim: a job is running, or one died without letting go. Dropping this message could
            # strand the recording, so the job is queued again for when the claim has run out: it then
            # finishes the work, or finds it done.
            delay = timedelta(seconds=math.ceil((held_until[-1] - now).total_seconds()) + 5)
            await self._queues.send(self._stage.queue, job_message(ref), delay=delay)
            log.warning("a poisoned %s job met a live claim: queued again in %s", self._stage.stage, delay)
        else:
            log.warning("a poisoned %s job changed nothing (the recording moved on)", self._stage.stage)
        return failed

    async def _update(self, ref: RecordingRef, change: recording_state.Change) -> Stored[Recording] | None:
        return await recording_state.update(
            self._store, ref.meeting_id, ref.recording_id, change, clock=self._clock, events=self._events
        )


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
