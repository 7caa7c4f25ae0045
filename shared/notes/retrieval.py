"""Finding what a meeting's recordings say about a question: passages and their BM25 ranking.

A meeting's passages are its transcripts' segments and its notes' items (key points, decisions, action
items, chapters, open questions) whose evidence checks out. A note item stands for the transcript span of
its first evidence: what an answer cites is always a span of a transcript, with its time and speaker (an
item whose evidence does not check out says nothing an answer could rest on, so it is left out).

Ranked with Okapi BM25 (k1 1.2, b 0.75) over lower-case words without the evidence module's stop words,
a trailing plural `s` folded. Written here rather than taken from `rank_bm25`: that package pulls in
numpy, a cold-start cost for a few lines of arithmetic over the passages of one meeting (hundreds to a
few thousand), built per question: meetings are small and their transcripts change (a speaker renamed).

Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from shared.notes.evidence import STOP_WORDS, checked
from shared.summaries import ActionNote, ChapterNote, Cited, Notes
from shared.transcripts import Transcript

K1: Final = 1.2
B: Final = 0.75
_WORD: Final = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Passage:
    """Something a recording of the meeting says: a transcript span, or a note item resting on one."""

    recording_id: str
    kind: Literal["transcript", "summary"]
    segments: tuple[int, ...]  # the transcript's segment indexes it stands for (consecutive)
    start: float
    end: float
    speaker: str | None  # by name
    text: str  # what is searched and shown to a model: the segment, or the note item


@dataclass(frozen=True, slots=True)
class Ranked:
    passage: Passage
    score: float


def terms(text: str) -> list[str]:
    """The words BM25 counts: lower case, no stop words, a plural `s` folded (`plans` finds `plan`)."""
    words = (word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS)
    return [
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        for word in words
    ]


def item_text(item: Cited) -> str:
    if isinstance(item, ActionNote):
        return f"{item.owner}: {item.task}" if item.owner else item.task
    if isinstance(item, ChapterNote):
        return f"{item.title}: {item.summary}"
    text = getattr(item, "text", "")
    return text if isinstance(text, str) else ""


def passages_of(recording_id: str, transcript: Transcript, notes: Notes | None = None) -> list[Passage]:
    """One passage per segment with words, then one per note item whose first evidence checks out."""
    found = [
        Passage(
            recording_id,
            "transcript",
            (index,),
            segment.start,
            segment.end,
            transcript.speaker_name(segment.speaker),
            segment.text,
        )
        for index, segment in enumerate(transcript.segments)
        if _WORD.search(segment.text)
    ]
    for item in notes.cited() if notes is not None else ():
        evidence = checked(item.evidence[0], transcript) if item.evidence else None
        text = item_text(item)
        if evidence is None or not _WORD.search(text):
            continue
        found.append(
            Passage(
                recording_id,
                "summary",
                tuple(evidence.segments),
                evidence.start,
                evidence.end,
                evidence.speaker,
                text,
            )
        )
    return found


class Bm25:
    """Okapi BM25 over `passages`, built once per question (see the module docstring)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._passages = list(passages)
        self._counts = [Counter(terms(p.text)) for p in self._passages]
        self._lengths = [sum(c.values()) for c in self._counts]
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        documents: Counter[str] = Counter()
        for counted in self._counts:
            documents.update(counted.keys())
        total = len(self._passages)
        # BM25+'s idf floor of the usual formula: a word in most passages still counts a little, never less.
        self._idf = {w: math.log(1 + (total - n + 0.5) / (n + 0.5)) for w, n in documents.items()}

    def top(self, question: str, k: int) -> list[Ranked]:
        """The `k` best passages for `question`, best first (ties: in transcript order); none sharing a
        word with it are left out."""
        wanted = set(terms(question))
        scored: list[tuple[float, int]] = []
        for position, counted in enumerate(self._counts):
            score = 0.0
            length = self._lengths[position]
            for word in wanted & counted.keys():
                tf = counted[word]
                norm = K1 * (1 - B + B * length / self._average) if self._average else K1
                score += self._idf[word] * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, position))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [Ranked(self._passages[position], score) for score, position in scored[:k]]


def ranked(passages: Iterable[Passage], question: str, k: int) -> list[Ranked]:
    return Bm25(list(passages)).top(question, k)
