"""Evidence for summary items: where in the transcript each one was said, checked against the transcript.

A summarizer says where an item comes from (`ItemSource`: segment indexes, and the quote a model claims
they hold); the server makes the item's `evidence` from that and the transcript alone: times and speaker
from the segments, and a quote that occurs in their text. A claimed quote must occur there, compared with
case and punctuation aside (`normalised`), word for word; one that does not (a model inventing it) is kept
as claimed and the item marked `unverified`, never dropped. Without a claimed quote the server quotes the
sentence of those segments that shares most words with the item.

The offline summarizer quotes the transcript, so `locate` finds its sources by the words an item shares
with the segments (an inverted index: linear in the transcript, not items times segments).

Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from shared.summaries import (
    CITED_FIELDS,
    ActionNote,
    ChapterNote,
    Cited,
    DecisionNote,
    Evidence,
    ItemSource,
    KeyPoint,
    Notes,
    OpenQuestion,
    Sources,
    SummaryContent,
)
from shared.transcripts import Transcript

C = TypeVar("C", bound=Cited)
N = TypeVar("N", bound=Notes)

_WORD: Final = re.compile(r"\w+")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])\s+")
MAX_QUOTE_WORDS: Final = 40
MAX_SPANS: Final = 10  # evidence entries per item (Cited.evidence's bound)
# A located source must share at least this share of the item's content words (and one at least).
MIN_SHARE: Final = 0.3
# Words too common to say where something was said.
STOP_WORDS: Final = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "let",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "out",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "they",
        "this",
        "to",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yes",
        "okay",
        "ok",
        "um",
        "uh",
        "well",
        "also",
        "all",
    }
)


def normalised(text: str) -> str:
    """The text as evidence is compared: lower case, words only, one space between them."""
    return " ".join(_WORD.findall(text.lower()))


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS}


def occurs(quote: str, text: str) -> bool:
    """Whether `quote` is in `text` word for word, case and punctuation aside (never an empty quote)."""
    wanted = normalised(quote)
    return bool(wanted) and f" {wanted} " in f" {normalised(text)} "


def verbatim(quote: str, text: str) -> str | None:
    """`quote` as `text` writes it (its case and punctuation), or None where it does not occur."""
    words = _WORD.findall(quote.lower())
    if not words:
        return None
    pattern = r"(?<!\w)" + r"\W+".join(re.escape(word) for word in words) + r"(?!\w)"
    found = re.search(pattern, text, re.IGNORECASE)
    return found.group(0) if found else None


def best_sentence(about: str, text: str) -> str:
    """The sentence of `text` sharing most words with `about` (the first of equals), at most
    MAX_QUOTE_WORDS words of it, verbatim."""
    wanted = _content_words(about)
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)] or [text.strip()]
    best = max(sentences, key=lambda s: len(wanted & _content_words(s)))
    words = best.split()
    if len(words) <= MAX_QUOTE_WORDS:
        return best
    start = max(
        range(len(words) - MAX_QUOTE_WORDS + 1),
        key=lambda i: len(wanted & _content_words(" ".join(words[i : i + MAX_QUOTE_WORDS]))),
    )
    return " ".join(words[start : start + MAX_QUOTE_WORDS])


# --- evidence from sources, and checking it -----------------------------------------------------------------


def _runs(indexes: Iterable[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _span_text(transcript: Transcript, segments: Sequence[int]) -> str:
    return " ".join(transcript.segments[i].text for i in segments)


def _filled(transcript: Transcript, segments: list[int], quote: str) -> Evidence:
    first = transcript.segments[segments[0]]
    return Evidence(
        start=first.start,
        end=max(transcript.segments[i].end for i in segments),
        segments=segments,
        speaker=transcript.speaker_name(first.speaker),
        speaker_id=first.speaker,
        quote=quote[:1000],
    )


def evidence_of(source: ItemSource, about: str, transcript: Transcript) -> tuple[list[Evidence], bool]:
    """The evidence `source` stands for, and whether it checks out (False: the item is unverified).

    Segment indexes outside the transcript are dropped; none left is no evidence (unverified).
    """
    count = len(transcript.segments)
    valid = [i for i in source.segments if 0 <= i < count]
    runs = _runs(valid)[:MAX_SPANS]
    if not runs:
        return [], False
    if source.quote is None:
        return [
            _filled(transcript, run, best_sentence(about, _span_text(transcript, run))) for run in runs
        ], True
    found = next(
        (
            (position, said)
            for position, run in enumerate(runs)
            if (said := verbatim(source.quote, _span_text(transcript, run))) is not None
        ),
        None,
    )
    if found is None:
        # Kept as claimed, for a person to see what the summarizer said and where.
        claimed = [
            _filled(transcript, runs[0], source.quote),
            *(
                _filled(transcript, run, best_sentence(about, _span_text(transcript, run)))
                for run in runs[1:]
            ),
        ]
        return claimed, False
    position, said = found
    return [
        _filled(
            transcript, run, said if at == position else best_sentence(about, _span_text(transcript, run))
        )
        for at, run in enumerate(runs)
    ], True


def checked(evidence: Evidence, transcript: Transcript) -> Evidence | None:
    """`evidence` with times and speaker filled in from the transcript if its quote occurs in its segments
    (which must all exist); None if it does not check out."""
    count = len(transcript.segments)
    segments = sorted(set(evidence.segments))
    if not segments or any(not 0 <= i < count for i in segments):
        return None
    if not occurs(evidence.quote, _span_text(transcript, segments)):
        return None
    return _filled(transcript, segments, evidence.quote)


def recheck(notes: N, transcript: Transcript) -> N:
    """`notes` (say, as a person edited them) with every evidence checked again and filled in: evidence
    that still checks out is kept; evidence that does not is kept as given and its item marked unverified;
    an item without evidence is unverified."""

    def item(cited: C) -> C:
        kept: list[Evidence] = []
        verified = bool(cited.evidence)
        for given in cited.evidence:
            good = checked(given, transcript)
            if good is None:
                verified = False
                kept.append(given)
            else:
                kept.append(good)
        return cited.model_copy(update={"evidence": kept, "unverified": not verified})

    return notes.model_copy(
        update={
            "key_points": [item(p) for p in notes.key_points],
            "decisions": [item(d) for d in notes.decisions],
            "action_items": [item(a) for a in notes.action_items],
            "chapters": [item(c) for c in notes.chapters],
            "open_questions": [item(q) for q in notes.open_questions],
        }
    )


def cite(content: SummaryContent, sources: Sources | None, transcript: Transcript) -> Notes:
    """The summarizer's notes with evidence for each item, from its sources (none known: unverified)."""
    found = sources or Sources()

    def evidence(name: str, index: int, about: str) -> dict[str, object]:
        source = found.of(name, index)
        if source is None:
            return {"evidence": [], "unverified": True}
        spans, ok = evidence_of(source, about, transcript)
        return {"evidence": spans, "unverified": not ok}

    return Notes(
        overview=content.overview,
        key_points=[
            KeyPoint(text=t, **evidence("key_points", i, t)) for i, t in enumerate(content.key_points)
        ],
        decisions=[
            DecisionNote(text=d.text, **evidence("decisions", i, d.text))
            for i, d in enumerate(content.decisions)
        ],
        action_items=[
            ActionNote(**a.model_dump(), **evidence("action_items", i, a.task))
            for i, a in enumerate(content.action_items)
        ],
        chapters=[
            ChapterNote(**c.model_dump(), **evidence("chapters", i, f"{c.title} {c.summary}"))
            for i, c in enumerate(content.chapters)
        ],
        open_questions=[
            OpenQuestion(text=t, **evidence("open_questions", i, t))
            for i, t in enumerate(content.open_questions)
        ],
    )


