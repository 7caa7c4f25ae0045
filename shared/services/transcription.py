"""The transcription job: one queued recording's source blob to its four transcript files.

Claims, duplicates, failures and the poison queue follow shared/services/jobs.py. On top of that:
- Every finished piece is kept under `work/` before it counts, so a retried job sends only the pieces
  that were in flight.
- The transcript files are written before the status that announces them (`summarizing`, with the
  summary job queued), and that write checks the claim, so of two jobs only one ever marks the recording.
- A permanent error (a broken file, a refusal by the provider) fails the recording at once with a
  precise error; anything else is raised for the queue to retry.
- A job that would outlive its time budget stops between pieces and queues its own continuation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, cast

from shared.blob_file import BlobFile
from shared.domain.models import Meeting, RecordingPolicy
from shared.domain.recording_paths import (
    ARTIFACTS,
    RECORDINGS,
    SUMMARY_JOBS,
    TRANSCRIPT_FILES,
    TRANSCRIPTION_JOBS,
    RecordingRef,
    artifact_blob,
    job_message,
    recording_prefix,
    work_prefix,
)
from shared.domain.recordings import Recording, RecordingStage, RecordingStatus, Usage
from shared.media import MediaError, probe
from shared.ports import BlobStore, QueueStore, Store, Transcriber, TranscriberRejected, TranscriptionContext
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services.jobs import HEARTBEAT_SECONDS, ClaimLost, Job, Outcome, RecordingJob, Stage
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.speech import SpeechProgress, SpeechResult, in_decoder_thread, transcribe_source
from shared.telemetry import metrics
from shared.timefmt import now as utc_now
from shared.timefmt import utc_seconds
from shared.transcripts import PieceResult, merge, to_json, to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

# Stop between pieces and continue in a new invocation before the host's function timeout (10 min).
TIME_BUDGET_SECONDS = 8 * 60.0

TRANSCRIPT_STAGE = Stage(
    stage=RecordingStage.TRANSCRIPT,
    working=RecordingStatus.TRANSCRIBING,
    claimable_from=frozenset({RecordingStatus.QUEUED, RecordingStatus.TRANSCRIBING}),
    queue=TRANSCRIPTION_JOBS,
    failure_code="transcription_failed",
)

__all__ = ["Job", "Outcome", "TranscriptionJob"]


# The largest source file taken, as for an upload (DESIGN rule 4; CreateRecording refuses more).
MAX_SOURCE_BYTES = 4 * 1024**3
# MAX_RECORDING_MINUTES' default: the longest recording transcribed.
MAX_RECORDING_MINUTES = 480


class OutOfTime(Exception):
    pass


class SourceRefused(Exception):
    """A source that breaks the limits: permanent, with the error code clients see."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class TranscriptionJob(RecordingJob):
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
        max_recording_minutes: int = MAX_RECORDING_MINUTES,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
        redact_pii: bool = False,
    ) -> None:
        super().__init__(
            TRANSCRIPT_STAGE,
            store,
            queues,
            clock=clock,
            heartbeat_seconds=heartbeat_seconds,
            events=events,
            search=search,
        )
        self._blobs = blobs
        self._transcriber = transcriber
        self._budget = time_budget_seconds
        self._max_seconds = max_recording_minutes * 60.0
        self._redact = redact_pii

    async def _open(self, name: str, announced: int | None) -> Callable[[], IO[bytes]]:
        """How the decoding thread opens a source blob: as a file over ranged reads, once its real size
        (the store's, not the client's word) is checked against the announced one and the 4 GiB limit."""
        info = await self._blobs.info(RECORDINGS, name)
        if info is None:
            raise MediaError("empty", "the recording's upload is gone from storage")
        if info.size == 0:
            raise MediaError("empty", "the uploaded file is empty")
        if info.size > MAX_SOURCE_BYTES:
            raise SourceRefused(
                "too_large", f"the file holds {info.size} bytes, more than the {MAX_SOURCE_BYTES} allowed"
            )
        # Exactly what was announced: the upload URL's lifetime and every limit were granted for that size,
        # and a file that differs is not the one that was announced (no slack: a larger one is refused, a
        # smaller one is truncated or another file).
        if announced is not None and info.size != announced:
            raise SourceRefused(
                "size_mismatch",
                f"the uploaded file holds {info.size} bytes, but {announced} were announced: "
                "upload the announced file (or create a recording for this one)",
            )
        loop = asyncio.get_running_loop()
        # A RawIOBase is a binary file to PyAV; typeshed's IO[bytes] is the nominal type media takes.
        return lambda: cast(IO[bytes], BlobFile(self._blobs, RECORDINGS, name, info.size, loop))

    def _permanent(self, exc: Exception) -> tuple[str, str] | None:
        if isinstance(exc, MediaError):
            return f"media_{exc.kind}", exc.detail
        if isinstance(exc, SourceRefused):
            return exc.code, exc.detail
        if isinstance(exc, TranscriberRejected):
            return "transcriber_rejected", str(exc)
        return None

    async def _work(self, job: Job, recording: Recording) -> Outcome:
        ref = job.ref
        parts = recording.source_parts or [recording.source_blob]
        # An upload is checked against what its creator announced; ACS's files have no announced size.
        announced = recording.size_bytes if recording.call is None and not recording.source_parts else None
        sources = [await self._open(name, announced) for name in parts]
        # What the containers declare (a part that does not say leaves it unknown): the progress yardstick.
        declared: float | None = 0.0
        for source in sources:
            seconds = (await in_decoder_thread(probe, source())).duration_seconds
            declared = None if seconds is None or declared is None else declared + seconds
        # A header that admits to more than the cap fails before anything is decoded or sent; one that
        # says less (or nothing) is held to it while decoding (_Progress.decoded stops at the cap).
        if declared is not None and declared > self._max_seconds:
            raise _too_long(self._max_seconds, f"it declares {declared / 60:.0f} minutes")
        finished = await self._finished_pieces(ref)
        meeting = await self._store.get_meeting(ref.meeting_id)
        context = None if meeting is None else context_of(meeting.value)
        progress = _Progress(declared, self._max_seconds)
        deadline = time.monotonic() + self._budget

        async def keep(key: str, result: PieceResult) -> None:
            await self._blobs.put(
                ARTIFACTS, f"{work_prefix(ref.meeting_id, ref.recording_id)}{key}.json",
                result.model_dump_json(by_alias=True).encode(), content_type="application/json",
            )  # fmt: skip
            # Checked once the piece is kept: what was paid for is never thrown away.
            if time.monotonic() > deadline:
                raise OutOfTime

        declined = await self._declined_channels(recording)
        try:
            async with self._keeping_claim(job, progress.fraction):
                speech = await transcribe_source(
                    sources,
                    self._transcriber,
                    skip_channels=declined,
                    per_channel=bool(recording.channels),
                    language=recording.language,
                    context=context,
                    finished=finished,
                    on_piece=keep,
                    on_decoded=progress.decoded,
                    progress=progress.speech,
                )
        except OutOfTime:
            await self._continue_later(job)
            return Outcome.CONTINUED
        await self._write_transcript(job, recording, speech)
        return Outcome.DONE

    async def _declined_channels(self, recording: Recording) -> frozenset[int]:
        """The channels of participants who declined the meeting's recording notice: left out."""
        if not recording.channels:
            return frozenset()
        stored = await self._store.get_meeting(recording.meeting_id)
        if stored is None or stored.value.recording_policy is not RecordingPolicy.CONSENT:
            return frozenset()
        meeting = stored.value
        declined = frozenset(c.channel for c in recording.channels if meeting.consent_of(c.user_id) is False)
        if declined:
            log.info("channel(s) %s left out: their participants declined to be recorded", sorted(declined))
        return declined

    async def _deleted_meanwhile(self, ref: RecordingRef) -> None:
        # Pieces kept since the delete hold the deleted recording's words: they go with it.
        removed = await self._blobs.delete_prefix(
            ARTIFACTS, recording_prefix(ref.meeting_id, ref.recording_id)
        )
        log.info(
            "the recording was deleted while it was transcribed: %d blobs written since removed", removed
        )

    async def _not_claimed(self, ref: RecordingRef) -> None:
        """A transcription message for a recording already transcribed: perhaps the job that announced it
        died before it could queue the summary (its message is this one, delivered again). Queue it again:
        the summary job ignores a duplicate."""
        stored = await self._store.get_recording(ref.meeting_id, ref.recording_id)
        if stored is not None and stored.value.status == RecordingStatus.SUMMARIZING:
            await self._queues.send(SUMMARY_JOBS, job_message(ref))
            log.info("the transcript was announced already: its summary job is queued (again)")

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
        # Speakers are named as the meeting names its participants now; a later rename does not re-render
        # this transcript (it is what was known when it was written).
        meeting = await self._store.get_meeting(ref.meeting_id)
        display_names = meeting.value.display_names() if meeting is not None else {}
        transcript = merge(
            ref.recording_id, language, speech.duration_seconds, speech.pieces, channel_users, display_names
        )
        if self._redact:
            from shared.notes.redaction import redact_transcript  # noqa: PLC0415 - only when asked for

            # Before anything is written: the summary job, search and readers only ever see the masks.
            transcript = redact_transcript(transcript)
        renderings = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}
        for fmt, (name, media_type) in TRANSCRIPT_FILES.items():
            body = renderings[fmt](transcript).encode()
            await self._blobs.put(
                ARTIFACTS,
                artifact_blob(ref.meeting_id, ref.recording_id, name),
                body,
                content_type=media_type,
            )

        names = [name for name, _ in TRANSCRIPT_FILES.values()]
        usage = Usage(
            stage=RecordingStage.TRANSCRIPT,
            provider=self._transcriber.name,
            requests=len(speech.pieces),
            audio_seconds=round(sum(piece.duration_seconds for piece in speech.pieces), 3),
        )

        def announce(stored: Recording) -> None:
            # Transcribed: the summary comes next, in its own job.
            stored.status = RecordingStatus.SUMMARIZING
            stored.stage = RecordingStage.SUMMARY
            stored.progress = 0.0
            stored.duration_seconds = round(speech.duration_seconds, 3)
            stored.language = stored.language or (None if language == "und" else language)
            stored.artifacts = sorted({*stored.artifacts, *names})
            stored.add_usage(usage)
            # Kept from a first run (a re-transcription does not restart the source's retention).
            stored.transcript_written_at = stored.transcript_written_at or utc_seconds(self._clock())

        announced = await self._announce(job, announce)
        if announced is None:
            raise ClaimLost  # deleted while we worked: run() removes what we wrote
        # Counted once announced: a duplicate job that lost the claim sent its audio too, but the pieces
        # it kept were reused, so what is counted is what this recording's transcript took.
        metrics.add(metrics.AUDIO_MINUTES, usage.audio_seconds / 60, {metrics.PROVIDER: usage.provider})
        await self._queues.send(SUMMARY_JOBS, job_message(ref))
        if meeting is not None:
            # Searchable from now on (the summary's items join it when the summary is written).
            await self._search.recording_changed(meeting.value, announced.value)
        if recording.call is not None:
            # Live captions of this call have a draft transcript: this one replaces it.
            from shared.services.captions import replace_live_transcripts  # noqa: PLC0415

            await replace_live_transcripts(
                self._store, self._blobs, self._queues, recording, transcript, events=self._events
            )
        removed = await self._blobs.delete_prefix(ARTIFACTS, work_prefix(ref.meeting_id, ref.recording_id))
        log.info(
            "transcript written: %d segments, %.1f s of audio, %d pieces sent now (%d kept from before)",
            len(transcript.segments),
            speech.duration_seconds,
            speech.transcribed,
            removed - speech.transcribed,
        )


