"""Search text, pure: the words of a query, the passages a recording is searched by, and snippets.

A query is plain words, never an index's query syntax (FTS5's `NEAR`, `col:`, quotes; Azure AI Search's
`+ - | * ( )`): each backend gets the same words and matches documents holding all of them, so what a user
types cannot change what a query may match, and both backends agree.

Snippets come back from a backend with its highlighted words between two private-use characters (no text
of ours holds them: they are removed before indexing) and leave here as plain text plus the offsets of
the highlighted words, so that no client ever turns markup from a transcript into HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from shared.ports import SearchDocument
from shared.summaries import Summary
from shared.transcripts import Transcript

MARK_START = "\ue000"
MARK_END = "\ue001"
MAX_TERMS = 16
SNIPPET_CHARS = 240  # a snippet made here (no highlight from the backend) is cut to this

_WORD = re.compile(r"\w+")
_MARKS = str.maketrans("", "", MARK_START + MARK_END)


def search_terms(query: str) -> list[str]:
    """The query's words, lower case, each once, in order (letters and digits of any script)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        seen.setdefault(word, None)
    return list(seen)


def fold(text: str) -> str:
    """Lower case without diacritics, as the embedded index compares words (unicode61, remove_diacritics 2):
    "Café" and "cafe" are one word."""
    if text.isascii():
        return text.lower()  # the common case, ten times faster
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def title_matches(title: str, terms: Sequence[str]) -> tuple[tuple[int, int], ...] | None:
    """The [start, end) offsets (code points) of the title's words that start with one of `terms`, if every
    term starts a word of it; else None. Prefixes, unlike passages (whole words): a title is a few words a
    user remembers the start of ("budg" finds "Budget sync"), and the list of matches is short anyway."""
    folded = [term for term in dict.fromkeys(fold(t) for t in terms) if term]
    whole = fold(title)
    # Folding is character by character, so a term that starts a word is in the folded title: most titles
    # are refused here, without looking at their words (a search reads up to 2,000 of them).
    if not folded or not all(term in whole for term in folded):
        return None
    ranges: list[tuple[int, int]] = []
    found: set[str] = set()
    for word in _WORD.finditer(title):
        text = fold(word.group())
        starts = [term for term in folded if text.startswith(term)]
        if starts:
            ranges.append(word.span())
            found.update(starts)
    return tuple(ranges) if len(found) == len(folded) else None


def clean(text: str) -> str:
    """Text as indexed: without the highlight marks."""
    return text.translate(_MARKS)


def unmark(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A marked snippet as its plain text and the [start, end) offsets (code points) of the marked words."""
    plain: list[str] = []
    ranges: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in marked:
        if char == MARK_START:
            start = length
        elif char == MARK_END:
            if start is not None and length > start:
                ranges.append((start, length))
            start = None
        else:
            plain.append(char)
            length += 1
    return "".join(plain), tuple(ranges)


def window(
    text: str, ranges: tuple[tuple[int, int], ...], max_chars: int = SNIPPET_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """At most about `max_chars` of `text` around its first highlighted words, cut between words, with `…`
    where text was left out, and the highlights within it. A backend's fragments can be a whole passage."""
    if len(text) <= max_chars or not ranges:
        return (plain_snippet(text), ()) if not ranges else (text, ranges)
    first = ranges[0][0]
    start = max(0, first - max_chars // 3)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + max_chars)
    if end < len(text):
        space = text.rfind(" ", ranges[0][1], end)
        end = space if space != -1 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    kept = tuple((a + shift, b + shift) for a, b in ranges if a >= start and b <= end)
    return prefix + text[start:end] + suffix, kept


def plain_snippet(text: str) -> str:
    text = text.strip()
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > SNIPPET_CHARS // 2 else SNIPPET_CHARS].rstrip() + "…"


def utf16_offsets(text: str, ranges: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Code point offsets as UTF-16 code unit offsets: what a JavaScript string's `slice` takes."""
    if text.isascii():
        return list(ranges)

    def units(index: int) -> int:
        return len(text[:index].encode("utf-16-le")) // 2

    return [(units(start), units(end)) for start, end in ranges]


def documents(
    meeting_id: str, recording_id: str, transcript: Transcript | None, summary: Summary | None
) -> list[SearchDocument]:
    """The passages a recording is searched by: each transcript segment (with its speaker's name), then
    each summary item (the overview, key points, decisions, action items, chapters, open questions), an
    item with evidence at the time and speaker of its first span."""
    found: list[SearchDocument] = []

    def add(kind: str, text: str, start: float | None, end: float | None, speaker: str | None) -> None:
        text = clean(text).strip()
        if text:
            found.append(
                SearchDocument(
                    meeting_id=meeting_id,
                    recording_id=recording_id,
                    kind="transcript" if kind == "transcript" else "summary",
                    position=len(found),
                    start=start,
                    end=end,
                    speaker=speaker,
                    text=text,
                )
            )

    if transcript is not None:
        for segment in transcript.segments:
            add(
                "transcript",
                segment.text,
                segment.start,
                segment.end,
                transcript.speaker_name(segment.speaker),
            )
    if summary is not None:
        for text, start, end, speaker in _summary_items(summary):
            add("summary", text, start, end, speaker)
    return found


def _summary_items(summary: Summary) -> Iterator[tuple[str, float | None, float | None, str | None]]:
    yield summary.overview, None, None, None
    cited = [
        *((k.text, k) for k in summary.key_points),
        *((d.text, d) for d in summary.decisions),
        *((f"{a.owner}: {a.task}" if a.owner else a.task, a) for a in summary.action_items),
        *((q.text, q) for q in summary.open_questions),
    ]
    for text, item in cited:
        first = item.evidence[0] if item.evidence else None
        if first is None:
            yield text, None, None, None
        else:
            yield text, first.start, first.end, first.speaker
    for chapter in summary.chapters:
        yield f"{chapter.title}: {chapter.summary}", chapter.start, chapter.end, None
