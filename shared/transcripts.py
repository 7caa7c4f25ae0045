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


class PieceSegment(TranscriptModel):
    """A segment with times relative to the start of its piece."""

    start: float
    end: float
    text: str
    # The speaker label of a diarizing model (e.g. "A"), None otherwise.
    speaker_label: str | None = None


class PieceResult(TranscriptModel):
    start_seconds: float  # where the piece starts in the recording
    channel: int | None = None  # the channel of an unmixed recording; None for mixed audio
    duration_seconds: float = 0.0  # the audio sent for it (usage accounting)
    segments: list[PieceSegment] = []


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
        for segment in piece.segments:
            text = _normalise(segment.text)
            times = (piece.start_seconds, segment.start, segment.end)
            if not text or not all(math.isfinite(value) for value in times):
                continue
            start = round(min(max(piece.start_seconds + segment.start, 0.0), duration), 3)
            end = round(min(max(piece.start_seconds + segment.end, 0.0), duration), 3)
            end = max(end, start)
            order = -1 if piece.channel is None else piece.channel
            label = None if segment.speaker_label is None else _normalise(segment.speaker_label) or None
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
