"""The time map of packed pieces: segments a transcriber returns land at their times in the recording,
and never over the silence that was cut out between two stretches of speech."""

from __future__ import annotations

import json

import pytest

from shared.transcripts import PieceResult, PieceSegment, PieceSpan, PieceWord, merge, place

# A piece of three stretches of one channel's speech with 0.5 s of inserted silence between them:
# piece [0, 2) is the recording's [10, 12), [2.5, 3.5) is [40, 41), [4, 7) is [100, 103).
SPANS = [
    PieceSpan(piece_offset=0.0, recording_offset=10.0, duration=2.0),
    PieceSpan(piece_offset=2.5, recording_offset=40.0, duration=1.0),
    PieceSpan(piece_offset=4.0, recording_offset=100.0, duration=3.0),
]
SPOKEN = [(10.0, 12.0), (40.0, 41.0), (100.0, 103.0)]  # in the recording


def packed(*segments: PieceSegment, channel: int | None = 0) -> PieceResult:
    return PieceResult(
        start_seconds=10.0, channel=channel, duration_seconds=7.0, segments=list(segments), spans=SPANS
    )


def within_speech(start: float, end: float) -> bool:
    return any(a <= start <= end <= b for a, b in SPOKEN)


def test_a_segment_inside_a_stretch_lands_at_its_recording_time() -> None:
    placed = place(packed(PieceSegment(start=4.5, end=6.0, text="later on")))
    assert placed == [(100.5, 102.0, "later on", None)]


def test_a_segment_over_the_gaps_is_split_at_the_stretches_in_proportion_to_its_time_in_each() -> None:
    # 2 s in the first stretch, 1 s in the second, 1 s in the third: eight words, 4 / 2 / 2.
    segment = PieceSegment(start=0.0, end=5.0, text="one two three four five six seven eight")
    placed = place(packed(segment))
    assert placed == [
        (10.0, 12.0, "one two three four", None),
        (40.0, 41.0, "five six", None),
        (100.0, 101.0, "seven eight", None),
    ]
    assert all(within_speech(start, end) for start, end, _, _ in placed)


def test_word_times_decide_where_a_segment_is_split() -> None:
    words = [
        PieceWord(start=1.2, end=1.6, text="hello"),
        PieceWord(start=1.6, end=1.9, text="there."),
        PieceWord(start=2.6, end=3.0, text="yes"),
        PieceWord(start=4.1, end=4.4, text="ok"),
        PieceWord(start=4.4, end=4.9, text="then"),
    ]
    # Punctuation comes from the segment's text; the words say only how many go where.
    segment = PieceSegment(start=1.2, end=4.9, text="Hello there. Yes! OK, then.", words=words)
    placed = place(packed(segment))
    assert placed == [
        (11.2, 11.9, "Hello there.", None),
        (40.1, 40.5, "Yes!", None),
        (100.1, 100.9, "OK, then.", None),
    ]


def test_a_segment_wholly_in_a_gap_is_put_at_the_edge_of_the_nearest_stretch() -> None:
    [(start, end, text, _)] = place(packed(PieceSegment(start=2.1, end=2.3, text="uh")))
    assert (start, end, text) == (12.0, 12.0, "uh")  # nearer the end of the first stretch
    [(start, end, _, _)] = place(packed(PieceSegment(start=6.0, end=9.0, text="past the end")))
    assert (start, end) == (102.0, 103.0)  # clamped to the last stretch


def test_merge_places_packed_pieces_and_keeps_speakers_labels_per_part() -> None:
    segment = PieceSegment(start=0.5, end=3.0, text="alpha beta gamma delta", speaker_label="A")
    transcript = merge("r", "en", 200.0, [packed(segment, channel=None)], None)
    assert [(s.start, s.end, s.speaker, s.text) for s in transcript.segments] == [
        (10.5, 12.0, "spk_A", "alpha beta gamma"),
        (40.0, 40.5, "spk_A", "delta"),
    ]


def test_a_kept_piece_round_trips_with_its_map() -> None:
    segment = PieceSegment(start=0.0, end=1.0, text="hi", words=[PieceWord(start=0.1, end=0.4, text="hi")])
    kept = packed(segment)
    data = json.loads(kept.model_dump_json(by_alias=True))
    assert data["spans"][1] == {"pieceOffset": 2.5, "recordingOffset": 40.0, "duration": 1.0}
    assert data["segments"][0]["words"] == [{"start": 0.1, "end": 0.4, "text": "hi"}]
    again = PieceResult.model_validate_json(kept.model_dump_json(by_alias=True))
    assert again == kept
    assert place(again) == place(kept)


def test_a_piece_without_a_map_is_one_stretch_from_its_start() -> None:
    plain = PieceResult(start_seconds=30.0, segments=[PieceSegment(start=1.0, end=2.5, text="as before")])
    assert place(plain) == [(31.0, 32.5, "as before", None)]


@pytest.mark.parametrize("end", [0.3, 2.4, 2.6, 3.9, 4.2, 6.9])
def test_no_placed_segment_ever_covers_cut_silence(end: float) -> None:
    segment = PieceSegment(start=0.2, end=end, text="w " * 20)
    for start, stop, _, _ in place(packed(segment)):
        assert within_speech(start, stop)
