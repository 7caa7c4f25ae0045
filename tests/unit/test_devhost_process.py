"""`python -m devhost process`: the pipeline on a local file, resumable, with clear errors."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from devhost.commands import EXIT_BAD_INPUT, EXIT_PROVIDER_REFUSED, EXIT_PROVIDER_UNAVAILABLE
from devhost.process_command import context_of, parse_channels, process
from devhost.summarize_command import summarize
from shared.ports import SummarizerRejected, TranscriberUnavailable, TranscriptionContext
from shared.transcripts import Segment, Transcript
from tests import audio
from tests.fakes import FakeSummarizer, FakeTranscriber

LAYOUT: audio.Layout = [("tone", 1.0), ("silence", 2.5), ("noise", 1.0), ("silence", 2.5), ("tone", 1.0)]


def _recording(tmp_path: Path, data: bytes, name: str = "meeting.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_writes_the_four_transcript_files(tmp_path: Path) -> None:
    file = _recording(tmp_path, audio.encode(audio.pcm(LAYOUT), "mp3"), "meeting.mp3")
    out = tmp_path / "out"
    stream = io.StringIO()
    status = await process(
        file,
        out,
        channels={},
        language=None,
        stream=stream,
        transcriber=FakeTranscriber(),
        summarizer=FakeSummarizer(),
    )
    assert status == 0, stream.getvalue()
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["recordingId"] == "meeting"
    starts = [start for start, _ in audio.bursts(LAYOUT)]
    assert [s["start"] for s in transcript["segments"]] == pytest.approx(starts, abs=0.1)
    assert (out / "transcript.vtt").read_text().startswith("WEBVTT")
    assert "-->" in (out / "transcript.srt").read_text()
    assert (out / "transcript.txt").read_text().strip()
    assert not (out / ".pieces").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "fake:notes"
    assert (out / "summary.md").read_text().startswith("# meeting")
    assert "3 segments" in stream.getvalue()


async def test_channels_name_the_speakers(tmp_path: Path) -> None:
    left, right = audio.pcm([("tone", 1.0), ("silence", 3.0)]), audio.pcm([("silence", 2.0), ("tone", 2.0)])
    file = _recording(tmp_path, audio.wav([left, right]))
    out = tmp_path / "out"
    channels = {0: "alice", 1: "bob"}
    assert (
        await process(
            file,
            out,
            channels=channels,
            language="en",
            transcriber=FakeTranscriber(),
            summarizer=FakeSummarizer(),
        )
        == 0
    )
    transcript = json.loads((out / "transcript.json").read_text())
    assert [s["userId"] for s in transcript["speakers"]] == ["alice", "bob"]
    assert transcript["language"] == "en"


async def test_the_meeting_context_goes_with_every_piece(tmp_path: Path) -> None:
    left, right = audio.pcm([("tone", 1.0), ("silence", 3.0)]), audio.pcm([("silence", 2.0), ("tone", 2.0)])
    file = _recording(tmp_path, audio.wav([left, right]))
    channels = {0: "alice", 1: "bob"}
    context = context_of(channels, ["Alice Wong", "bob"], "Okonkwo budget sync", None)
    transcriber = FakeTranscriber()

    status = await process(
        file,
        tmp_path / "out",
        channels=channels,
        language="en",
        context=context,
        transcriber=transcriber,
        summarizer=FakeSummarizer(),
    )

    assert status == 0
    assert context == TranscriptionContext(
        names=("alice", "bob", "Alice Wong"), title="Okonkwo budget sync", description=None
    )
    assert transcriber.contexts
    assert set(transcriber.contexts) == {context}
    assert context_of({}, [], None, None) is None


async def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    file = _recording(tmp_path, audio.wav([audio.pcm(LAYOUT)]))
    out = tmp_path / "out"
    failing = FakeTranscriber(concurrency=1)
    failing.fail = [None, TranscriberUnavailable("the provider is down")]
    stream = io.StringIO()
    status = await process(file, out, channels={}, language=None, stream=stream, transcriber=failing)
    assert status == EXIT_PROVIDER_UNAVAILABLE
    assert "run again to resume" in stream.getvalue()
    assert len(list((out / ".pieces").glob("*.json"))) == 1

    again = FakeTranscriber()
    stream = io.StringIO()
    assert (
        await process(
            file,
            out,
            channels={},
            language=None,
            stream=stream,
            transcriber=again,
            summarizer=FakeSummarizer(),
        )
        == 0
    )
    assert len(again.calls) == 2  # only the pieces that were missing
    assert "resuming with 1 pieces done" in stream.getvalue()
    assert len(json.loads((out / "transcript.json").read_text())["segments"]) == 3


async def test_a_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    file = _recording(tmp_path, b"not audio at all" * 100)
    stream = io.StringIO()
    status = await process(file, tmp_path / "out", channels={}, language=None, stream=stream,
                           transcriber=FakeTranscriber(), summarizer=FakeSummarizer())  # fmt: skip
    assert status == EXIT_BAD_INPUT
    assert "cannot be transcribed" in stream.getvalue()
    assert "Traceback" not in stream.getvalue()


def test_channel_mappings_are_parsed_or_refused() -> None:
    assert parse_channels("0=alice, 1=bob") == {0: "alice", 1: "bob"}
    for bad in ("alice", "x=alice", "0=", "0=a,0=b"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_channels(bad)


async def test_summarize_writes_both_files_and_reports_failures(tmp_path: Path) -> None:
    transcript = Transcript(
        recording_id="r", language="en", duration_seconds=5,
        segments=[Segment(start=0, end=2, text="We decided to ship.")],
    )  # fmt: skip
    stream = io.StringIO()
    assert (
        await summarize(transcript, tmp_path, title="Ship", stream=stream, summarizer=FakeSummarizer()) == 0
    )
    assert json.loads((tmp_path / "summary.json").read_text())["overview"] == "Ship: We decided to ship."
    assert "1 requests" in stream.getvalue()
    refusing = FakeSummarizer()
    refusing.fail = [SummarizerRejected("invalid output twice")]
    stream = io.StringIO()
    status = await summarize(transcript, tmp_path / "x", title=None, stream=stream, summarizer=refusing)
    assert status == EXIT_PROVIDER_REFUSED
    assert "invalid output twice" in stream.getvalue()
    assert not (tmp_path / "x").exists()
