"""The transcript as sentences (speaker, time, turn, content words), and a sentence as notes quote it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from shared.adapters.local_summary.cues import (
    filler_lead_re,
    inner_filler_re,
    question_opener_re,
    run_on_break_re,
    sentence_end_re,
    word_re,
)
from shared.adapters.local_summary.words import common_words, speaker_words, word_keys
from shared.transcripts import Segment, Transcript

# Sentences: a run of one speaker's speech with no terminal punctuation is joined with the next piece
# (transcribers cut segments mid-sentence) while the pause is short; unpunctuated text is cut into pieces.
_JOIN_PAUSE_SECONDS: Final = 1.5
_MAX_SENTENCE_WORDS: Final = 60
_UNPUNCTUATED_PIECE_WORDS: Final = 40
# A sentence this long with no comma is most likely a recogniser's run-on: it is cut where a new clause
# obviously starts (see `run_on_break_re`).
_RUN_ON_MIN_WORDS: Final = 6

# Sentence-ending marks, Western and CJK (full stop, exclamation and question marks).
_TERMINALS: Final = (".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f")
_ABBREVIATIONS: Final = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "jr", "sr"}
)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str  # as said: whitespace normalised, apostrophes straight
    speaker: str | None
    start: float
    end: float
    turn: int  # consecutive sentences of one speaker (of one segment, if unknown) share a turn
    words: tuple[str, ...]  # content words (lower case, English plurals folded), in order
    pairs: tuple[tuple[str, str], ...]  # adjacent content words: candidate two-word chapter titles

    @property
    def is_question(self) -> bool:
        return self.text.endswith(("?", "\uff1f"))  # ASCII or full-width


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    speaker: str | None
    start: float
    end: float
    segment: int  # where it comes from: with no speaker known, a segment is the best guess at a turn


@dataclass(frozen=True, slots=True)
class Span:
    first: int  # sentence indices, `last` exclusive
    last: int


def sentences_of(transcript: Transcript, end: float, english: bool) -> list[Sentence]:
    # In time order (chapters rely on it): the segments of an unmixed recording's channels overlap, so one
    # speaker's later sentences may start after another's first. The sort is stable: a segment's own
    # sentences keep their order.
    breaks = run_on_break_re(_name_words(transcript)) if english else None
    split = [
        piece
        for number, segment in enumerate(transcript.segments)
        for piece in _split(segment, number, end, breaks)
    ]
    pieces = _join_unfinished(sorted(split, key=lambda piece: piece.start))
    if english:
        pieces = _ended_at_turns(pieces)
    tokens = [word_keys(piece.text, english) for piece in pieces]
    # People's names are who spoke, not what about: they would top every chapter's keywords.
    common = speaker_words(transcript, english) | (set() if english else common_words(tokens))
    sentences: list[Sentence] = []
    turn = 0
    for index, (piece, words) in enumerate(zip(pieces, tokens, strict=True)):
        previous = pieces[index - 1] if index else piece
        if piece.speaker != previous.speaker or (piece.speaker is None and piece.segment != previous.segment):
            turn += 1
        keys = [key if key and key not in common else "" for key in words]
        sentences.append(
            Sentence(
                text=piece.text,
                speaker=piece.speaker,
                start=piece.start,
                end=piece.end,
                turn=turn,
                words=tuple(key for key in keys if key),
                pairs=tuple((a, b) for a, b in itertools.pairwise(keys) if a and b),
            )
        )
    return sentences


def _ended_clause(text: str) -> str:
    """A clause of unpunctuated text as a sentence: a question mark where it obviously asks, else a stop."""
    if text.endswith(_TERMINALS):
        return text
    return f"{text}?" if question_opener_re().match(text) else ended(text)


def _name_words(transcript: Transcript) -> tuple[str, ...]:
    """Every word the meeting's people go by (display names, user ids), for the run-on breaks."""
    words: set[str] = set()
    for speaker in transcript.speakers:
        said = f"{speaker.display_name or ''} {(speaker.user_id or '').split('@')[0]}"
        words |= {word.casefold() for word in word_re().findall(said) if len(word) > 1}
    return tuple(sorted(words))


