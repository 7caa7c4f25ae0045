"""The summary job: a transcribed recording to summary.json and summary.md, with the job rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.adapters.local_queues import LocalQueueStore
from shared.domain.models import Meeting, Participant, Role
from shared.domain.recording_paths import ARTIFACTS, RecordingRef
from shared.domain.recordings import Recording, RecordingStage, RecordingStatus, Usage
from shared.ports import StoreUnavailable, Summarization, SummarizerRejected, SummarizerUnavailable
from shared.services.jobs import Job, Outcome
from shared.services.summary import SummaryJob, named_owners
from shared.signing import Signer
from shared.summaries import ActionItem, Summary, SummaryContent
from shared.timefmt import now
from shared.transcripts import Segment, Speaker, Transcript
from tests.fakes import FakeSummarizer, InMemoryStore

MEETING = "m-1"
TRANSCRIPT = Transcript(
    recording_id="r-1",
    language="en",
    duration_seconds=20.0,
    speakers=[Speaker(id="ch0", user_id="alice")],
    segments=[
        Segment(start=0.5, end=4.0, speaker="ch0", text="We ship on Friday."),
        Segment(start=5.0, end=9.0, speaker="ch0", text="I'll write the release notes."),
    ],
)


@dataclass
class World:
    store: InMemoryStore
    blobs: LocalBlobStore
    queues: LocalQueueStore
    summarizer: FakeSummarizer

    def job(self) -> SummaryJob:
        return SummaryJob(self.store, self.blobs, self.queues, self.summarizer)

    async def transcribed(self, *, with_transcript: bool = True) -> RecordingRef:
        at = now()
        recording = Recording(
            id="r-1",
            meeting_id=MEETING,
            created_by="alice",
            file_name="m.wav",
            content_type="audio/wav",
            size_bytes=100,
            status=RecordingStatus.SUMMARIZING,
            stage=RecordingStage.SUMMARY,
            source_blob=f"{MEETING}/r-1/source.wav",
            artifacts=["transcript.json", "transcript.srt", "transcript.txt", "transcript.vtt"],
            usage=[
                Usage(stage=RecordingStage.TRANSCRIPT, provider="fake:instant", requests=2, audio_seconds=7.5)
            ],
            created_at=at,
            updated_at=at,
        )
        await self.store.create_recording(recording)
        if with_transcript:
            await self.blobs.put(
                ARTIFACTS, f"{MEETING}/r-1/transcript.json", TRANSCRIPT.model_dump_json().encode()
            )
        return RecordingRef(MEETING, "r-1")

    async def get(self, ref: RecordingRef) -> Recording:
        stored = await self.store.get_recording(ref.meeting_id, ref.recording_id)
        assert stored is not None
        return stored.value


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    blobs = LocalBlobStore(tmp_path / "blobs", Signer(b"k" * 32, purpose=UPLOAD_SIGNING_PURPOSE), "http://x")
    queues = LocalQueueStore(tmp_path / "queues.sqlite3")
    yield World(InMemoryStore(), blobs, queues, FakeSummarizer())
    await queues.aclose()


def job(ref: RecordingRef, message_id: str = "msg-1", dequeue_count: int = 1) -> Job:
    return Job(ref, message_id=message_id, dequeue_count=dequeue_count)


async def test_a_transcribed_recording_gets_its_summary_in_both_formats(world: World) -> None:
    ref = await world.transcribed()
    assert await world.job().run(job(ref)) == Outcome.DONE
    recording = await world.get(ref)
    assert (recording.status, recording.stage, recording.progress) == (
        RecordingStatus.COMPLETED,
        RecordingStage.SUMMARY,
        1.0,
    )
    assert {"summary.json", "summary.md", "transcript.json"} <= set(recording.artifacts)
    summary = Summary.model_validate_json(await world.blobs.get(ARTIFACTS, f"{MEETING}/r-1/summary.json"))
    assert summary.model == "fake:notes"
    assert summary.overview.endswith("We ship on Friday.")
    markdown = (await world.blobs.get(ARTIFACTS, f"{MEETING}/r-1/summary.md")).decode()
    assert markdown.startswith("# ")
    assert "## Chapters" in markdown
    # Usage: the transcript's entry kept, the summary's added.
    assert [(u.stage, u.provider, u.requests) for u in recording.usage] == [
        (RecordingStage.TRANSCRIPT, "fake:instant", 2),
        (RecordingStage.SUMMARY, "fake:notes", 1),
    ]
    assert recording.usage[1].input_tokens == 20
    assert recording.usage[1].output_tokens == 42


async def test_a_duplicate_message_after_completion_changes_nothing(world: World) -> None:
    ref = await world.transcribed()
    await world.job().run(job(ref, "msg-1"))
    assert await world.job().run(job(ref, "msg-2")) == Outcome.SKIPPED
    assert world.summarizer.calls == 1


async def test_a_refusal_fails_the_summary_and_keeps_the_transcript(world: World) -> None:
    ref = await world.transcribed()
    world.summarizer.fail = [SummarizerRejected("the output failed validation twice: decisions is missing")]
    assert await world.job().run(job(ref)) == Outcome.FAILED
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.FAILED
    assert recording.error is not None
    assert recording.error.code == "summarizer_rejected"
    assert "validation" in recording.error.detail
    assert "transcript.json" in recording.artifacts


async def test_an_outage_is_retried_by_the_queue_then_succeeds(world: World) -> None:
    ref = await world.transcribed()
    world.summarizer.fail = [SummarizerUnavailable("503 from the provider")]
    with pytest.raises(SummarizerUnavailable):
        await world.job().run(job(ref, "msg-1", 1))
    waiting = await world.get(ref)
    assert waiting.status == RecordingStatus.SUMMARIZING
    assert waiting.claim is None
    assert waiting.error is not None
    assert "503" in waiting.error.detail
    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.DONE
    assert (await world.get(ref)).error is None


class FailingAnnouncement(InMemoryStore):
    failures = 1

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        if recording.status == RecordingStatus.COMPLETED and self.failures:
            self.failures -= 1
            raise StoreUnavailable("the database went away")
        return await super().replace_recording(recording, etag)


async def test_a_crash_between_writing_and_marking_ends_with_one_summary(world: World) -> None:
    world.store = FailingAnnouncement()
    ref = await world.transcribed()
    with pytest.raises(StoreUnavailable):
        await world.job().run(job(ref, "msg-1", 1))
    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.DONE
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.COMPLETED
    assert [u.stage for u in recording.usage].count(RecordingStage.SUMMARY) == 1


async def test_a_missing_transcript_fails_at_once(world: World) -> None:
    ref = await world.transcribed(with_transcript=False)
    assert await world.job().run(job(ref)) == Outcome.FAILED
    error = (await world.get(ref)).error
    assert error is not None
    assert error.code == "transcript_missing"


async def test_a_job_before_the_transcript_is_done_is_skipped(world: World) -> None:
    ref = await world.transcribed()
    stored = await world.store.get_recording(MEETING, "r-1")
    assert stored is not None
    await world.store.replace_recording(
        stored.value.model_copy(update={"status": RecordingStatus.TRANSCRIBING}), stored.etag
    )
    assert await world.job().run(job(ref)) == Outcome.SKIPPED
    assert world.summarizer.calls == 0


async def test_a_poisoned_summary_job_fails_the_recording(world: World) -> None:
    ref = await world.transcribed()
    world.summarizer.fail = [SummarizerUnavailable("timeout")]
    with pytest.raises(SummarizerUnavailable):
        await world.job().run(job(ref))
    assert await world.job().poisoned(ref) is True
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.FAILED
    assert recording.error is not None
    assert recording.error.code == "summary_failed"
    assert "timeout" in recording.error.detail
    assert "transcript.json" in recording.artifacts


async def test_owners_known_by_user_id_get_the_meetings_display_name(world: World) -> None:
    ref = await world.transcribed()
    at = now()
    await world.store.create_meeting(
        Meeting(
            id=MEETING,
            title="Release",
            organizer_id="alice",
            starts_at=at,
            ends_at=at + timedelta(hours=1),
            participants=[Participant(user_id="alice", role=Role.PRESENTER, display_name="Alice L.")],
            created_at=at,
            updated_at=at,
        )
    )
    # The transcript knew the speaker by user id only: the fake names the first speaker's owner by it.
    assert await world.job().run(job(ref)) == Outcome.DONE
    summary = Summary.model_validate_json(await world.blobs.get(ARTIFACTS, f"{MEETING}/r-1/summary.json"))
    assert [item.owner for item in summary.action_items] == ["Alice L."]
    markdown = (await world.blobs.get(ARTIFACTS, f"{MEETING}/r-1/summary.md")).decode()
    assert "| Alice L. | Follow up |" in markdown


def test_named_owners_leaves_names_as_said_alone() -> None:
    content = SummaryContent(
        overview="o",
        key_points=[],
        decisions=[],
        action_items=[
            ActionItem(owner="alice", task="a", due=None),
            ActionItem(owner="Raj", task="b", due=None),
            ActionItem(owner=None, task="c", due=None),
        ],
        chapters=[],
        open_questions=[],
    )
    named = named_owners(content, {"alice": "Alice L.", "bob": "Bob"})
    assert [item.owner for item in named.action_items] == ["Alice L.", "Raj", None]
    assert named_owners(content, {}) is content


async def test_progress_moves_while_the_summarizer_works(world: World) -> None:
    """A model's summary comes back whole: meanwhile progress climbs with the time taken, below 1."""
    gate = asyncio.Event()

    class Slow(FakeSummarizer):
        async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
            await gate.wait()
            return await super().summarize(transcript, title=title)

    ref = await world.transcribed()
    slow = SummaryJob(world.store, world.blobs, world.queues, Slow(), heartbeat_seconds=0.05)
    running = asyncio.ensure_future(slow.run(job(ref)))
    seen: list[float] = []
    deadline = asyncio.get_running_loop().time() + 15
    while len(set(seen)) < 4:
        seen.append((await world.get(ref)).progress)
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"progress did not move while the summarizer worked: {sorted(set(seen))}")
        await asyncio.sleep(0.02)
    assert seen == sorted(seen)
    assert max(seen) < 1
    gate.set()
    assert await running == Outcome.DONE
    assert (await world.get(ref)).progress == 1.0
