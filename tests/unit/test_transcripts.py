import html
import json

import pysrt  # type: ignore[import-untyped]
import pytest
import webvtt
from pydantic import ValidationError

from shared.transcripts import (
    PieceResult,
    PieceSegment,
    Segment,
    Speaker,
    Transcript,
    merge,
    to_json,
    to_srt,
    to_txt,
    to_vtt,
)


def piece(start: float, *segments: tuple[float, float, str], channel: int | None = None) -> PieceResult:
    return PieceResult(
        start_seconds=start,
        channel=channel,
        segments=[PieceSegment(start=s, end=e, text=t) for s, e, t in segments],
    )


def diarized(start: float, *segments: tuple[float, float, str, str | None]) -> PieceResult:
    return PieceResult(
        start_seconds=start,
        segments=[PieceSegment(start=s, end=e, text=t, speaker_label=label) for s, e, t, label in segments],
    )


def ms(seconds: float) -> int:
    return round(seconds * 1000)


# merge


def test_merge_applies_piece_offsets_and_sorts_across_pieces() -> None:
    # Pieces arrive out of order, as concurrent transcription finishes them.
    t = merge(
        "rec1",
        "en",
        120.0,
        [
            piece(60.0, (0.5, 2.0, "third"), (3.0, 4.25, "fourth")),
            piece(0.0, (1.0, 2.0, "first"), (30, 31, "second")),
        ],
        None,
    )
    assert [(s.start, s.end, s.text) for s in t.segments] == [
        (1.0, 2.0, "first"),
        (30.0, 31.0, "second"),
        (60.5, 62.0, "third"),
        (63.0, 64.25, "fourth"),
    ]
    assert t.speakers == []
    assert all(s.speaker is None for s in t.segments)
    assert (t.recording_id, t.language, t.duration_seconds) == ("rec1", "en", 120.0)


def test_unmixed_channels_map_to_their_users() -> None:
    t = merge(
        "rec1",
        "en",
        100.0,
        [
            piece(0.0, (5.0, 6.0, "bob early"), channel=1),
            piece(0.0, (1.0, 2.0, "alice"), (10.0, 11.0, "alice again"), channel=0),
            piece(50.0, (1.0, 2.0, "carol"), channel=2),
        ],
        {0: "user-alice", 1: "user-bob"},
        {"user-alice": "Alice A."},
    )
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("ch0", "alice"),
        ("ch1", "bob early"),
        ("ch0", "alice again"),
        ("ch2", "carol"),
    ]
    assert t.speakers == [
        Speaker(id="ch0", user_id="user-alice", display_name="Alice A."),
        Speaker(id="ch1", user_id="user-bob", display_name=None),
        # An unmapped channel is an unknown user, still told apart from the others.
        Speaker(id="ch2", user_id=None, display_name=None),
    ]
    assert t.segments[3].start == 51.0


def test_ties_in_start_are_ordered_by_channel() -> None:
    t = merge(
        "r",
        "en",
        10.0,
        [piece(0.0, (1.0, 2.0, "two"), channel=2), piece(0.0, (1.0, 3.0, "zero"), channel=0)],
        {0: "u0", 2: "u2"},
    )
    assert [s.speaker for s in t.segments] == ["ch0", "ch2"]


def test_diarized_labels_become_stable_speakers_in_order_of_first_appearance() -> None:
    t = merge(
        "r",
        "en",
        200.0,
        [
            # The later piece arrives first; ids still follow time order.
            diarized(100.0, (0.0, 1.0, "x again", "X"), (2.0, 3.0, "y", "Y")),
            diarized(0.0, (0.0, 1.0, "x", "X"), (2.0, 3.0, "nobody", None), (4.0, 5.0, "z", "Z")),
        ],
        None,
    )
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("spk_A", "x"),
        (None, "nobody"),
        ("spk_B", "z"),
        ("spk_A", "x again"),
        ("spk_C", "y"),
    ]
    assert t.speakers == [Speaker(id="spk_A"), Speaker(id="spk_B"), Speaker(id="spk_C")]
    assert all(s.user_id is None for s in t.speakers)


def test_many_diarized_labels_get_distinct_ids() -> None:
    labels = [f"L{i}" for i in range(30)]
    t = merge(
        "r",
        "en",
        100.0,
        [diarized(0.0, *[(i, i + 0.5, "hi", label) for i, label in enumerate(labels)])],
        None,
    )
    ids = [s.id for s in t.speakers]
    assert ids[:2] == ["spk_A", "spk_B"]
    assert ids[25:28] == ["spk_Z", "spk_AA", "spk_AB"]
    assert len(set(ids)) == 30


