"""Transcripts: the pieces a transcriber returns merged into one transcript, and its four renderings.

Pure: no I/O. Times are seconds (floats, rounded to the millisecond) from the start of the recording.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class TranscriptModel(BaseModel):
    # Every field is written, defaults included: the OpenAPI document (shared/schemas.py) says so.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        defer_build=True,
        json_schema_serialization_defaults_required=True,
    )


class Speaker(TranscriptModel):
    # `ch0`, `ch1`… for the channels of an unmixed recording; `spk_A`, `spk_B`… for diarized labels.
    id: str
    user_id: str | None = None
    display_name: str | None = None


class Segment(TranscriptModel):
    start: Seconds
    end: Seconds
    speaker: str | None = None
    text: str

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("a segment ends before it starts")
        return self


class Transcript(TranscriptModel):
    recording_id: str
    language: str
    duration_seconds: Seconds
    # Where the words come from: `live` for the final captions of the meeting's call (a draft, replaced
    # when a recording of that call is transcribed), `recording` for a recording's audio.
    source: Literal["recording", "live"] = "recording"
    speakers: list[Speaker] = []
    segments: list[Segment] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [speaker.id for speaker in self.speakers]
        if len(ids) != len(set(ids)):
            raise ValueError("each speaker id may appear once")
        known = set(ids)
        previous = 0.0
        for segment in self.segments:
            if segment.start < previous:
                raise ValueError("segments must be in ascending order of start")
            if segment.speaker is not None and segment.speaker not in known:
                raise ValueError(f"segment speaker {segment.speaker!r} is not among the speakers")
            previous = segment.start
        return self

    def speaker_name(self, speaker_id: str | None) -> str | None:
        """The name to show for a speaker: display name, else user id, else the speaker id."""
        if speaker_id is None:
            return None
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return _name_of(speaker)
        return speaker_id


# What a transcriber returns for one piece of audio. A model, so finished pieces can be kept as JSON and a
# retried job resumes without transcribing them again.


class PieceWord(TranscriptModel):
    """A word's times within its piece, where the transcriber gives them."""

    start: float
    end: float
    text: str


class PieceSegment(TranscriptModel):
    """A segment with times relative to the start of its piece."""

    start: float
    end: float
    text: str
    # The speaker label of a diarizing model (e.g. "A"), None otherwise.
    speaker_label: str | None = None
    # Left out of the JSON when empty (most models give none): kept pieces stay as they were.
    words: Annotated[list[PieceWord], Field(exclude_if=lambda words: not words)] = []


class PieceSpan(TranscriptModel):
    """`duration` seconds of the piece's audio at `piece_offset` are the recording's at `recording_offset`.
    A packed piece joins stretches of speech with silence between them: its segments' times are mapped
    through its spans, never onto the silence that was cut out."""

    piece_offset: float
    recording_offset: float
    duration: float


class PieceResult(TranscriptModel):
    start_seconds: float  # where the piece starts in the recording
    channel: int | None = None  # the channel of an unmixed recording; None for mixed audio
    duration_seconds: float = 0.0  # the audio sent for it (usage accounting)
    segments: list[PieceSegment] = []
    # The piece's time map; empty: the piece is one stretch of the recording from `start_seconds`. Kept
    # with the segments, so a resumed job places a piece transcribed by an earlier attempt alike.
    spans: Annotated[list[PieceSpan], Field(exclude_if=lambda spans: not spans)] = []


# (start, end, text, speaker label): a segment placed in the recording, before cleaning.
_Placed = tuple[float, float, str, str | None]