def _split(segment: Segment, number: int, end: float, breaks: re.Pattern[str] | None) -> Iterator[_Piece]:
    """A segment's sentences, each with a share of the segment's time in proportion to its length."""
    text = " ".join(segment.text.replace("\u2019", "'").replace("\u2018", "'").split())
    start, stop = min(segment.start, end), min(max(segment.end, segment.start), end)
    offset = 0
    for part, cut in _sentence_texts(text, breaks):
        position = text.find(part, offset)
        offset = position + len(part)
        share_start = position / max(len(text), 1)
        share_end = offset / max(len(text), 1)
        yield _Piece(
            # A clause cut from a run-on is a sentence of its own: ended, it is never joined again.
            text=_ended_clause(part) if cut else part,
            speaker=segment.speaker,
            start=round(start + (stop - start) * share_start, 3),
            end=round(start + (stop - start) * share_end, 3),
            segment=number,
        )


def _sentence_texts(text: str, breaks: re.Pattern[str] | None) -> Iterator[tuple[str, bool]]:
    """The sentences of a segment's text, each with whether it was cut from a run-on before a break."""
    begin = 0
    for match in sentence_end_re().finditer(text):
        before = text[begin : match.start()].rsplit(" ", 1)[-1].lower()
        if match.group().startswith(".") and before in _ABBREVIATIONS:
            continue
        yield from _clauses(text[begin : match.end()].strip(), breaks)
        begin = match.end()
    yield from _clauses(text[begin:].strip(), breaks)


def _clauses(sentence: str, breaks: re.Pattern[str] | None) -> Iterator[tuple[str, bool]]:
    clauses = _run_on_clauses(sentence, breaks)
    for number, clause in enumerate(clauses):
        cut = number < len(clauses) - 1
        for piece in _short_pieces(clause):
            yield piece, cut


def _run_on_clauses(text: str, breaks: re.Pattern[str] | None) -> list[str]:
    """A run-on cut where a new clause obviously starts: "... the retries sofia how about you" is two.

    Only a sentence with no comma or semicolon is cut: punctuated text already says where its clauses are.
    """
    if breaks is None or "," in text or ";" in text or len(text.split()) < _RUN_ON_MIN_WORDS:
        return [text]
    clauses: list[str] = []
    begin = 0
    for match in breaks.finditer(text):
        if match.start() > begin and word_re().search(text[begin : match.start()]):
            clauses.append(text[begin : match.start()].strip())
            begin = match.start()
    clauses.append(text[begin:].strip())
    return [clause for clause in clauses if clause]


def _short_pieces(text: str) -> Iterator[str]:
    # Unpunctuated speech would otherwise be one endless "sentence" nobody can quote.
    if not word_re().search(text):
        return
    words = text.split()
    if len(words) <= _MAX_SENTENCE_WORDS:
        yield text
        return
    for first in range(0, len(words), _UNPUNCTUATED_PIECE_WORDS):
        yield " ".join(words[first : first + _UNPUNCTUATED_PIECE_WORDS])


def _join_unfinished(pieces: Sequence[_Piece]) -> list[_Piece]:
    """Pieces of one sentence that the transcriber cut into consecutive segments, joined again."""
    joined: list[_Piece] = []
    for piece in pieces:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.speaker == piece.speaker
            and not previous.text.endswith(_TERMINALS)
            and piece.start - previous.end <= _JOIN_PAUSE_SECONDS
            and len(previous.text.split()) + len(piece.text.split()) <= _MAX_SENTENCE_WORDS
        ):
            text = f"{previous.text} {piece.text}"
            joined[-1] = _Piece(text, piece.speaker, previous.start, piece.end, piece.segment)
        else:
            joined.append(piece)
    return joined


def _ended_at_turns(pieces: Sequence[_Piece]) -> list[_Piece]:
    """Unfinished pieces that nothing continues (another speaker, a long pause, the end) end there.

    A recogniser without punctuation leaves every sentence open; this is where a reader would put the stop,
    or the question mark when the words obviously ask.
    """
    ended_pieces: list[_Piece] = []
    for index, piece in enumerate(pieces):
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        continued = (
            following is not None
            and following.speaker == piece.speaker
            and following.start - piece.end <= _JOIN_PAUSE_SECONDS
        )
        if not continued and not piece.text.endswith(_TERMINALS):
            text = _ended_clause(piece.text)
            ended_pieces.append(_Piece(text, piece.speaker, piece.start, piece.end, piece.segment))
        else:
            ended_pieces.append(piece)
    return ended_pieces


def tidy(text: str, english: bool) -> str:
    """A sentence as it reads in notes: fillers at the start and ums inside dropped, first letter up."""
    if english:
        text = inner_filler_re().sub(" ", text)
        text = filler_lead_re().sub("", text).strip() or text
    return capitalised(" ".join(text.split()))


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def ended(text: str) -> str:
    return text if text.endswith(_TERMINALS) else f"{text}."
