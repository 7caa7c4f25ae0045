"""The transcription job's reliability: claims, resumption, exactly one transcript, precise failures.

Real embedded blob and queue stores, the in-memory store, synthetic audio, and a transcriber that answers
instantly (tests/fakes.py), so every scenario is about the job's own rules.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.adapters.local_queues import LocalQueueStore
from shared.domain.models import Meeting, Participant, Role
from shared.domain.recording_paths import (
    ARTIFACTS,
    RECORDINGS,
    SUMMARY_JOBS,
    TRANSCRIPTION_JOBS,
    RecordingRef,
    parse_job_message,
    work_prefix,
)
from shared.domain.recordings import (
    JobClaim,
    Recording,
    RecordingChannel,
    RecordingStage,
    RecordingStatus,
)
from shared.media import MediaInfo
from shared.ports import StoreUnavailable, TranscriberRejected, TranscriberUnavailable, TranscriptionContext
from shared.services import transcription
from shared.services.jobs import Job, Outcome
from shared.services.transcription import TranscriptionJob
from shared.signing import Signer
from shared.timefmt import now
from shared.transcripts import Transcript
from tests import audio
from tests.fakes import FakeTranscriber, InMemoryStore

MEETING = "m-1"
# Three bursts of sound with long pauses between them: three pieces, at known times.
LAYOUT: audio.Layout = [
    ("silence", 1.0), ("tone", 2.0), ("silence", 3.0), ("noise", 1.5), ("silence", 3.0), ("tone", 1.0),
    ("silence", 1.0),
]  # fmt: skip


@dataclass
class World:
    store: InMemoryStore
    blobs: LocalBlobStore
    queues: LocalQueueStore
    transcriber: FakeTranscriber

    def job(
        self,
        *,
        time_budget_seconds: float = 600,
        heartbeat_seconds: float = 20,
        max_recording_minutes: int = 480,
    ) -> TranscriptionJob:
        return TranscriptionJob(
            self.store,
            self.blobs,
            self.queues,
            self.transcriber,
            time_budget_seconds=time_budget_seconds,
            heartbeat_seconds=heartbeat_seconds,
            max_recording_minutes=max_recording_minutes,
        )

    async def claimed(self, ref: RecordingRef) -> None:
        """Waits until a job holds the recording."""
        for _ in range(500):
            if (await self.get(ref)).claim is not None:
                return
            await asyncio.sleep(0.01)
        pytest.fail("no job claimed the recording")

    async def recording(
        self, data: bytes, *, content_type: str = "audio/wav", channels: dict[int, str] | None = None
    ) -> RecordingRef:
        ext = {"audio/wav": "wav", "audio/mpeg": "mp3", "video/mp4": "mp4"}[content_type]
        recording_id = f"r-{len(self.store._recordings.get(MEETING, {})) + 1}"
        at = now()
        recording = Recording(
            id=recording_id,
            meeting_id=MEETING,
            created_by="alice",
            file_name=f"meeting.{ext}",
            content_type=content_type,
            size_bytes=max(1, len(data)),
            channels=[RecordingChannel(channel=c, user_id=u) for c, u in (channels or {}).items()],
            status=RecordingStatus.QUEUED,
            source_blob=f"{MEETING}/{recording_id}/source.{ext}",
            created_at=at,
            updated_at=at,
        )
        await self.store.create_recording(recording)
        await self.blobs.put(RECORDINGS, recording.source_blob, data)
        return RecordingRef(MEETING, recording_id)

    async def get(self, ref: RecordingRef) -> Recording:
        stored = await self.store.get_recording(ref.meeting_id, ref.recording_id)
        assert stored is not None
        return stored.value

    async def transcript(self, ref: RecordingRef) -> Transcript:
        body = await self.blobs.get(ARTIFACTS, f"{ref.meeting_id}/{ref.recording_id}/transcript.json")
        return Transcript.model_validate_json(body)

    async def summary_jobs(self) -> list[RecordingRef | None]:
        messages = await self.queues.receive(SUMMARY_JOBS, max_messages=32, visibility_timeout=timedelta(1))
        for message in messages:
            await self.queues.delete(SUMMARY_JOBS, message)
        return [parse_job_message(m.text) for m in messages]

    async def work_pieces(self, ref: RecordingRef) -> list[str]:
        prefix = work_prefix(ref.meeting_id, ref.recording_id)
        return [b.name async for b in self.blobs.list_blobs(ARTIFACTS, prefix=prefix)]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    blobs = LocalBlobStore(tmp_path / "blobs", Signer(b"k" * 32, purpose=UPLOAD_SIGNING_PURPOSE), "http://x")
    queues = LocalQueueStore(tmp_path / "queues.sqlite3")
    yield World(InMemoryStore(), blobs, queues, FakeTranscriber())
    await queues.aclose()


def job(ref: RecordingRef, message_id: str = "msg-1", dequeue_count: int = 1) -> Job:
    return Job(ref, message_id=message_id, dequeue_count=dequeue_count)


def mixed_wav() -> bytes:
    return audio.wav([audio.pcm(LAYOUT)])


async def test_a_mixed_recording_becomes_a_transcript_with_its_timings(world: World) -> None:
    ref = await world.recording(mixed_wav())
    assert await world.job().run(job(ref)) == Outcome.DONE

    recording = await world.get(ref)
    # Transcribed: the summary stage follows, its job queued.
    assert recording.status == RecordingStatus.SUMMARIZING
    assert recording.stage == RecordingStage.SUMMARY
    assert recording.progress == 0.0
    [usage] = recording.usage
    assert (usage.stage, usage.provider, usage.requests) == (RecordingStage.TRANSCRIPT, "fake:instant", 3)
    assert usage.audio_seconds == pytest.approx(sum(world.transcriber.calls), abs=0.01)
    assert await world.summary_jobs() == [ref]
    assert recording.error is None
    assert recording.claim is None
    assert recording.artifacts == ["transcript.json", "transcript.srt", "transcript.txt", "transcript.vtt"]
    assert recording.duration_seconds == pytest.approx(12.5, abs=0.05)
    transcript = await world.transcript(ref)
    expected = audio.bursts(LAYOUT)
    assert len(transcript.segments) == len(expected)
    for segment, (start, end) in zip(transcript.segments, expected, strict=True):
        # Pieces carry up to 60 ms of padding around the sound.
        assert segment.start == pytest.approx(start, abs=0.1)
        assert segment.end == pytest.approx(end, abs=0.1)
        assert segment.speaker is None
    assert transcript.language == "en"
    for name in ("transcript.vtt", "transcript.srt", "transcript.txt"):
        assert (await world.blobs.get(ARTIFACTS, f"{MEETING}/{ref.recording_id}/{name}")).strip()
    assert await world.work_pieces(ref) == []  # the kept pieces are cleaned up once announced


async def test_the_transcriber_hears_what_the_meeting_knows(world: World) -> None:
    at = now()
    await world.store.create_meeting(
        Meeting(
            id=MEETING,
            title="Checkout redesign",
            description="The coupon field and Stripe errors.",
            organizer_id="alice",
            starts_at=at,
            ends_at=at + timedelta(hours=1),
            participants=[
                Participant(user_id="alice", role=Role.PRESENTER, display_name="Alice Kowalski"),
                Participant(user_id="bob", role=Role.ATTENDEE),  # no display name: known by the user id
            ],
            created_at=at,
            updated_at=at,
        )
    )
    ref = await world.recording(mixed_wav())
    assert await world.job().run(job(ref)) == Outcome.DONE

    expected = TranscriptionContext(
        names=("Alice Kowalski", "bob"),
        title="Checkout redesign",
        description="The coupon field and Stripe errors.",
    )
    assert world.transcriber.contexts == [expected] * 3  # every piece


async def test_without_its_meeting_the_transcriber_gets_no_context(world: World) -> None:
    ref = await world.recording(mixed_wav())
    assert await world.job().run(job(ref)) == Outcome.DONE

    assert world.transcriber.contexts == [None] * 3


async def test_mp3_and_mp4_uploads_are_transcribed_alike(world: World) -> None:
    mono = audio.pcm(LAYOUT)
    for fmt, content_type in (("mp3", "audio/mpeg"), ("mp4", "video/mp4")):
        ref = await world.recording(audio.encode(mono, fmt), content_type=content_type)
        assert await world.job().run(job(ref, f"msg-{fmt}")) == Outcome.DONE
        segments = (await world.transcript(ref)).segments
        assert [round(s.start) for s in segments] == [round(s) for s, _ in audio.bursts(LAYOUT)]


async def test_unmixed_channels_speak_as_their_participants(world: World) -> None:
    left = audio.pcm([("tone", 2.0), ("silence", 4.0)])
    right = audio.pcm([("silence", 3.0), ("noise", 2.0), ("silence", 1.0)])
    ref = await world.recording(audio.wav([left, right]), channels={0: "alice", 1: "bob"})
    await world.job().run(job(ref))

    transcript = await world.transcript(ref)
    assert [(s.id, s.user_id) for s in transcript.speakers] == [("ch0", "alice"), ("ch1", "bob")]
    assert [(s.speaker, round(s.start)) for s in transcript.segments] == [("ch0", 0), ("ch1", 3)]


async def test_a_duplicate_message_after_completion_changes_nothing(world: World) -> None:
    ref = await world.recording(mixed_wav())
    await world.job().run(job(ref, "msg-1"))
    before = await world.get(ref)
    assert await world.job().run(job(ref, "msg-2")) == Outcome.SKIPPED
    assert len(world.transcriber.calls) == 3  # nothing transcribed again
    assert (await world.get(ref)).version == before.version


async def test_two_copies_at_once_make_one_transcript(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    first = asyncio.ensure_future(world.job().run(job(ref, "msg-1")))
    await world.claimed(ref)
    # The copy finds the live claim of another message and leaves; that message stays until its job ends.
    assert await world.job().run(job(ref, "msg-2")) == Outcome.SKIPPED
    world.transcriber.gate.set()
    assert await first == Outcome.DONE
    assert len(world.transcriber.calls) == 3
    assert len((await world.transcript(ref)).segments) == 3


async def test_a_crash_between_pieces_resumes_with_the_missing_pieces_only(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber._limits = type(world.transcriber.limits)(24 * 1024 * 1024, 600, 1)  # one at a time
    world.transcriber.fail = [None, TranscriberUnavailable("throttled past the retries", retry_after=30)]
    with pytest.raises(TranscriberUnavailable):
        await world.job().run(job(ref, "msg-1", 1))

    failed_attempt = await world.get(ref)
    assert failed_attempt.status == RecordingStatus.TRANSCRIBING
    assert failed_attempt.claim is None  # let go, so the retry need not wait for the lease
    assert failed_attempt.error is not None
    assert "throttled" in failed_attempt.error.detail
    assert len(await world.work_pieces(ref)) == 1

    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.DONE
    assert len(world.transcriber.calls) == 3  # 1 kept + 2 sent on the retry, none twice
    recording = await world.get(ref)
    assert recording.attempts == 2
    assert recording.error is None
    assert len((await world.transcript(ref)).segments) == 3


class FailingAnnouncement(InMemoryStore):
    """A store whose write of the `completed` status fails once: a crash between writing and marking."""

    failures = 1

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        if recording.status == RecordingStatus.SUMMARIZING and self.failures:
            self.failures -= 1
            raise StoreUnavailable("the database went away")
        return await super().replace_recording(recording, etag)


async def test_a_crash_before_the_summary_is_queued_is_mended_by_the_redelivery(world: World) -> None:
    ref = await world.recording(mixed_wav())
    assert await world.job().run(job(ref, "msg-1", 1)) == Outcome.DONE
    await world.summary_jobs()  # as if the summary message had never been sent
    # The transcription message was not deleted (the job died): delivered again, it queues the summary.
    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.SKIPPED
    assert await world.summary_jobs() == [ref]
    assert len(world.transcriber.calls) == 3


async def test_a_crash_between_writing_and_marking_ends_with_one_transcript(world: World) -> None:
    world.store = FailingAnnouncement()
    ref = await world.recording(mixed_wav())
    with pytest.raises(StoreUnavailable):
        await world.job().run(job(ref, "msg-1", 1))
    assert (await world.get(ref)).status == RecordingStatus.TRANSCRIBING
    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.DONE
    assert len(world.transcriber.calls) == 3  # the pieces were kept: nothing sent twice
    assert (await world.get(ref)).status == RecordingStatus.SUMMARIZING
    assert len((await world.transcript(ref)).segments) == 3


async def test_a_redelivery_of_the_same_message_takes_over_a_live_claim(world: World) -> None:
    ref = await world.recording(mixed_wav())
    stored = await world.store.get_recording(ref.meeting_id, ref.recording_id)
    assert stored is not None
    held = stored.value.model_copy(
        update={
            "status": RecordingStatus.TRANSCRIBING,
            "claim": JobClaim(owner="msg-1", expires_at=now() + timedelta(minutes=2)),
        }
    )
    await world.store.replace_recording(held, stored.etag)
    # Another message leaves it alone; the same message delivered again means its runner died.
    assert await world.job().run(job(ref, "msg-2")) == Outcome.SKIPPED
    assert await world.job().run(job(ref, "msg-1", 2)) == Outcome.DONE


async def test_an_expired_claim_is_taken_over_by_any_message(world: World) -> None:
    ref = await world.recording(mixed_wav())
    stored = await world.store.get_recording(ref.meeting_id, ref.recording_id)
    assert stored is not None
    stale = stored.value.model_copy(
        update={
            "status": RecordingStatus.TRANSCRIBING,
            "claim": JobClaim(owner="dead", expires_at=now() - timedelta(seconds=1)),
        }
    )
    await world.store.replace_recording(stale, stored.etag)
    assert await world.job().run(job(ref, "msg-2")) == Outcome.DONE


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "media_empty"),
        (b"this is a text file, not a recording" * 20, "media_not_audio"),
        (mixed_wav()[: len(mixed_wav()) // 2], "media_truncated"),
        (audio.video_only_mp4(), "media_no_audio_stream"),
    ],
    ids=["empty", "not-audio", "truncated", "video-only"],
)
async def test_a_broken_file_fails_at_once_with_a_precise_error(world: World, data: bytes, code: str) -> None:
    ref = await world.recording(data)
    assert await world.job().run(job(ref)) == Outcome.FAILED
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.FAILED
    assert recording.error is not None
    assert recording.error.code == code
    assert recording.error.detail
    assert recording.artifacts == []
    assert recording.claim is None


async def test_a_refusal_by_the_provider_fails_at_once(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.fail = [TranscriberRejected("413: the file is too large")]
    assert await world.job().run(job(ref)) == Outcome.FAILED
    error = (await world.get(ref)).error
    assert error is not None
    assert error.code == "transcriber_rejected"
    assert "413" in error.detail


async def test_a_poisoned_job_fails_the_recording_with_the_last_error(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.fail = [TranscriberUnavailable("HTTP 503 from the provider")]
    with pytest.raises(TranscriberUnavailable):
        await world.job().run(job(ref))
    assert await world.job().poisoned(ref) is True
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.FAILED
    assert recording.error is not None
    assert recording.error.code == "transcription_failed"
    assert "HTTP 503" in recording.error.detail
    assert "1 attempts" in recording.error.detail


async def test_a_poisoned_duplicate_leaves_a_running_or_finished_job_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    running = asyncio.ensure_future(world.job().run(job(ref, "msg-1")))
    await world.claimed(ref)
    sent: list[tuple[str, str, timedelta | None]] = []

    async def send(queue: str, text: str, *, delay: timedelta | None = None) -> None:
        sent.append((queue, text, delay))

    monkeypatch.setattr(world.queues, "send", send)
    assert await world.job().poisoned(ref) is False
    # Not dropped either: the job comes back once the claim has run out (in case its holder is dead).
    [(queue, text, delay)] = sent
    assert (queue, parse_job_message(text)) == (TRANSCRIPTION_JOBS, ref)
    assert delay is not None
    assert timedelta(minutes=2) < delay <= timedelta(minutes=3, seconds=6)
    monkeypatch.undo()
    world.transcriber.gate.set()
    await running
    assert await world.job().poisoned(ref) is False
    assert (await world.get(ref)).status == RecordingStatus.SUMMARIZING


async def test_a_job_out_of_time_queues_its_continuation(world: World) -> None:
    ref = await world.recording(mixed_wav())
    assert await world.job(time_budget_seconds=0).run(job(ref, "msg-1")) == Outcome.CONTINUED
    recording = await world.get(ref)
    assert recording.status == RecordingStatus.TRANSCRIBING
    assert recording.claim is None
    [message] = await world.queues.receive(
        TRANSCRIPTION_JOBS, max_messages=5, visibility_timeout=timedelta(1)
    )
    assert parse_job_message(message.text) == ref
    assert await world.job().run(job(ref, message.id)) == Outcome.DONE


async def test_the_claim_is_renewed_with_progress_while_the_job_runs(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    running = asyncio.ensure_future(world.job(heartbeat_seconds=0.02).run(job(ref)))
    first = None
    # A deadline, not a count of polls: on a loaded machine (the whole suite on two cores) 200 polls of
    # 10 ms could pass before the job's first beats, and the test failed without anything being wrong.
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        recording = await world.get(ref)
        if recording.claim is not None:
            if first is None:
                first = recording.claim.expires_at
            elif recording.claim.expires_at > first and recording.progress > 0:
                # Renewed, and the progress made so far stored with it (decoding may not have produced a
                # piece by the first renewals on a loaded machine: progress is 0 until it does).
                break
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("the claim was never renewed with progress")
        await asyncio.sleep(0.01)
    assert 0 < recording.progress < 1
    world.transcriber.gate.set()
    assert await running == Outcome.DONE


async def test_progress_moves_while_a_piece_is_with_the_transcriber(world: World) -> None:
    """Decoding ends at once; the transcriber holds the only pieces: progress still climbs, beat by beat,
    never backwards and never to 1 before the transcript is written."""
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    running = asyncio.ensure_future(world.job(heartbeat_seconds=0.05).run(job(ref)))
    seen: list[float] = []
    deadline = asyncio.get_running_loop().time() + 15
    while len(set(seen)) < 4:
        seen.append((await world.get(ref)).progress)
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"progress did not move while the transcriber worked: {sorted(set(seen))}")
        await asyncio.sleep(0.02)
    assert world.transcriber.calls == []  # nothing came back yet: all of that moved while waiting
    assert seen == sorted(seen)
    assert max(seen) < 1
    world.transcriber.gate.set()
    assert await running == Outcome.DONE


async def test_a_recording_deleted_mid_job_leaves_no_artifacts(world: World) -> None:
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    running = asyncio.ensure_future(world.job(heartbeat_seconds=0.02).run(job(ref)))
    await world.claimed(ref)
    await world.store.delete_recording(ref.meeting_id, ref.recording_id)
    world.transcriber.gate.set()
    assert await running == Outcome.SKIPPED
    assert [b async for b in world.blobs.list_blobs(ARTIFACTS, prefix=f"{MEETING}/")] == []


async def test_a_job_for_an_unknown_recording_is_dropped(world: World) -> None:
    assert await world.job().run(job(RecordingRef(MEETING, "nope"))) == Outcome.SKIPPED


def test_job_messages_round_trip_and_foreign_ones_are_refused() -> None:
    ref = RecordingRef("m", "r")
    from shared.domain.recording_paths import job_message

    assert parse_job_message(job_message(ref)) == ref
    for text in (
        "",
        "[]",
        "not json",
        json.dumps({"meetingId": "m"}),
        json.dumps({"meetingId": 1, "recordingId": "r"}),
    ):
        assert parse_job_message(text) is None


async def test_many_jobs_at_once_on_the_local_blob_store_all_finish(world: World) -> None:
    # More jobs than the default executor has threads: decoders waiting on blob reads must not take the
    # threads those reads need (it deadlocked once, with the host's batch of 8 on 2 cores).
    refs = [await world.recording(mixed_wav()) for _ in range(12)]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(world.job().run(job(ref, f"msg-{i}")) for i, ref in enumerate(refs))), timeout=60
    )
    assert outcomes == [Outcome.DONE] * 12


async def test_a_recording_in_parts_is_transcribed_as_one_with_shifted_times(world: World) -> None:
    # ACS splits long call recordings into chunks: the second part's speech comes after the first's audio.
    first = audio.pcm([("tone", 2.0), ("silence", 3.0)])
    second = audio.pcm([("silence", 1.0), ("noise", 2.0), ("silence", 1.0)])
    ref = await world.recording(audio.wav([first]))
    stored = await world.store.get_recording(ref.meeting_id, ref.recording_id)
    assert stored is not None
    parts = [f"{MEETING}/{ref.recording_id}/chunks/000.wav", f"{MEETING}/{ref.recording_id}/chunks/001.wav"]
    await world.blobs.put(RECORDINGS, parts[0], audio.wav([first]))
    await world.blobs.put(RECORDINGS, parts[1], audio.wav([second]))
    await world.store.replace_recording(stored.value.model_copy(update={"source_parts": parts}), stored.etag)

    assert await world.job().run(job(ref)) == Outcome.DONE
    transcript = await world.transcript(ref)
    assert [round(s.start, 1) for s in transcript.segments] == pytest.approx([0.0, 6.0], abs=0.1)
    assert transcript.duration_seconds == pytest.approx(9.0, abs=0.05)


class FlakyRenewals(InMemoryStore):
    """A store whose writes fail while `down` is set, as during a short outage."""

    down = False

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        if self.down:
            raise StoreUnavailable("the database is briefly down")
        return await super().replace_recording(recording, etag)


async def test_a_failed_renewal_is_tried_again_and_the_work_is_kept(world: World) -> None:
    world.store = FlakyRenewals()
    ref = await world.recording(mixed_wav())
    world.transcriber.gate = asyncio.Event()
    running = asyncio.ensure_future(world.job(heartbeat_seconds=0.02).run(job(ref)))
    await world.claimed(ref)
    world.store.down = True
    await asyncio.sleep(0.1)  # a few beats fail
    world.store.down = False
    first = (await world.get(ref)).claim
    for _ in range(100):  # and renewal resumes
        await asyncio.sleep(0.02)
        claim = (await world.get(ref)).claim
        if claim is not None and first is not None and claim.expires_at > first.expires_at:
            break
    else:
        pytest.fail("the claim was not renewed after the outage")
    world.transcriber.gate.set()
    assert await running == Outcome.DONE


# --- size and length limits (issue 15) ------------------------------------------------------------------


@pytest.mark.parametrize("announced", [1000, len(mixed_wav()) + 1], ids=["larger", "smaller"])
async def test_a_file_of_another_size_than_announced_fails_before_decoding(
    world: World, announced: int
) -> None:
    ref = await world.recording(mixed_wav())
    stored = await world.store.get_recording(ref.meeting_id, ref.recording_id)
    assert stored is not None
    await world.store.replace_recording(
        stored.value.model_copy(update={"size_bytes": announced}), stored.etag
    )
    assert await world.job().run(job(ref)) == Outcome.FAILED
    recording = await world.get(ref)
    assert recording.error is not None
    assert recording.error.code == "size_mismatch"
    assert f"{len(mixed_wav())} bytes" in recording.error.detail
    assert f"{announced} were announced" in recording.error.detail
    assert world.transcriber.calls == []
    assert recording.artifacts == []


async def test_a_file_over_the_size_limit_fails_before_decoding(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4 GiB is too much to write here: the limit is lowered to below this file's size instead.
    monkeypatch.setattr(transcription, "MAX_SOURCE_BYTES", len(mixed_wav()) - 1)
    ref = await world.recording(mixed_wav())
    assert await world.job().run(job(ref)) == Outcome.FAILED
    error = (await world.get(ref)).error
    assert error is not None
    assert error.code == "too_large"
    assert world.transcriber.calls == []


def long_wav(seconds: int) -> bytes:
    """Speech-like bursts all along: a piece every few seconds, so decoding too far would be billed."""
    layout: audio.Layout = [("tone", 2.0), ("silence", 3.0)] * (seconds // 5)
    return audio.wav([audio.pcm(layout)])


async def test_a_recording_declaring_more_than_the_cap_fails_without_being_sent(world: World) -> None:
    ref = await world.recording(long_wav(75))
    assert await world.job(max_recording_minutes=1).run(job(ref)) == Outcome.FAILED
    recording = await world.get(ref)
    assert recording.error is not None
    assert recording.error.code == "too_long"
    assert "1 minutes" in recording.error.detail
    assert "MAX_RECORDING_MINUTES" in recording.error.detail
    assert world.transcriber.calls == []


async def test_a_recording_that_hides_its_length_stops_decoding_at_the_cap(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container that does not declare its duration (or lies): only decoding finds the length.
    def silent_probe(source: object) -> MediaInfo:
        return MediaInfo(duration_seconds=None, channels=1, sample_rate=16_000, codec="pcm_s16le")

    monkeypatch.setattr(transcription, "probe", silent_probe)
    seen: list[float] = []
    decoded = transcription._Progress.decoded

    def watching(self: transcription._Progress, seconds: float) -> None:
        seen.append(seconds)
        decoded(self, seconds)

    monkeypatch.setattr(transcription._Progress, "decoded", watching)
    ref = await world.recording(long_wav(180))
    assert await world.job(max_recording_minutes=1).run(job(ref)) == Outcome.FAILED
    recording = await world.get(ref)
    assert recording.error is not None
    assert recording.error.code == "too_long"
    # Decoding stopped a second past the cap (it decodes by the second), not at the end of the file...
    assert 60 < max(seen) <= 62
    # ...and nothing past the cap was sent: what was, lies wholly before it.
    assert world.transcriber.calls
    assert sum(world.transcriber.calls) <= 60
    assert recording.duration_seconds is None


async def test_a_recording_within_the_cap_is_transcribed(world: World) -> None:
    ref = await world.recording(long_wav(60))
    assert await world.job(max_recording_minutes=1).run(job(ref)) == Outcome.DONE
    assert (await world.get(ref)).status == RecordingStatus.SUMMARIZING