def place(piece: PieceResult) -> list[_Placed]:
    """The piece's segments at their times in the recording.

    Through a packed piece's spans, a segment lands in the span it was spoken in. One that runs over the
    silence between spans (recognisers merge across a short gap) is split there: with word times, each
    span gets the words said in it; without, the words are shared out in proportion to the segment's time
    in each span. Times are clamped to their span, so no segment covers audio that was not sent.
    """
    placed: list[_Placed] = []
    spans = sorted(piece.spans, key=lambda span: span.piece_offset)
    for segment in piece.segments:
        if not all(math.isfinite(value) for value in (piece.start_seconds, segment.start, segment.end)):
            continue
        if not spans:
            start, end = piece.start_seconds + segment.start, piece.start_seconds + segment.end
            placed.append((start, end, segment.text, segment.speaker_label))
            continue
        for index, first, last, text in _split(segment, spans):
            span = spans[index]
            placed.append(
                (_to_recording(span, first), _to_recording(span, last), text, segment.speaker_label)
            )
    return placed


def _split(segment: PieceSegment, spans: list[PieceSpan]) -> list[tuple[int, float, float, str]]:
    """(span index, piece start, piece end, text) for each span the segment was spoken in."""
    # (span index, weight, start, end) in piece time
    shares: list[tuple[int, float, float, float]] = []
    if segment.words:
        for word in segment.words:
            index = _nearest(spans, (word.start + word.end) / 2)
            if shares and shares[-1][0] == index:
                at, weight, start, _ = shares[-1]
                shares[-1] = (at, weight + 1, start, word.end)
            else:
                shares.append((index, 1, word.start, word.end))
    else:
        for index, span in enumerate(spans):
            start = max(segment.start, span.piece_offset)
            end = min(segment.end, span.piece_offset + span.duration)
            if end > start:
                shares.append((index, end - start, start, end))
        if not shares:  # wholly in a gap (or past the end): said at the edge of the nearest span
            index = _nearest(spans, (segment.start + segment.end) / 2)
            shares.append((index, 1, segment.start, segment.end))
    if len(shares) == 1:
        index, _, start, end = shares[0]
        if segment.words:  # the segment's own bounds, if they are in the span, else its words'
            start, end = segment.start, segment.end
        return [(index, start, end, segment.text)]
    tokens = segment.text.split()
    total = sum(weight for _, weight, _, _ in shares)
    out: list[tuple[int, float, float, str]] = []
    taken, cumulative = 0, 0.0
    for index, weight, start, end in shares:
        cumulative += weight
        upto = round(len(tokens) * cumulative / total)
        if upto > taken:
            out.append((index, start, end, " ".join(tokens[taken:upto])))
            taken = upto
    return out


def _nearest(spans: list[PieceSpan], at: float) -> int:
    """The span holding piece time `at`, else the closest one (a moment in a gap between two)."""

    def distance(span: PieceSpan) -> float:
        return max(span.piece_offset - at, at - (span.piece_offset + span.duration), 0.0)

    return min(range(len(spans)), key=lambda index: distance(spans[index]))


def _to_recording(span: PieceSpan, at: float) -> float:
    within = min(max(at - span.piece_offset, 0.0), span.duration)
    return span.recording_offset + within


_WHITESPACE = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _name_of(speaker: Speaker) -> str:
    return speaker.display_name or speaker.user_id or speaker.id


