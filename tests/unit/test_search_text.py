"""Search text: query words, snippets as plain text with offsets (code points, then UTF-16), passages."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.notes.search_text import (
    MARK_END,
    MARK_START,
    documents,
    search_terms,
    unmark,
    utf16_offsets,
    window,
)
from shared.summaries import Summary
from shared.transcripts import Segment, Speaker, Transcript

S, E = MARK_START, MARK_END


def test_query_words_are_plain_lower_case_and_unique() -> None:
    assert search_terms('"Budget" OR budget* -review (NEAR) text:Zürich') == [
        "budget",
        "or",
        "review",
        "near",
        "text",
        "zürich",
    ]
    assert search_terms("?! * ()") == []
    assert search_terms("東京 会議") == ["東京", "会議"]


def test_marked_snippets_become_text_and_ranges() -> None:
    assert unmark(f"the {S}budget{E} and the {S}Budget{E}!") == (
        "the budget and the Budget!",
        ((4, 10), (19, 25)),
    )
    # Unbalanced or empty marks never produce a range outside the text.
    assert unmark(f"{E}a{S}{E}b{S}c") == ("abc", ())


def test_offsets_count_utf16_units_as_javascript_does() -> None:
    text = "🎉 budget 🎉 budget"
    ranges = ((2, 8), (11, 17))
    assert [text[a:b] for a, b in ranges] == ["budget", "budget"]
    # Each emoji is two UTF-16 code units: what `String.prototype.slice` counts.
    assert utf16_offsets(text, ranges) == [(3, 9), (13, 19)]
    assert utf16_offsets("plain budget", ((6, 12),)) == [(6, 12)]


def test_a_long_fragment_is_cut_around_its_first_highlight() -> None:
    text = " ".join(["filler"] * 100 + ["needle"] + ["filler"] * 100)
    start = text.index("needle")
    snippet, ranges = window(text, ((start, start + 6),), max_chars=80)
    assert len(snippet) <= 82
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert [snippet[a:b] for a, b in ranges] == ["needle"]
    assert window("short text", ((0, 5),)) == ("short text", ((0, 5),))


def test_a_recording_is_searched_by_its_segments_and_summary_items() -> None:
    transcript = Transcript(
        recording_id="r-1",
        language="en",
        duration_seconds=20,
        speakers=[Speaker(id="spk_A", display_name="Ada")],
        segments=[
            Segment(start=0, end=4, speaker="spk_A", text=f"We {S}approve{E} the budget."),
            Segment(start=4, end=8, speaker=None, text="   "),
            Segment(start=8, end=12, speaker=None, text="Anything else?"),
        ],
    )
    summary = Summary.model_validate(
        {
            "overview": "Budget approved.",
            "keyPoints": [
                {
                    "text": "The budget",
                    "evidence": [
                        {
                            "segments": [0],
                            "quote": "approve the budget",
                            "start": 0,
                            "end": 4,
                            "speaker": "Ada",
                        }
                    ],
                }
            ],
            "decisions": [{"text": "Approve it"}],
            "actionItems": [{"owner": "Ada", "task": "Send the invoice", "due": None}],
            "chapters": [{"title": "Money", "start": 0, "end": 12, "summary": "The budget"}],
            "openQuestions": [{"text": "When?"}],
            "model": "test",
            "generatedAt": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        }
    )
    found = documents("m-1", "r-1", transcript, summary)
    assert [(d.kind, d.position, d.text) for d in found] == [
        ("transcript", 0, "We approve the budget."),  # highlight marks never reach the index
        ("transcript", 1, "Anything else?"),  # blank segments are not passages
        ("summary", 2, "Budget approved."),
        ("summary", 3, "The budget"),
        ("summary", 4, "Approve it"),
        ("summary", 5, "Ada: Send the invoice"),
        ("summary", 6, "When?"),
        ("summary", 7, "Money: The budget"),
    ]
    assert (found[0].start, found[0].end, found[0].speaker) == (0, 4, "Ada")
    assert (found[3].start, found[3].end, found[3].speaker) == (0, 4, "Ada")  # its evidence
    assert (found[2].start, found[4].start) == (None, None)
    assert (found[7].start, found[7].end) == (0, 12)
    assert documents("m-1", "r-1", None, None) == []
