"""Media preparation: pieces of speech at the right offsets, silence dropped, limits kept, bad files named.

All audio is synthesized (tests/audio.py): tones and noise bursts between silences, so the expected
piece boundaries are known. Pieces carry up to 60 ms of padding plus 30 ms of window granularity on
each side of a burst, hence the 0.1 s tolerance.
"""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
import time
import tracemalloc
import wave
from pathlib import Path
from typing import IO

import pytest

from shared.media import MediaError, MediaInfo, MediaSource, Piece, iter_pieces, probe
from tests.audio import Kind, Layout, bursts, encode, pcm, video_only_mp4, wav, write_long_wav

TOLERANCE = 0.1
SPEECH: Layout = [
    ("silence", 1.0),
    ("tone", 1.5),
    ("silence", 2.0),
    ("noise", 1.0),
    ("silence", 2.0),
    ("tone", 2.0),
    ("silence", 1.0),
]


def spans(pieces: list[Piece]) -> list[tuple[float, float]]:
    return [(piece.start_seconds, piece.end_seconds) for piece in pieces]


def assert_matches(pieces: list[Piece], expected: list[tuple[float, float]]) -> None:
    assert len(pieces) == len(expected), spans(pieces)
    for piece, (start, end) in zip(pieces, expected, strict=True):
        assert piece.start_seconds == pytest.approx(start, abs=TOLERANCE), spans(pieces)
        assert piece.end_seconds == pytest.approx(end, abs=TOLERANCE), spans(pieces)


def wav_params(piece: Piece) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(piece.wav)) as reader:
        return (
            reader.getnchannels(),
            reader.getsampwidth(),
            reader.getframerate(),
            reader.getnframes() / 16_000,
        )