def context_of(meeting: Meeting) -> TranscriptionContext:
    """What the meeting tells the transcriber: how its participants are named (the display name, else the
    user id), its title and description."""
    return TranscriptionContext(
        names=tuple(p.display_name or p.user_id for p in meeting.participants),
        title=meeting.title,
        description=meeting.description,
    )


def _too_long(max_seconds: float, why: str) -> SourceRefused:
    return SourceRefused(
        "too_long",
        f"the recording is longer than the {max_seconds / 60:.0f} minutes transcribed "
        f"(MAX_RECORDING_MINUTES): {why}",
    )


class _Progress:
    """The share of the recording transcribed (SpeechProgress: decoding, then the pieces as the transcriber
    works on them), and the cap on what is decoded at all."""

    def __init__(self, declared_seconds: float | None, max_seconds: float) -> None:
        self._max = max_seconds
        self.speech = SpeechProgress(declared_seconds)

    def decoded(self, seconds: float) -> None:
        """Called from the decoding thread. Past the cap it raises, which ends decoding there: the audio
        beyond is never cut into pieces, so never sent nor billed."""
        if seconds > self._max:
            raise _too_long(self._max, f"decoding passed {self._max / 60:.0f} minutes, and stopped there")

    def fraction(self) -> float | None:
        return self.speech.fraction()
