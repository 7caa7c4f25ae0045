"""Packed pieces: a channel's speech joined across its pauses and the other speakers' turns, up to the
transcriber's limits, with a time map that points every stretch of a piece back at the recording.

The audio is synthesized (tests/audio.py), so where the speech is, and what its samples are, is known:
the map is checked sample for sample, not only by its times.
"""

from __future__ import annotations

import io
import math
import random
import tracemalloc
import wave
from pathlib import Path

import pytest

from shared.media import SAMPLE_RATE, Piece, Span, iter_pieces
from tests.audio import Kind, Layout, bursts, pcm, wav, write_long_wav

BYTES_PER_SECOND = 2 * SAMPLE_RATE
GAP = 0.5


def conversation(turns: int, seed: int = 7) -> tuple[bytes, bytes, list[Layout]]:
    """Two speakers taking turns, each turn of 1-3 s with pauses of 0.7-2 s, on two channels: while one
    speaks the other's channel is silent. Returns both channels' PCM and their layouts."""
    rng = random.Random(seed)
    layouts: list[list[tuple[Kind, float]]] = [[], []]
    for turn in range(turns):
        speaker = turn % 2
        burst = round(rng.uniform(1.0, 3.0), 2)
        pause = round(rng.uniform(0.7, 2.0), 2)
        layouts[speaker] += [("tone" if turn % 3 else "noise", burst), ("silence", pause)]
        layouts[1 - speaker] += [("silence", burst + pause)]
    return pcm(layouts[0]), pcm(layouts[1]), list(layouts)


def packed(
    data: bytes, *, max_piece_seconds: float = 600, max_piece_bytes: int = 24 * 1024 * 1024
) -> list[Piece]:
    pieces = iter_pieces(
        io.BytesIO(data),
        per_channel=True,
        pack=True,
        gap_seconds=GAP,
        max_piece_seconds=max_piece_seconds,
        max_piece_bytes=max_piece_bytes,
    )
    return list(pieces)