class ForwardOnly(io.RawIOBase):
    """A download stream that cannot seek, like a blob read chunk by chunk."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "mp4", "flac", "ogg"])
def test_mixed_recording_is_cut_around_the_bursts(fmt: str) -> None:
    data = encode(pcm(SPEECH), fmt)

    pieces = list(iter_pieces(io.BytesIO(data), per_channel=False))

    assert_matches(pieces, bursts(SPEECH))
    assert all(piece.channel is None for piece in pieces)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "mp4", "flac", "ogg"])
def test_probe_describes_the_recording(fmt: str) -> None:
    info = probe(io.BytesIO(encode(pcm(SPEECH), fmt)))

    assert info.channels == 1
    assert info.duration_seconds == pytest.approx(10.5, abs=0.05)
    expected = {"wav": "pcm_s16le", "mp3": "mp3", "mp4": "aac", "flac": "flac", "ogg": "opus"}[fmt]
    assert info.codec == expected
    assert info.sample_rate == (48_000 if fmt == "ogg" else 16_000)


def test_probe_reads_a_path_and_the_channel_count(tmp_path: Path) -> None:
    path = tmp_path / "four.wav"
    path.write_bytes(wav([pcm([("tone", 0.5)], rate=44_100)] * 4, rate=44_100))

    assert probe(path) == MediaInfo(duration_seconds=0.5, channels=4, sample_rate=44_100, codec="pcm_s16le")


def test_pieces_are_16_khz_mono_s16_wav_of_their_stated_length() -> None:
    pieces = list(iter_pieces(io.BytesIO(wav([pcm(SPEECH, rate=44_100)], rate=44_100)), per_channel=False))

    assert pieces
    for piece in pieces:
        channels, width, rate, seconds = wav_params(piece)
        assert (channels, width, rate) == (1, 2, 16_000)
        assert seconds == pytest.approx(piece.duration_seconds, abs=1e-6)
        assert len(piece.wav) == 44 + round(seconds * 16_000) * 2


def test_a_long_silence_at_the_start_is_skipped() -> None:
    layout: Layout = [("silence", 90.0), ("noise", 1.0), ("silence", 0.5)]

    pieces = list(iter_pieces(io.BytesIO(wav([pcm(layout)])), per_channel=False))

    assert_matches(pieces, [(90.0, 91.0)])


def test_short_pauses_stay_inside_a_piece_and_long_ones_cut() -> None:
    layout: Layout = [("tone", 1.0), ("silence", 0.3), ("tone", 1.0), ("silence", 1.0), ("tone", 1.0)]

    pieces = list(iter_pieces(io.BytesIO(wav([pcm(layout)])), per_channel=False, min_silence_seconds=0.6))

    assert_matches(pieces, [(0.0, 2.3), (3.3, 4.3)])


def test_a_target_length_keeps_short_pauses_inside_until_it_is_reached() -> None:
    # Bursts of 2 s with 1 s pauses: each pause is long enough to cut at, shorter than a long silence.
    burst: list[tuple[Kind, float]] = [("tone", 2.0), ("silence", 1.0)]
    layout: Layout = [*burst * 6, ("silence", 3.0), ("noise", 1.0)]
    data = wav([pcm(layout)])
    every_pause = list(iter_pieces(io.BytesIO(data), per_channel=False))
    assert len(every_pause) == 7
    targeted = list(iter_pieces(io.BytesIO(data), per_channel=False, target_piece_seconds=5.0))
    # 2 s tone + 1 s pause + 2 s tone reaches 5 s at the second burst; the next pause closes the piece.
    assert_matches(targeted, [(0, 5), (6, 11), (12, 17), (21, 22)])
    # The 4 s silence before the last burst is long: it cuts whatever the target, and is never sent.
    assert sum(p.duration_seconds for p in targeted) < 17


def test_decoded_seconds_are_reported_up_to_the_duration() -> None:
    seen: list[float] = []
    list(iter_pieces(io.BytesIO(wav([pcm(SPEECH)])), per_channel=False, on_decoded=seen.append))
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(sum(seconds for _, seconds in SPEECH), abs=0.01)


def test_unmixed_channels_are_split_on_their_own() -> None:
    layouts: list[Layout] = [
        [("tone", 1.0), ("silence", 11.0)],
        [("silence", 2.0), ("noise", 2.0), ("silence", 8.0)],
        [("silence", 12.0)],  # a participant who never spoke
        [("silence", 5.0), ("tone", 1.0), ("silence", 2.0), ("noise", 1.5), ("silence", 2.5)],
    ]
    data = wav([pcm(layout, seed=index) for index, layout in enumerate(layouts)])

    pieces = list(iter_pieces(io.BytesIO(data), per_channel=True))

    for channel, layout in enumerate(layouts):
        assert_matches([p for p in pieces if p.channel == channel], bursts(layout))
    assert {p.channel for p in pieces} == {0, 1, 3}
    ends = [p.end_seconds for p in pieces]
    assert ends == sorted(ends)  # channels interleave in the order their pieces end


def test_unmixed_recording_mixed_down_covers_every_channel() -> None:
    layouts: list[Layout] = [
        [("tone", 1.0), ("silence", 5.0)],
        [("silence", 3.0), ("tone", 1.0), ("silence", 2.0)],
    ]

    pieces = list(iter_pieces(io.BytesIO(wav([pcm(x) for x in layouts])), per_channel=False))

    assert_matches(pieces, [(0.0, 1.0), (3.0, 4.0)])


def test_continuous_sound_is_cut_at_max_piece_seconds() -> None:
    pieces = list(
        iter_pieces(io.BytesIO(wav([pcm([("noise", 25.0)])])), per_channel=False, max_piece_seconds=10)
    )

    assert [round(p.duration_seconds, 2) for p in pieces] == [9.99, 9.99, 5.02]
    assert all(p.duration_seconds <= 10 for p in pieces)
    for before, after in itertools.pairwise(pieces):
        assert after.start_seconds == before.end_seconds  # nothing lost at a forced cut
    assert pieces[-1].end_seconds == pytest.approx(25.0)


def test_continuous_sound_is_cut_at_max_piece_bytes() -> None:
    limit = 44 + 32_000 * 3  # three seconds of 16 kHz s16

    pieces = list(
        iter_pieces(io.BytesIO(wav([pcm([("tone", 10.0)])])), per_channel=False, max_piece_bytes=limit)
    )

    assert len(pieces) == 4
    assert all(len(p.wav) <= limit for p in pieces)
    assert sum(p.duration_seconds for p in pieces) == pytest.approx(10.0)


def test_limits_below_one_window_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        list(iter_pieces(io.BytesIO(wav([pcm(SPEECH)])), per_channel=False, max_piece_bytes=100))


def test_a_forward_only_stream_and_a_path_work(tmp_path: Path) -> None:
    data = wav([pcm(SPEECH)])
    path = tmp_path / "speech.wav"
    path.write_bytes(data)
    stream: IO[bytes] = io.BufferedReader(ForwardOnly(data))

    assert_matches(list(iter_pieces(stream, per_channel=False)), bursts(SPEECH))
    assert_matches(list(iter_pieces(path, per_channel=False)), bursts(SPEECH))
    assert_matches(list(iter_pieces(str(path), per_channel=False)), bursts(SPEECH))


def kind_of(source: object, *, pieces: bool = False) -> tuple[str, str]:
    def run(source: MediaSource) -> object:
        return list(iter_pieces(source, per_channel=False)) if pieces else probe(source)

    with pytest.raises(MediaError) as caught:
        run(source)  # type: ignore[arg-type]
    return caught.value.kind, caught.value.detail


@pytest.mark.parametrize("pieces", [False, True], ids=["probe", "iter_pieces"])
def test_empty_sources(tmp_path: Path, pieces: bool) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")

    assert kind_of(path, pieces=pieces) == ("empty", "the file is empty (0 bytes)")
    assert kind_of(io.BytesIO(), pieces=pieces)[0] == "empty"
    assert kind_of(io.BufferedReader(ForwardOnly(b"")), pieces=pieces)[0] == "empty"


def test_a_wav_header_without_samples_is_empty() -> None:
    kind, detail = kind_of(io.BytesIO(wav([b""])))

    assert kind == "empty"
    assert "no audio samples" in detail


@pytest.mark.parametrize("pieces", [False, True], ids=["probe", "iter_pieces"])
def test_random_bytes_are_not_audio(pieces: bool) -> None:
    import random

    garbage = random.Random(7).randbytes(200_000)

    kind, detail = kind_of(io.BytesIO(garbage), pieces=pieces)

    assert kind == "not_audio"
    assert "not a recognised audio or video file" in detail


def test_a_video_without_audio_has_no_audio_stream() -> None:
    assert kind_of(io.BytesIO(video_only_mp4())) == (
        "no_audio_stream",
        "the mov,mp4,m4a,3gp,3g2,mj2 file has no audio stream (1 video)",
    )


def test_a_truncated_mp3_yields_what_decodes_then_says_truncated() -> None:
    data = encode(pcm(SPEECH), "mp3")  # the Xing header records the full length
    pieces: list[Piece] = []

    with pytest.raises(MediaError) as caught:
        pieces.extend(iter_pieces(io.BytesIO(data[: len(data) // 2]), per_channel=False))

    assert caught.value.kind == "truncated"
    assert "header announces 10.5 s" in caught.value.detail
    assert_matches(pieces[:1], bursts(SPEECH)[:1])
    assert len(pieces) == 2  # the second burst is cut short where the file ends


def test_a_truncated_wav_is_truncated_for_probe_and_after_its_pieces() -> None:
    data = wav([pcm(SPEECH)])
    cut = data[: 44 + 32_000 * 6]  # the first six seconds
    pieces: list[Piece] = []

    assert kind_of(io.BytesIO(cut))[0] == "truncated"
    with pytest.raises(MediaError) as caught:
        pieces.extend(iter_pieces(io.BytesIO(cut), per_channel=False))

    assert caught.value.kind == "truncated"
    assert "ends after 6.0 s" in caught.value.detail
    assert_matches(pieces, bursts(SPEECH)[:2])


def test_importing_the_module_does_not_load_pyav() -> None:
    code = "import sys, shared.media; sys.exit('av' in sys.modules)"

    assert (
        subprocess.run([sys.executable, "-c", code], check=False, cwd=Path(__file__).parents[2]).returncode
        == 0
    )


def test_a_30_minute_recording_streams_in_flat_memory(tmp_path: Path) -> None:
    # Five minutes of uninterrupted sound between short pauses: pieces as long as the 600 s default
    # allows would be 19 MB each, so this checks the bound on a realistic worst case, not just tiny pieces.
    path = tmp_path / "long.wav"
    pattern: Layout = [("tone", 299.0), ("silence", 1.0)]
    seconds = write_long_wav(path, minutes=30, pattern=pattern)
    assert path.stat().st_size > 57_000_000

    tracemalloc.start()
    started = time.perf_counter()
    try:
        count = 0
        total = 0.0
        largest = 0
        for piece in iter_pieces(path, per_channel=False):
            count += 1
            total += piece.duration_seconds
            largest = max(largest, len(piece.wav))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started

    assert seconds == 1800
    assert count == 6
    assert total == pytest.approx(6 * 299.0, abs=6 * 2 * TOLERANCE)
    # tracemalloc sees Python allocations (the piece buffers), not FFmpeg's own C buffers, which are
    # a few frames whatever the length.
    print(
        f"30 min: {elapsed:.2f} s, tracemalloc peak {peak / 1e6:.1f} MB, largest piece {largest / 1e6:.1f} MB"
    )
    assert peak < 60_000_000
    assert peak < 4 * largest  # about one piece in flight (its buffer and its WAV), not the recording