def test_empty_text_is_dropped_and_whitespace_normalised() -> None:
    t = merge(
        "r",
        "en",
        10.0,
        [
            piece(
                0.0,
                (0.0, 1.0, "   "),
                (1.0, 2.0, ""),
                (2.0, 3.0, "\n\t"),
                (3.0, 4.0, "  hello \n  there\tyou  "),
            )
        ],
        None,
    )
    assert [s.text for s in t.segments] == ["hello there you"]


def test_times_are_clamped_to_the_recording() -> None:
    t = merge(
        "r",
        "en",
        100.0,
        [
            piece(95.0, (2.0, 9.0, "runs past the end"), (4.0, 3.0, "ends before it starts")),
            piece(0.0, (-0.5, 1.0, "starts before zero")),
        ],
        None,
    )
    assert [(s.start, s.end, s.text) for s in t.segments] == [
        (0.0, 1.0, "starts before zero"),
        (97.0, 100.0, "runs past the end"),
        (99.0, 99.0, "ends before it starts"),
    ]


def test_times_are_rounded_to_milliseconds() -> None:
    t = merge("r", "en", 10.0, [piece(0.1, (0.2, 0.30000000004, "a"))], None)
    assert (t.segments[0].start, t.segments[0].end) == (0.3, 0.4)


def test_merge_of_nothing_is_an_empty_transcript() -> None:
    t = merge("r", "en", 0.0, [], None)
    assert t.segments == []
    assert t.speakers == []
    assert to_vtt(t) == "WEBVTT\n"
    assert to_srt(t) == ""
    assert to_txt(t) == ""


def test_pieces_round_trip_as_json_so_finished_ones_can_be_kept() -> None:
    p = diarized(30.0, (0.0, 1.5, "hi", "A"))
    data = json.loads(p.model_dump_json(by_alias=True))
    assert data == {
        "startSeconds": 30.0,
        "channel": None,
        "durationSeconds": 0.0,
        "segments": [{"start": 0.0, "end": 1.5, "text": "hi", "speakerLabel": "A"}],
    }
    assert PieceResult.model_validate(data) == p


# the model


def test_transcript_refuses_disorder_and_unknown_speakers() -> None:
    base = {"recordingId": "r", "language": "en", "durationSeconds": 10.0, "speakers": []}
    Transcript.model_validate({**base, "segments": [{"start": 1, "end": 2, "speaker": None, "text": "a"}]})
    with pytest.raises(ValidationError):
        Transcript.model_validate(
            {
                **base,
                "segments": [
                    {"start": 2, "end": 3, "speaker": None, "text": "a"},
                    {"start": 1, "end": 2, "speaker": None, "text": "b"},
                ],
            }
        )
    with pytest.raises(ValidationError):
        Transcript.model_validate(
            {**base, "segments": [{"start": 1, "end": 2, "speaker": "ch0", "text": "a"}]}
        )
    with pytest.raises(ValidationError):
        Segment(start=2, end=1, text="a")


# renderings


@pytest.fixture
def transcript() -> Transcript:
    return merge(
        "rec-42",
        "en",
        2 * 3600 + 5.0,
        [
            piece(
                0.0,
                (0.0, 1.234, "Hello <everyone> & welcome"),
                (1.5, 2.0, "a second line\nfrom the same speaker"),
                channel=0,
            ),
            piece(0.0, (2.5, 3.25, "Ça va? 日本語 👋 --> not a timing"), channel=1),
            piece(0.0, (4.0, 5.0, "unknown channel"), channel=2),
            piece(3600.0, (61.001, 125.999, "over an hour in: a < b && c > d"), channel=1),
            piece(7200.0, (0.0, 4.0, "two hours in"), channel=0),
        ],
        {0: "u-alice", 1: "u-bob"},
        {"u-alice": "Alice <Admin> & Co"},
    )


def names(t: Transcript) -> list[str | None]:
    return [t.speaker_name(s.speaker) for s in t.segments]


def test_vtt_round_trips_through_webvtt(transcript: Transcript) -> None:
    vtt = to_vtt(transcript)
    captions = webvtt.from_string(vtt).captions
    assert len(captions) == len(transcript.segments) == 6
    for caption, segment, name in zip(captions, transcript.segments, names(transcript), strict=True):
        assert caption.start_time.in_milliseconds() == ms(segment.start)
        assert caption.end_time.in_milliseconds() == ms(segment.end)
        assert html.unescape(caption.text) == segment.text
        assert caption.voice is not None
        assert html.unescape(caption.voice) == name
    assert [html.unescape(c.voice or "") for c in captions] == [
        "Alice <Admin> & Co",
        "Alice <Admin> & Co",
        "u-bob",
        "ch2",
        "u-bob",
        "Alice <Admin> & Co",
    ]


