"""Meeting transcripts built in code for the summarizer tests: who says what, timed from the words' count.

`meeting([("ana", "Hello."), 30.0, ("bob", "Hi.")])` is a transcript where Ana speaks, nobody speaks for
30 seconds, then Bob does. Each turn becomes one segment lasting `SECONDS_PER_WORD` per word, with a short
gap between turns, as a transcriber with diarization would return them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.transcripts import Segment, Speaker, Transcript

SECONDS_PER_WORD = 0.4
GAP_SECONDS = 0.6
TAIL_SECONDS = 1.0

NAMES: Mapping[str, str] = {
    "ana": "Ana Lima",
    "bob": "Bob Stone",
    "carol": "Carol Diaz",
}

Turn = tuple[str | None, str] | float  # (speaker id or None, text), or a pause in seconds


def meeting(
    turns: Sequence[Turn],
    *,
    names: Mapping[str, str] = NAMES,
    language: str = "en",
    seconds_per_word: float = SECONDS_PER_WORD,
) -> Transcript:
    segments: list[Segment] = []
    clock = TAIL_SECONDS
    for turn in turns:
        if isinstance(turn, float | int):
            clock += float(turn)
            continue
        speaker, text = turn
        length = max(1, len(text.split())) * seconds_per_word
        segments.append(
            Segment(start=round(clock, 3), end=round(clock + length, 3), speaker=speaker, text=text)
        )
        clock += length + GAP_SECONDS
    spoken = dict.fromkeys(segment.speaker for segment in segments if segment.speaker is not None)
    return Transcript(
        recording_id="rec-test",
        language=language,
        duration_seconds=round(clock + TAIL_SECONDS, 3),
        speakers=[Speaker(id=speaker, display_name=names.get(speaker)) for speaker in spoken],
        segments=segments,
    )


def topic(speakers: Sequence[str], sentences: Sequence[str], repeat: int) -> list[Turn]:
    """A stretch of meeting on one subject: the sentences said in turn by the speakers, `repeat` times."""
    turns: list[Turn] = []
    for round_ in range(repeat):
        for position, sentence in enumerate(sentences):
            speaker = speakers[(round_ + position) % len(speakers)]
            turns.append((speaker, sentence))
    return turns