def piece_pcm(piece: Piece) -> bytes:
    with wave.open(io.BytesIO(piece.wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, SAMPLE_RATE)
        frames: bytes = reader.readframes(reader.getnframes())
    return frames


def at(pcm_bytes: bytes, seconds: float, duration: float) -> bytes:
    start = round(seconds * SAMPLE_RATE) * 2
    return pcm_bytes[start : start + round(duration * SAMPLE_RATE) * 2]


def test_every_stretch_of_a_piece_is_the_recordings_audio_at_its_mapped_time() -> None:
    left, right, layouts = conversation(24)
    pieces = packed(wav([left, right]), max_piece_seconds=10)
    for piece in pieces:
        audio = piece_pcm(piece)
        channel_pcm = left if piece.channel == 0 else right
        previous_end = 0.0
        for span in piece.spans:
            # The piece's samples at the span are the recording's at its offset: the map is exact.
            assert at(audio, span.piece_offset, span.duration) == at(
                channel_pcm, span.recording_offset, span.duration
            )
            # Between two stretches, GAP seconds of inserted silence and nothing else.
            if span.piece_offset > 0:
                gap = at(audio, previous_end, span.piece_offset - previous_end)
                assert span.piece_offset - previous_end == pytest.approx(GAP, abs=1e-6)
                assert gap == bytes(len(gap))
            previous_end = span.piece_offset + span.duration
        assert previous_end == pytest.approx(piece.audio_seconds, abs=1e-6)  # no trailing silence sent
        assert piece.start_seconds == piece.spans[0].recording_offset
    # Every burst of every channel is in exactly one span of that channel, in order.
    for channel, layout in enumerate(layouts):
        mapped = [
            (s.recording_offset, s.recording_offset + s.duration)
            for p in pieces
            if p.channel == channel
            for s in p.spans
        ]
        expected = bursts(layout)
        assert len(mapped) == len(expected)
        for (start, end), (want_start, want_end) in zip(mapped, expected, strict=True):
            assert start == pytest.approx(want_start, abs=0.1)
            assert end == pytest.approx(want_end, abs=0.1)


def test_pieces_fill_up_to_the_duration_limit_near_the_fewest_possible() -> None:
    left, right, _ = conversation(60)
    limit = 12.0
    pieces = packed(wav([left, right]), max_piece_seconds=limit)
    for channel in (0, 1):
        mine = [p for p in pieces if p.channel == channel]
        assert all(p.audio_seconds <= limit for p in mine)
        sent = sum(p.audio_seconds for p in mine)
        speech = sum(s.duration for p in mine for s in p.spans)
        # At most one piece more than the audio needs; speech over pauses and the other speaker's turns.
        assert len(mine) <= math.ceil(sent / limit) + 1
        assert len(mine) <= math.ceil(speech / limit) * 1.5
        assert all(len(p.spans) > 1 for p in mine[:-1])
        # A piece closes only when the next stretch would not fit in it.
        nexts = [p.spans[0].duration for p in mine[1:]]
        for piece, following in zip(mine, nexts, strict=False):
            assert piece.audio_seconds + GAP + following > limit


def test_the_byte_limit_is_kept_header_included() -> None:
    left, right, _ = conversation(30)
    limit = 44 + 5 * BYTES_PER_SECOND + 1000  # about 5 s of audio
    pieces = packed(wav([left, right]), max_piece_bytes=limit)
    assert pieces
    assert all(len(p.wav) <= limit for p in pieces)
    assert max(len(p.wav) for p in pieces) > limit * 0.6  # and pieces are filled towards it


def test_a_stretch_longer_than_the_limit_is_cut_into_contiguous_spans() -> None:
    data = wav([pcm([("silence", 0.5), ("noise", 25.0), ("silence", 0.5)])])
    pieces = list(iter_pieces(io.BytesIO(data), per_channel=False, pack=True, max_piece_seconds=10))
    assert [len(p.spans) for p in pieces] == [1, 1, 1]
    assert all(p.audio_seconds <= 10 for p in pieces)
    ends = [p.spans[0].recording_offset + p.spans[0].duration for p in pieces]
    starts = [p.spans[0].recording_offset for p in pieces]
    assert starts[1:] == pytest.approx(ends[:-1])  # nothing lost nor doubled at a forced cut


def test_unpacked_pieces_are_one_span_each_and_cut_at_every_pause() -> None:
    left, right, layouts = conversation(10)
    pieces = list(iter_pieces(io.BytesIO(wav([left, right])), per_channel=True))
    assert len(pieces) == sum(len(bursts(layout)) for layout in layouts)
    for piece in pieces:
        assert piece.spans == (Span(0.0, piece.start_seconds, piece.audio_seconds),)


def test_speech_found_is_told_while_pieces_are_still_filling() -> None:
    left, right, _ = conversation(20)
    found: list[float] = []
    pieces = list(
        iter_pieces(io.BytesIO(wav([left, right])), per_channel=True, pack=True, on_speech=found.append)
    )
    assert len(pieces) == 2  # one piece per channel (600 s allowed): closed only at the end...
    assert found == sorted(found)
    assert found[len(found) // 2] > 0  # ...but the speech in them was counted all along
    assert found[-1] == pytest.approx(sum(p.audio_seconds for p in pieces), abs=1.5)


def test_packing_a_30_minute_recording_streams_in_flat_memory(tmp_path: Path) -> None:
    # Five minutes of uninterrupted sound between short pauses: two stretches fill a 600 s piece (19 MB).
    # The packer gives its piece up as soon as the stretch being spoken cannot join it, so a channel holds
    # about one piece (and its WAV for a moment), not a piece and a stretch as long.
    path = tmp_path / "long.wav"
    seconds = write_long_wav(path, minutes=30, pattern=[("tone", 299.0), ("silence", 1.0)])
    tracemalloc.start()
    try:
        pieces = [
            (len(piece.spans), piece.audio_seconds)
            for piece in iter_pieces(path, per_channel=False, pack=True)
        ]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds == 1800
    assert [count for count, _ in pieces] == [2, 2, 2]
    assert all(audio <= 600 for _, audio in pieces)
    # Three 19 MB pieces at most: the one the caller still holds, the one filling and its WAV being made
    # (the same bound as unpacked pieces, tests/unit/test_media.py). Holding a stretch besides would add one.
    assert peak < 60_000_000


def test_a_channels_first_piece_is_smaller_so_the_transcriber_starts_early() -> None:
    left, right, _ = conversation(60)
    pieces = list(
        iter_pieces(
            io.BytesIO(wav([left, right])),
            per_channel=True,
            pack=True,
            gap_seconds=GAP,
            max_piece_seconds=12,
            first_piece_seconds=5,
        )
    )
    for channel in (0, 1):
        first, *rest = [p for p in pieces if p.channel == channel]
        assert first.audio_seconds <= 5 < first.audio_seconds + GAP + rest[0].spans[0].duration
        assert rest
        assert all(p.audio_seconds <= 12 for p in rest)
        assert max(p.audio_seconds for p in rest) > 9  # the later ones fill up to the maximum