@dataclass(frozen=True, slots=True)
class Counts:
    items: int
    unverified: int


def counts(notes: Notes) -> Counts:
    cited = notes.cited()
    return Counts(items=len(cited), unverified=sum(1 for item in cited if item.unverified))


# --- finding the sources of extracted notes ---------------------------------------------------------------


class Locator:
    """Finds the segment (or two consecutive segments of one speaker) an extracted text comes from."""

    def __init__(self, transcript: Transcript) -> None:
        self._transcript = transcript
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, segment in enumerate(transcript.segments):
            for word in _content_words(segment.text):
                self._postings[word].append(index)

    def locate(self, text: str, *, start: float | None = None, end: float | None = None) -> ItemSource | None:
        """The best-matching span, within [start, end] seconds if given; None if nothing shares enough."""
        wanted = _content_words(text)
        if not wanted:
            return None
        segments = self._transcript.segments
        hits: Counter[int] = Counter()
        for word in wanted:
            for index in self._postings.get(word, ()):
                if (start is None or segments[index].end >= start) and (
                    end is None or segments[index].start <= end
                ):
                    hits[index] += 1
        if not hits:
            return None
        candidates: list[tuple[int, int, tuple[int, ...]]] = []
        for index, single in hits.items():
            candidates.append((single, -1, (index,)))
            following = index + 1
            if following < len(segments) and segments[following].speaker == segments[index].speaker:
                pair = len(
                    wanted & (_content_words(segments[index].text) | _content_words(segments[following].text))
                )
                if pair > single:
                    candidates.append((pair, -2, (index, following)))
        score, _, chosen = max(candidates, key=lambda c: (c[0], c[1], -c[2][0]))
        if score < max(1, math.ceil(MIN_SHARE * len(wanted))):
            return None
        return ItemSource(segments=chosen)

    def sources(self, content: SummaryContent) -> Sources:
        """Where each item of extracted notes comes from, as far as its words tell."""
        items: dict[str, list[ItemSource | None]] = {name: [] for name in CITED_FIELDS}
        items["key_points"] = [self.locate(t) for t in content.key_points]
        items["decisions"] = [self.locate(d.text) for d in content.decisions]
        items["action_items"] = [self.locate(a.task) for a in content.action_items]
        items["chapters"] = [
            self.locate(c.summary, start=c.start, end=c.end) or self.locate(c.title, start=c.start, end=c.end)
            for c in content.chapters
        ]
        items["open_questions"] = [self.locate(q) for q in content.open_questions]
        return Sources(items)
