"""Overview and key points: the sentences whose words recur most across the meeting (a sentence stating a
decision counts more), picked so that no two say much the same, quoted in the meeting's order. The key
points are spread over the chapters so that a long meeting's later topics are not crowded out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

from shared.adapters.local_summary.sentences import Sentence, Span, ended, tidy
from shared.transcripts import Transcript

_CANDIDATE_POOL: Final = 300  # sentences considered for the overview and key points, best first

_SPEAKERS_LABEL: Final = {
    "en": "Speakers",
    "de": "Sprecher",
    "fr": "Intervenants",
    "es": "Participantes",
    "it": "Partecipanti",
    "pt": "Participantes",
    "nl": "Sprekers",
}


def sentence_scores(
    sentences: Sequence[Sentence], *, favoured: set[int], title_words: frozenset[str] = frozenset()
) -> list[float]:
    """How representative each sentence is: the weight of its recurring words over the root of its size.

    A word's weight is the number of sentences it occurs in (once-only words weigh little), so a sentence
    about what the meeting keeps coming back to scores high, and the root keeps long ones from winning by
    size alone. Decisions count more, questions and scraps less.
    """
    spread = Counter(word for sentence in sentences for word in set(sentence.words))
    top = max(spread.values(), default=1)
    scores = []
    for index, sentence in enumerate(sentences):
        distinct = set(sentence.words)
        if not distinct:
            scores.append(0.0)
            continue
        # A word said once still says something: it keeps a short meeting's sentences from all scoring 0.
        weight = sum(spread[word] if spread[word] > 1 else 0.25 for word in distinct) / top
        weight += 0.5 * len(distinct & title_words)
        score = weight / math.sqrt(len(distinct))
        size = len(sentence.text.split())
        if size < 6:
            score *= 0.5
        elif size > 45:
            score *= 0.7
        if sentence.is_question:
            score *= 0.5
        if index in favoured:
            score *= 1.5
        scores.append(score)
    return scores


def pick(
    candidates: Iterable[int],
    sentences: Sequence[Sentence],
    scores: Sequence[float],
    count: int,
    taken: set[int],
) -> list[int]:
    """The best `count` sentences that repeat neither each other nor `taken`, in the meeting's order."""
    ranked = sorted((i for i in candidates if scores[i] > 0 and i not in taken), key=lambda i: -scores[i])
    chosen: list[int] = []
    for index in ranked[:_CANDIDATE_POOL]:
        if len(chosen) == count:
            break
        if not any(_repeats(sentences[index], sentences[other]) for other in (*chosen, *taken)):
            chosen.append(index)
    return sorted(chosen)


def _repeats(one: Sentence, other: Sentence) -> bool:
    a, b = set(one.words), set(other.words)
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.6


def overview_size(sentence_count: int) -> int:
    if sentence_count < 8:
        return 2
    return 3 if sentence_count < 200 else 4


def overview_text(
    transcript: Transcript, sentences: Sequence[Sentence], chosen: Sequence[int], english: bool
) -> str:
    text = " ".join(ended(tidy(sentences[index].text, english)) for index in chosen)
    speakers = list(dict.fromkeys(s.speaker for s in sentences if s.speaker is not None))
    names = [name for name in (transcript.speaker_name(speaker) for speaker in speakers) if name]
    if names:
        primary = transcript.language.lower().split("-")[0]
        label = _SPEAKERS_LABEL.get(primary, _SPEAKERS_LABEL["en"])
        text = f"{text} {label}: {', '.join(names)}.".strip()
    return text


def key_points(
    sentences: Sequence[Sentence],
    scores: Sequence[float],
    spans: Sequence[Span],
    overview: Sequence[int],
    busy: set[int],
) -> list[int]:
    """The best unused sentence of each chapter in turn (best chapters first), so that every topic shows.

    Not `busy` ones (already the overview, a decision or an action item), nor one that says what an
    overview sentence says.
    """
    count = min(10, max(3, len(spans), round(math.sqrt(len(sentences)) / 2)))
    eligible = [
        i
        for i in range(len(sentences))
        if i not in busy and not sentences[i].is_question and len(sentences[i].text.split()) >= 5
    ]
    by_chapter = [[i for i in eligible if span.first <= i < span.last] for span in spans]
    chosen: list[int] = []
    while len(chosen) < count:
        added = False
        rounds = sorted(by_chapter, key=lambda ids: -max((scores[i] for i in ids), default=0.0))
        for ids in rounds:
            if len(chosen) == count:
                break
            best = pick(ids, sentences, scores, 1, {*chosen, *overview})
            if best:
                chosen.append(best[0])
                ids.remove(best[0])
                added = True
        if not added:
            break
    return sorted(chosen)