def test_vtt_format(transcript: Transcript) -> None:
    vtt = to_vtt(transcript)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.234\n")
    assert "\n<v Alice &lt;Admin&gt; &amp; Co>Hello &lt;everyone&gt; &amp; welcome\n\n" in vtt
    assert "01:01:01.001 --> 01:02:05.999\n<v u-bob>over an hour in: a &lt; b &amp;&amp; c &gt; d\n" in vtt
    assert "02:00:00.000 --> 02:00:04.000" in vtt
    assert "-->" not in vtt.replace(" --> ", "")
    assert vtt.endswith("two hours in\n")
    assert "\n\n\n" not in vtt


def test_vtt_without_speakers_has_no_voice_spans() -> None:
    t = merge("r", "en", 10.0, [piece(0.0, (1.0, 2.0, "a & b"))], None)
    assert to_vtt(t) == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na &amp; b\n"
    (caption,) = webvtt.from_string(to_vtt(t)).captions
    assert caption.voice is None


def test_zero_length_segments_still_make_valid_cues() -> None:
    t = merge("r", "en", 10.0, [piece(0.0, (10.0, 12.0, "at the very end"))], None)
    assert (t.segments[0].start, t.segments[0].end) == (10.0, 10.0)
    assert "00:00:10.000 --> 00:00:10.001" in to_vtt(t)
    assert "00:00:10,000 --> 00:00:10,001" in to_srt(t)


def test_srt_round_trips_through_pysrt(transcript: Transcript) -> None:
    srt = to_srt(transcript)
    items = pysrt.from_string(srt)
    assert len(items) == 6
    for number, (item, segment, name) in enumerate(
        zip(items, transcript.segments, names(transcript), strict=True), start=1
    ):
        assert item.index == number
        assert item.start.ordinal == ms(segment.start)
        assert item.end.ordinal == ms(segment.end)
        assert item.text == f"{name}: {segment.text}"


def test_srt_format(transcript: Transcript) -> None:
    srt = to_srt(transcript)
    assert srt.startswith(
        "1\n00:00:00,000 --> 00:00:01,234\nAlice <Admin> & Co: Hello <everyone> & welcome\n\n2\n"
    )
    assert "\n5\n01:01:01,001 --> 01:02:05,999\nu-bob: over an hour in: a < b && c > d\n\n6\n" in srt
    assert "\n4\n00:00:04,000 --> 00:00:05,000\nch2: unknown channel\n" in srt
    assert srt.endswith("two hours in\n")


def test_txt_has_one_line_per_segment_with_its_time_and_speaker(transcript: Transcript) -> None:
    assert to_txt(transcript) == (
        "[00:00:00] Alice <Admin> & Co: Hello <everyone> & welcome\n"
        "[00:00:01] Alice <Admin> & Co: a second line from the same speaker\n"
        "[00:00:02] u-bob: Ça va? 日本語 👋 --> not a timing\n"
        "[00:00:04] ch2: unknown channel\n"
        "[01:01:01] u-bob: over an hour in: a < b && c > d\n"
        "[02:00:00] Alice <Admin> & Co: two hours in\n"
    )


def test_txt_without_speakers() -> None:
    t = merge("r", "en", 10.0, [piece(0.0, (1.9, 2.0, "a"), (3.0, 4.0, "b"))], None)
    assert to_txt(t) == "[00:00:01] a\n[00:00:03] b\n"


def test_json_validates_back_into_the_model(transcript: Transcript) -> None:
    text = to_json(transcript)
    data = json.loads(text)
    assert list(data) == ["recordingId", "language", "durationSeconds", "source", "speakers", "segments"]
    assert data["source"] == "recording"
    assert data["speakers"][0] == {"id": "ch0", "userId": "u-alice", "displayName": "Alice <Admin> & Co"}
    assert data["segments"][4] == {
        "start": 3661.001,
        "end": 3725.999,
        "speaker": "ch1",
        "text": "over an hour in: a < b && c > d",
    }
    assert Transcript.model_validate_json(text) == transcript


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt", "txt"),
    [
        (0.0, "00:00:00.000", "00:00:00,000", "[00:00:00]"),
        (59.9996, "00:01:00.000", "00:01:00,000", "[00:01:00]"),
        (3599.999, "00:59:59.999", "00:59:59,999", "[00:59:59]"),
        (3600.0, "01:00:00.000", "01:00:00,000", "[01:00:00]"),
        (10 * 3600 + 62.5, "10:01:02.500", "10:01:02,500", "[10:01:02]"),
        (123 * 3600 + 0.001, "123:00:00.001", "123:00:00,001", "[123:00:00]"),
    ],
)
def test_long_timestamps(seconds: float, vtt: str, srt: str, txt: str) -> None:
    t = merge("r", "en", seconds + 10, [piece(seconds, (0.0, 1.0, "x"))], None)
    assert f"\n{vtt} --> " in to_vtt(t)
    assert f"\n{srt} --> " in to_srt(t)
    assert to_txt(t).startswith(f"{txt} x")
