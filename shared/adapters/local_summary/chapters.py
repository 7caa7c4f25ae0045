"""Chapters: the meeting cut into ~30 s blocks, then split where the vocabulary changes most (TextTiling:
the depth of a dip in similarity between neighbouring windows) or at a long pause, about one chapter per
five minutes, each between a minimum and a maximum length. Titled by its most distinctive words and
summarized by its most representative sentence. Chapters are contiguous, from 0 to the duration.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Final

from shared.adapters.local_summary.cues import word_re
from shared.adapters.local_summary.scoring import sentence_scores
from shared.adapters.local_summary.sentences import Sentence, Span, capitalised, ended, tidy
from shared.adapters.local_summary.words import fold
from shared.summaries import Chapter

# Chapters: blocks are the candidate boundaries; a pause this long is a strong boundary by itself.
_BLOCK_SECONDS: Final = 30.0
_LONG_PAUSE_SECONDS: Final = 20.0
_SECONDS_PER_CHAPTER: Final = 300.0
_MAX_CHAPTERS: Final = 24
_MIN_CHAPTER_SECONDS: Final = 30.0
_WINDOW_BLOCKS: Final = 3
_REFINE_SENTENCES: Final = 6  # how far a boundary may move to the sentence where the subject changes


def chapter_spans(sentences: Sequence[Sentence], end: float) -> list[Span]:
    """Consecutive runs of sentences, cut where the vocabulary shifts most or at long pauses."""
    wanted = max(1, min(_MAX_CHAPTERS, round(end / _SECONDS_PER_CHAPTER)))
    shortest = max(_MIN_CHAPTER_SECONDS, end / (wanted * 2.5))
    longest = max(2 * end / wanted, 600.0)
    blocks = _blocks(sentences)
    depths = _boundary_depths(sentences, blocks)
    cuts: list[int] = []  # sentence indices where a chapter starts, besides 0

    def fits(cut: int) -> bool:
        edges = [0.0, *(sentences[c].start for c in sorted(cuts)), end]
        at = sentences[cut].start
        before = max(edge for edge in edges if edge <= at)
        after = min(edge for edge in edges if edge > at) if any(edge > at for edge in edges) else end
        return at - before >= shortest and after - at >= shortest

    values = list(depths.values())
    threshold = _mean(values) - _deviation(values) / 2 if values else 0.0
    for cut, depth in sorted(depths.items(), key=lambda item: -item[1]):
        if len(cuts) + 1 >= wanted:
            break
        if depth > max(threshold, 0.1) and fits(cut):
            cuts.append(cut)
    _split_long_chapters(sentences=sentences, depths=depths, cuts=cuts, longest=longest, fits=fits, end=end)
    edges = [0, *sorted(_refined(sentences, cut) for cut in cuts), len(sentences)]
    return [Span(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _balanced_cut(
    sentences: Sequence[Sentence], depths: dict[int, float], inside: Sequence[int], start: float, stop: float
) -> int:
    middle, half = (start + stop) / 2, (stop - start) / 2
    return max(inside, key=lambda c: depths[c] + 0.3 * (1 - abs(sentences[c].start - middle) / half))


def _refined(sentences: Sequence[Sentence], cut: int) -> int:
    """The sentence near a block boundary where the vocabulary actually changes (blocks are ~30 s wide)."""
    at = sentences[cut].start
    nearby = [
        i
        for i in range(max(1, cut - _REFINE_SENTENCES), min(len(sentences), cut + _REFINE_SENTENCES + 1))
        if abs(sentences[i].start - at) <= _BLOCK_SECONDS
    ]

    def likeness(i: int) -> float:
        before = Counter(w for s in sentences[max(0, i - _REFINE_SENTENCES) : i] for w in s.words)
        after = Counter(w for s in sentences[i : i + _REFINE_SENTENCES] for w in s.words)
        pause = sentences[i].start - sentences[i - 1].end
        return _cosine(before, after) - (1.0 if pause >= _LONG_PAUSE_SECONDS else 0.0)

    return min(nearby, key=lambda i: (likeness(i), abs(i - cut)), default=cut)


def _split_long_chapters(
    *,
    sentences: Sequence[Sentence],
    depths: dict[int, float],
    cuts: list[int],
    longest: float,
    fits: Callable[[int], bool],
    end: float,
) -> None:
    """Cut chapters longer than `longest` at their deepest boundary, while one fits and the count allows.

    Near the middle counts too: where depths are alike (one subject all along), halving a long chapter
    beats slicing minimum-length pieces off its start.
    """
    while len(cuts) + 1 < _MAX_CHAPTERS:
        edges = [0, *sorted(cuts), len(sentences)]
        added = False
        for first, last in itertools.pairwise(edges):
            start = 0.0 if first == 0 else sentences[first].start
            stop = end if last == len(sentences) else sentences[last].start
            if stop - start <= longest or len(cuts) + 1 >= _MAX_CHAPTERS:
                continue
            inside = [c for c in depths if first < c < last and fits(c)]
            if inside:
                cuts.append(_balanced_cut(sentences, depths, inside, start, stop))
                added = True
        if not added:
            return


def _blocks(sentences: Sequence[Sentence]) -> list[Span]:
    """Runs of about `_BLOCK_SECONDS`, also broken at every long pause (so that a pause is a candidate)."""
    blocks: list[Span] = []
    first = 0
    for index in range(1, len(sentences)):
        pause = sentences[index].start - sentences[index - 1].end
        if sentences[index].start - sentences[first].start >= _BLOCK_SECONDS or pause >= _LONG_PAUSE_SECONDS:
            blocks.append(Span(first, index))
            first = index
    blocks.append(Span(first, len(sentences)))
    return blocks


def _boundary_depths(sentences: Sequence[Sentence], blocks: Sequence[Span]) -> dict[int, float]:
    """For each block boundary (as the sentence it starts at), how deep a dip in similarity it sits in.

    TextTiling: the similarity of the windows either side of each boundary, and its depth below the
    nearest peaks on both sides. A long pause adds to the depth: people stop before a new subject.
    """
    counts = [Counter(w for s in sentences[b.first : b.last] for w in s.words) for b in blocks]
    similarities = []
    for boundary in range(1, len(blocks)):
        left = sum(counts[max(0, boundary - _WINDOW_BLOCKS) : boundary], Counter[str]())
        right = sum(counts[boundary : boundary + _WINDOW_BLOCKS], Counter[str]())
        similarities.append(_cosine(left, right))
    depths: dict[int, float] = {}
    for position, similarity in enumerate(similarities):
        left_peak = _peak(similarities, position, -1)
        right_peak = _peak(similarities, position, 1)
        cut = blocks[position + 1].first
        pause = sentences[cut].start - sentences[cut - 1].end
        bonus = 1.0 if pause >= _LONG_PAUSE_SECONDS else 0.0
        depths[cut] = (left_peak - similarity) + (right_peak - similarity) + bonus
    return depths


def _peak(values: Sequence[float], position: int, step: int) -> float:
    peak = values[position]
    index = position + step
    while 0 <= index < len(values) and values[index] >= peak:
        peak = values[index]
        index += step
    return peak


def _cosine(one: Counter[str], other: Counter[str]) -> float:
    if not one or not other:
        return 0.0
    dot = sum(count * other[word] for word, count in one.items() if word in other)
    norm = math.sqrt(sum(c * c for c in one.values())) * math.sqrt(sum(c * c for c in other.values()))
    return dot / norm


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _deviation(values: Sequence[float]) -> float:
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def chapters_of(
    sentences: Sequence[Sentence], spans: Sequence[Span], *, end: float, english: bool, decided: set[int]
) -> list[Chapter]:
    # In how many chapters each keyword occurs: a word every chapter uses describes none of them.
    chapters_with: Counter[str] = Counter()
    for span in spans:
        chapters_with.update({key for s in sentences[span.first : span.last] for key in _title_keys(s)})
    return [
        _chapter(sentences, spans, position, end=end, english=english, decided=decided, spread=chapters_with)
        for position in range(len(spans))
    ]


def _chapter(
    sentences: Sequence[Sentence],
    spans: Sequence[Span],
    position: int,
    *,
    end: float,
    english: bool,
    decided: set[int],
    spread: Counter[str],
) -> Chapter:
    span = spans[position]
    start = 0.0 if position == 0 else sentences[span.first].start
    stop = end if position == len(spans) - 1 else sentences[spans[position + 1].first].start
    members = sentences[span.first : span.last]
    scores = sentence_scores(
        members, favoured={i - span.first for i in decided if span.first <= i < span.last}
    )
    best = max(range(len(members)), key=lambda i: scores[i])
    summary = tidy(members[best].text, english)
    title = _chapter_title(members, scores, spread, len(spans)) or " ".join(summary.split()[:6])
    return Chapter(title=title, start=start, end=stop, summary=ended(summary))


def _chapter_title(
    here: Sequence[Sentence], scores: Sequence[float], spread: Counter[str], chapter_count: int
) -> str:
    """The chapter's three most distinctive words or word pairs, frequent here and rare in other chapters.

    Ties (a short chapter where every word is said once) go to the words of its best sentences.
    """
    counts = Counter(key for sentence in here for key in _title_keys(sentence))
    best_score: dict[str, float] = {}
    for sentence, score in zip(here, scores, strict=True):
        for key in _title_keys(sentence):
            best_score[key] = max(best_score.get(key, 0.0), score)

    def weight(key: str) -> float:
        rarity = 1 + math.log(chapter_count / max(spread[key], 1))
        return counts[key] * rarity * (1.5 if " " in key else 1.0)

    # A pair said once is a coincidence of adjacency, not a phrase.
    eligible = (key for key in counts if " " not in key or counts[key] >= 2)
    # The word itself breaks the last ties: the same transcript gets the same title in every process.
    ranked = sorted(eligible, key=lambda k: (-weight(k), -best_score[k], k))
    chosen: list[str] = []
    covered: set[str] = set()
    for key in ranked:
        parts = set(key.split())
        if covered & parts:
            continue
        chosen.append(key)
        covered |= parts
        if len(chosen) == 3:
            break
    surfaces = _surfaces(here, {part for key in chosen for part in key.split()})
    phrases = [" ".join(surfaces.get(part, part) for part in key.split()) for key in chosen]
    return capitalised(", ".join(phrases))


def _title_keys(sentence: Sentence) -> set[str]:
    """A sentence's words and adjacent word pairs ("login rework"), each once."""
    return set(sentence.words) | {f"{a} {b}" for a, b in sentence.pairs}


def _surfaces(sentences: Sequence[Sentence], keys: set[str]) -> dict[str, str]:
    """How each key is written most: lower case, unless it never is ("API", "Postgres")."""
    seen: dict[str, Counter[str]] = {key: Counter() for key in keys}
    for sentence in sentences:
        if keys.isdisjoint(sentence.words):
            continue
        for word in word_re().findall(sentence.text):
            lower = word.lower()
            for key in {lower, fold(lower)} & keys:
                seen[key][word] += 1
    surfaces = {}
    for key, forms in seen.items():
        if forms:
            form = forms.most_common(1)[0][0]
            surfaces[key] = form if all(f != f.lower() for f in forms) else form.lower()
    return surfaces
