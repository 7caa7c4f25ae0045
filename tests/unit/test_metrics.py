"""The metrics the app emits (shared/telemetry/metrics.py), read back through an in-memory OpenTelemetry
reader from real runs: a recording through both jobs, a broken file, a poisoned job, events, the
reconciler. The names and dimensions are those the alerts and the workbook query (tests/infra)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.adapters.local_queues import LocalQueueStore
from shared.domain.recording_paths import RECORDINGS, SUMMARY_JOBS, RecordingRef
from shared.domain.recordings import Recording, RecordingStatus
from shared.realtime.events import Event, EventPublisher
from shared.services.jobs import Job, Outcome
from shared.services.meetings import MeetingService
from shared.services.reconciler import Reconciler
from shared.services.recordings import RecordingService
from shared.services.summary import SummaryJob
from shared.services.transcription import TranscriptionJob
from shared.signing import Signer
from shared.telemetry import metrics
from shared.timefmt import now
from tests import audio
from tests.fakes import FakeCommunication, FakeSummarizer, FakeTranscriber, InMemoryStore

MEETING = "m-1"
LAYOUT: audio.Layout = [("silence", 1.0), ("tone", 2.0), ("silence", 3.0), ("noise", 1.5), ("silence", 1.0)]

Points = dict[tuple[str, frozenset[tuple[str, str]]], Any]


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    metrics.use_meter_provider(provider)
    yield reader
    metrics.use_meter_provider(None)
    provider.shutdown()


def points(reader: InMemoryMetricReader) -> Points:
    """Every data point so far, by (metric name, attributes): a sum's value, a histogram's point."""
    found: Points = {}
    data = reader.get_metrics_data()
    if data is None:
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name == metrics.SCOPE
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, frozenset((k, str(v)) for k, v in (point.attributes or {}).items()))
                    found[key] = getattr(point, "value", point)
    return found


def named(found: Points, name: str) -> dict[frozenset[tuple[str, str]], Any]:
    return {attributes: value for (metric, attributes), value in found.items() if metric == name}


def attrs(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


@dataclass
class World:
    store: InMemoryStore
    blobs: LocalBlobStore
    queues: LocalQueueStore

    async def recording(self, data: bytes) -> RecordingRef:
        at = now()
        recording = Recording(
            id="r-1",
            meeting_id=MEETING,
            created_by="alice",
            file_name="meeting.wav",
            content_type="audio/wav",
            size_bytes=len(data) or 1,
            status=RecordingStatus.QUEUED,
            source_blob=f"{MEETING}/r-1/source.wav",
            created_at=at,
            updated_at=at,
        )
        await self.store.create_recording(recording)
        await self.blobs.put(RECORDINGS, recording.source_blob, data)
        return RecordingRef(MEETING, "r-1")

    async def get(self, ref: RecordingRef) -> Recording:
        stored = await self.store.get_recording(ref.meeting_id, ref.recording_id)
        assert stored is not None
        return stored.value


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    blobs = LocalBlobStore(tmp_path / "blobs", Signer(b"k" * 32, purpose=UPLOAD_SIGNING_PURPOSE), "http://x")
    queues = LocalQueueStore(tmp_path / "queues.sqlite3")
    yield World(InMemoryStore(), blobs, queues)
    await queues.aclose()


async def test_a_recording_through_both_jobs_reports_its_stages_volume_and_cost(
    world: World, reader: InMemoryMetricReader
) -> None:
    prices = metrics.Prices(
        transcribe_per_minute=0.01, summary_input_per_million=1.0, summary_output_per_million=2.0
    )
    ref = await world.recording(audio.wav([audio.pcm(LAYOUT)]))
    enqueued = now() - timedelta(seconds=42)
    transcription = TranscriptionJob(world.store, world.blobs, world.queues, FakeTranscriber())
    job = Job(ref, message_id="msg-1", dequeue_count=1, enqueued_at=enqueued)
    assert await transcription.run(job) == Outcome.DONE
    [message] = await world.queues.receive(SUMMARY_JOBS, max_messages=1, visibility_timeout=timedelta(1))
    summary = SummaryJob(world.store, world.blobs, world.queues, FakeSummarizer(), prices=prices)
    assert await summary.run(Job(ref, message_id=message.id, dequeue_count=1)) == Outcome.DONE
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.COMPLETED

    found = points(reader)
    assert named(found, metrics.RECORDINGS_FINISHED) == {
        attrs(status="completed", errorCode="none", stage="summary"): 1
    }
    durations = named(found, metrics.STAGE_DURATION)
    assert set(durations) == {
        attrs(stage="transcript", outcome="done"),
        attrs(stage="summary", outcome="done"),
    }
    assert all(point.count == 1 and point.sum > 0 for point in durations.values())
    # Only the transcription message said when it was queued: one wait, of about 42 s.
    [wait] = named(found, metrics.QUEUE_WAIT).items()
    assert wait[0] == attrs(queue="transcription-jobs")
    assert wait[1].count == 1
    assert 42 <= wait[1].sum < 60
    transcript_usage, summary_usage = recording.usage
    assert named(found, metrics.AUDIO_MINUTES) == {
        attrs(provider="fake:instant"): pytest.approx(transcript_usage.audio_seconds / 60)
    }
    assert transcript_usage.audio_seconds > 3
    assert named(found, metrics.TOKENS) == {
        attrs(provider="fake:notes", direction="in"): summary_usage.input_tokens,
        attrs(provider="fake:notes", direction="out"): summary_usage.output_tokens,
    }
    [cost] = named(found, metrics.COST_PER_MEETING_HOUR).items()
    dollars = (
        transcript_usage.audio_seconds / 60 * 0.01
        + summary_usage.input_tokens * 1.0 / 1e6
        + summary_usage.output_tokens * 2.0 / 1e6
    )
    assert recording.duration_seconds is not None
    assert cost[0] == frozenset()
    assert cost[1].count == 1
    assert cost[1].sum == pytest.approx(dollars / (recording.duration_seconds / 3600))


async def test_a_broken_file_counts_one_failure_with_its_code(
    world: World, reader: InMemoryMetricReader
) -> None:
    ref = await world.recording(b"this is a text file, not a recording" * 20)
    job = TranscriptionJob(world.store, world.blobs, world.queues, FakeTranscriber())
    assert await job.run(Job(ref, message_id="msg-1", dequeue_count=1)) == Outcome.FAILED
    # The same message again changes nothing, and counts nothing more.
    assert await job.run(Job(ref, message_id="msg-1", dequeue_count=2)) == Outcome.SKIPPED
    found = points(reader)
    assert named(found, metrics.RECORDINGS_FINISHED) == {
        attrs(status="failed", errorCode="media_not_audio", stage="transcript"): 1
    }
    assert set(named(found, metrics.STAGE_DURATION)) == {attrs(stage="transcript", outcome="failed")}
    assert named(found, metrics.AUDIO_MINUTES) == {}


async def test_a_retried_run_and_a_poisoned_job_are_counted(
    world: World, reader: InMemoryMetricReader
) -> None:
    ref = await world.recording(audio.wav([audio.pcm(LAYOUT)]))
    transcriber = FakeTranscriber()
    transcriber.fail = [RuntimeError("the provider is down")] * 4
    job = TranscriptionJob(world.store, world.blobs, world.queues, transcriber)
    with pytest.raises(RuntimeError):
        await job.run(Job(ref, message_id="msg-1", dequeue_count=1))
    assert await job.poisoned(ref)
    found = points(reader)
    assert set(named(found, metrics.STAGE_DURATION)) == {attrs(stage="transcript", outcome="retry")}
    assert named(found, metrics.RECORDINGS_FINISHED) == {
        attrs(status="failed", errorCode="transcription_failed", stage="transcript"): 1
    }


class Hub:
    def __init__(self, *, fail: bool) -> None:
        self.fail = fail

    async def send_to_group(self, group: str, body: dict[str, object]) -> None:
        if self.fail:
            raise ConnectionError("Web PubSub is unreachable")

    async def send_to_user(self, user_id: str, body: dict[str, object]) -> None:
        return None


class Sink:
    def __init__(self, *, fail: bool) -> None:
        self.fail = fail

    async def publish(self, events: list[dict[str, object]]) -> None:
        if self.fail:
            raise ConnectionError("Event Grid is unreachable")

    async def aclose(self) -> None:
        return None


async def test_events_published_and_failed_are_counted_by_channel(reader: InMemoryMetricReader) -> None:
    events = [Event("meeting.updated", MEETING, {"n": n}, key=str(n)) for n in range(3)]
    await EventPublisher(Hub(fail=False), Sink(fail=True)).publish(*events)  # type: ignore[arg-type]
    await EventPublisher(Hub(fail=True), Sink(fail=False)).publish(events[0])  # type: ignore[arg-type]
    assert named(points(reader), metrics.EVENTS) == {
        attrs(channel="realtime", outcome="published"): 3,
        attrs(channel="realtime", outcome="failed"): 1,
        attrs(channel="sink", outcome="failed"): 3,
        attrs(channel="sink", outcome="published"): 1,
    }


async def test_the_reconciler_counts_what_it_healed(world: World, reader: InMemoryMetricReader) -> None:
    ref = await world.recording(b"RIFF")
    stored = await world.store.get_recording(ref.meeting_id, ref.recording_id)
    assert stored is not None
    waiting = stored.value.model_copy(update={"status": RecordingStatus.AWAITING_UPLOAD})
    await world.store.replace_recording(waiting, stored.etag)
    meetings = MeetingService(world.store, FakeCommunication(), Signer(b"k" * 32, purpose="continuation"))
    recordings = RecordingService(world.store, world.blobs, world.queues, meetings)
    reconciler = Reconciler(world.store, world.blobs, world.queues, recordings)
    assert (await reconciler.run()).queued_uploads == 1
    assert (await reconciler.run()).anything is False  # nothing more to heal: nothing more counted
    assert named(points(reader), metrics.RECONCILER_ACTIONS) == {attrs(action="queued_upload"): 1}


def test_without_an_exporter_emitting_imports_nothing_and_never_raises() -> None:
    probe = (
        "import sys; from shared.telemetry import metrics; "
        "metrics.add(metrics.EVENTS, 1, {metrics.CHANNEL: 'sink', metrics.OUTCOME: metrics.PUBLISHED}); "
        "metrics.record(metrics.QUEUE_WAIT, 1.0, {metrics.QUEUE: 'summary-jobs'}); "
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_misnamed_metric_is_logged_not_raised(
    reader: InMemoryMetricReader, caplog: pytest.LogCaptureFixture
) -> None:
    metrics.add("no.such.metric", 1, {})
    metrics.record("no.such.histogram", 1.0, {})
    assert caplog.text.count("could not emit the metric") == 2
    assert points(reader) == {}


def test_importing_the_services_does_not_import_opentelemetry() -> None:
    probe = (
        "import sys, shared.services.jobs, shared.services.reconciler, shared.realtime.events; "
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_estimated_cost_leaves_local_providers_out() -> None:
    prices = metrics.Prices(
        transcribe_per_minute=0.006, summary_input_per_million=0.15, summary_output_per_million=0.6
    )
    usage = [("openai:whisper-1", 3600.0, 0, 0), ("local:extractive", 0.0, 10_000, 1_000)]
    assert metrics.estimated_cost(usage, prices) == pytest.approx(0.36)
    assert metrics.estimated_cost(
        [("azure-openai:chat", 0.0, 1_000_000, 1_000_000)], prices
    ) == pytest.approx(0.75)
