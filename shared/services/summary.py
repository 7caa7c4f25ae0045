"""The summary job: a transcribed recording's transcript to `summary.json` and `summary.md`.

Claims, duplicates, failures and the poison queue follow shared/services/jobs.py; the files are written
before the status (`completed`) that announces them. A summary that fails leaves the recording `failed`
with the reason, and its transcript still readable; regenerating it starts the summary stage again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import ValidationError

from shared.domain.recording_paths import (
    ARTIFACTS,
    SUMMARY_FILES,
    SUMMARY_JOBS,
    TRANSCRIPT_FILES,
    RecordingRef,
    artifact_blob,
    recording_prefix,
)
from shared.domain.recordings import Recording, RecordingStage, RecordingStatus, SummaryVersion, Usage
from shared.notes.evidence import cite, counts
from shared.ports import BlobNotFound, BlobStore, QueueStore, Store, Summarizer, SummarizerRejected
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services.jobs import (
    HEARTBEAT_SECONDS,
    ClaimLost,
    Job,
    Outcome,
    RecordingJob,
    Stage,
    elapsed_share,
)
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.services.summary_files import new_version_name, next_version, write_current, write_version
from shared.summaries import Summary, SummaryContent
from shared.telemetry import metrics
from shared.timefmt import now as utc_now
from shared.transcripts import Transcript

log = logging.getLogger(__name__)

SUMMARY_STAGE = Stage(
    stage=RecordingStage.SUMMARY,
    working=RecordingStatus.SUMMARIZING,
    claimable_from=frozenset({RecordingStatus.SUMMARIZING}),
    queue=SUMMARY_JOBS,
    failure_code="summary_failed",
)


# What a summary is expected to take, for its progress: a model's round trip, and its reading and writing
# time, which grows with the transcript (map-reduce over long ones).
SUMMARY_BASE_SECONDS = 5.0
SUMMARY_SECONDS_PER_WORD = 0.002


def expected_summary_seconds(transcript: Transcript) -> float:
    words = sum(len(segment.text.split()) for segment in transcript.segments)
    return SUMMARY_BASE_SECONDS + SUMMARY_SECONDS_PER_WORD * words


class TranscriptMissing(Exception):
    pass


def named_owners(content: SummaryContent, display_names: Mapping[str, str]) -> SummaryContent:
    """Owners that are a participant's userId (a speaker the transcript knew only by user), by the
    participant's display name as the meeting knows it now. Other owners (names as said) stay."""
    if not display_names or not any(item.owner in display_names for item in content.action_items):
        return content
    items = [
        item.model_copy(update={"owner": display_names[item.owner]})
        if item.owner is not None and item.owner in display_names
        else item
        for item in content.action_items
    ]
    return content.model_copy(update={"action_items": items})


class SummaryJob(RecordingJob):
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        summarizer: Summarizer,
        *,
        clock: Callable[[], datetime] = utc_now,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
        prices: metrics.Prices | None = None,
    ) -> None:
        super().__init__(
            SUMMARY_STAGE,
            store,
            queues,
            clock=clock,
            heartbeat_seconds=heartbeat_seconds,
            events=events,
            search=search,
        )
        self._blobs = blobs
        self._summarizer = summarizer
        self._prices = prices or metrics.Prices()

    def _permanent(self, exc: Exception) -> tuple[str, str] | None:
        if isinstance(exc, SummarizerRejected):
            return "summarizer_rejected", str(exc)
        if isinstance(exc, TranscriptMissing):
            return "transcript_missing", str(exc)
        return None

    async def _work(self, job: Job, recording: Recording) -> Outcome:
        ref = job.ref
        transcript = await self._transcript(recording)
        meeting = await self._store.get_meeting(ref.meeting_id)
        title = meeting.value.title if meeting is not None else None
        # A model's summary arrives whole: progress moves with the time it is expected to take.
        async with self._keeping_claim(job, elapsed_share(expected_summary_seconds(transcript))):
            made = await self._summarizer.summarize(transcript, title=title)
        names = meeting.value.display_names() if meeting is not None else {}
        # Evidence from the transcript itself: the summarizer only says where (shared/notes/evidence.py).
        notes = cite(named_owners(made.content, names), made.sources, transcript)
        at = self._clock()
        summary = Summary(
            **dict(notes), model=self._summarizer.name, generated_at=at, version=next_version(recording)
        )
        checked = counts(summary)
        version_file = new_version_name()
        await write_version(self._blobs, recording, version_file, summary)
        await write_current(self._blobs, recording, summary, title)
        usage = Usage(
            stage=RecordingStage.SUMMARY,
            provider=self._summarizer.name,
            requests=made.usage.requests,
            input_tokens=made.usage.input_tokens,
            output_tokens=made.usage.output_tokens,
            cited_items=checked.items,
            unverified_items=checked.unverified,
        )
        written = [name for name, _ in SUMMARY_FILES.values()]

        def announce(stored: Recording) -> None:
            stored.status = RecordingStatus.COMPLETED
            stored.stage = RecordingStage.SUMMARY
            stored.progress = 1.0
            stored.artifacts = sorted({*stored.artifacts, *written})
            stored.add_usage(usage)
            # The old versions stay: regenerating adds one (a duplicate job run, too: both are listed).
            stored.summary_versions.append(
                SummaryVersion(version=next_version(stored), blob=version_file, kind="generated", at=at)
            )

        announced = await self._announce(job, announce)
        if announced is None:
            raise ClaimLost  # deleted while we worked: run() removes what we wrote
        if meeting is not None:
            await self._search.recording_changed(meeting.value, announced.value)
        self._measure(usage, announced.value)

        log.info(
            "summary written: %d decisions, %d action items, %d chapters, %d of %d items unverified "
            "(%d requests, %d+%d tokens)",
            len(summary.decisions),
            len(summary.action_items),
            len(summary.chapters),
            checked.unverified,
            checked.items,
            usage.requests,
            usage.input_tokens,
            usage.output_tokens,
        )
        return Outcome.DONE

    def _measure(self, usage: Usage, recording: Recording) -> None:
        provider = {metrics.PROVIDER: usage.provider}
        metrics.add(metrics.TOKENS, usage.input_tokens, {**provider, metrics.DIRECTION: "in"})
        metrics.add(metrics.TOKENS, usage.output_tokens, {**provider, metrics.DIRECTION: "out"})
        hours = (recording.duration_seconds or 0.0) / 3600
        if hours > 0:
            # Everything this recording has cost so far (a regenerated summary adds its tokens), per hour.
            cost = metrics.estimated_cost(
                [(u.provider, u.audio_seconds, u.input_tokens, u.output_tokens) for u in recording.usage],
                self._prices,
            )
            metrics.record(metrics.COST_PER_MEETING_HOUR, cost / hours, {})

    async def _deleted_meanwhile(self, ref: RecordingRef) -> None:
        await self._blobs.delete_prefix(ARTIFACTS, recording_prefix(ref.meeting_id, ref.recording_id))

    async def _transcript(self, recording: Recording) -> Transcript:
        name, _ = TRANSCRIPT_FILES["json"]
        try:
            body = await self._blobs.get(ARTIFACTS, artifact_blob(recording.meeting_id, recording.id, name))
            return Transcript.model_validate_json(body)
        except BlobNotFound:
            raise TranscriptMissing(
                "the transcript is gone from storage; upload the recording again"
            ) from None
        except ValidationError as exc:
            raise TranscriptMissing(
                f"the stored transcript cannot be read: {exc.error_count()} errors"
            ) from None