def _label_id(index: int) -> str:
    """Spreadsheet-style letters for the n-th (0-based) diarized speaker: A…Z, AA, AB…"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"spk_{letters}"


def merge(  # noqa: PLR0917 - the signature the pipeline calls
    recording_id: str,
    language: str,
    duration_seconds: float,
    pieces: Iterable[PieceResult],
    channel_users: Mapping[int, str] | None,
    display_names: Mapping[str, str] | None = None,
) -> Transcript:
    """One transcript from the pieces, in any order: absolute times, speakers, clean text, sorted.

    A piece with a channel (unmixed recording) speaks as that channel's participant (`ch<n>`, its user from
    `channel_users`, or an unknown user when the channel is not mapped). A segment of mixed audio with a
    diarized label speaks as `spk_A`, `spk_B`… in order of first appearance in time (same label, same
    speaker across pieces). Otherwise the speaker is unknown (null). Empty segments are dropped; times are
    kept within [0, duration] and an end before its start is moved to the start.
    """
    duration = max(0.0, duration_seconds) if math.isfinite(duration_seconds) else 0.0
    users = channel_users or {}
    names = display_names or {}

    # (start, channel order, arrival order, end, channel, label, text)
    rows: list[tuple[float, int, int, float, int | None, str | None, str]] = []
    for piece in pieces:
        for placed_start, placed_end, raw_text, raw_label in place(piece):
            text = _normalise(raw_text)
            if not text or not (math.isfinite(placed_start) and math.isfinite(placed_end)):
                continue
            start = round(min(max(placed_start, 0.0), duration), 3)
            end = round(min(max(placed_end, 0.0), duration), 3)
            end = max(end, start)
            order = -1 if piece.channel is None else piece.channel
            label = None if raw_label is None else _normalise(raw_label) or None
            rows.append((start, order, len(rows), end, piece.channel, label, text))
    rows.sort(key=lambda row: row[:3])

    channel_speakers: dict[int, Speaker] = {}
    label_speakers: dict[str, Speaker] = {}
    segments: list[Segment] = []
    for start, _, _, end, channel, label, text in rows:
        speaker: Speaker | None = None
        if channel is not None:
            speaker = channel_speakers.get(channel)
            if speaker is None:
                user_id = users.get(channel)
                speaker = Speaker(
                    id=f"ch{channel}",
                    user_id=user_id,
                    display_name=names.get(user_id) if user_id is not None else None,
                )
                channel_speakers[channel] = speaker
        elif label is not None:
            speaker = label_speakers.get(label)
            if speaker is None:
                speaker = Speaker(id=_label_id(len(label_speakers)))
                label_speakers[label] = speaker
        segments.append(
            Segment(start=start, end=end, speaker=None if speaker is None else speaker.id, text=text)
        )

    speakers = [channel_speakers[channel] for channel in sorted(channel_speakers)]
    speakers += label_speakers.values()
    return Transcript(
        recording_id=recording_id,
        language=language,
        duration_seconds=round(duration, 3),
        speakers=speakers,
        segments=segments,
    )


# Renderings


def to_json(transcript: Transcript) -> str:
    return transcript.model_dump_json(by_alias=True)


def _milliseconds(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _clock(milliseconds: int, separator: str) -> str:
    seconds, ms = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{ms:03d}"


def _cue_times(segment: Segment) -> tuple[int, int]:
    # Cues must end after they start: a zero-length segment is shown for a millisecond.
    start = _milliseconds(segment.start)
    return start, max(_milliseconds(segment.end), start + 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    """WebVTT, with a `<v Name>` voice span on each cue whose speaker is known."""
    blocks = ["WEBVTT"]
    for segment in transcript.segments:
        start, end = _cue_times(segment)
        text = _escape(segment.text)
        name = transcript.speaker_name(segment.speaker)
        if name is not None:
            text = f"<v {_escape(_normalise(name))}>{text}"
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text}")
    return "\n\n".join(blocks) + "\n"


def to_srt(transcript: Transcript) -> str:
    """SubRip, numbered from 1, with the speaker as a `Name: ` prefix."""
    blocks = []
    for number, segment in enumerate(transcript.segments, start=1):
        start, end = _cue_times(segment)
        name = transcript.speaker_name(segment.speaker)
        text = segment.text if name is None else f"{_normalise(name)}: {segment.text}"
        blocks.append(f"{number}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n")
    return "\n".join(blocks)


def to_txt(transcript: Transcript) -> str:
    """Plain text: `[HH:MM:SS] Name: text`, one line for each segment (a sentence, from the offline
    transcriber; a provider's segment otherwise): a reader sees who said what when, line by line."""
    lines = []
    for segment in transcript.segments:
        stamp = _clock(_milliseconds(segment.start), "")[:-3]
        name = transcript.speaker_name(segment.speaker)
        lines.append(
            f"[{stamp}] {segment.text}" if name is None else f"[{stamp}] {_normalise(name)}: {segment.text}"
        )
    return "".join(f"{line}\n" for line in lines)
