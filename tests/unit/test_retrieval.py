"""Passages of a meeting's recordings, their BM25 ranking, and the offline answerer quoting the best ones."""

from __future__ import annotations

from shared.adapters.local_answerer import QUOTED, LocalAnswerer
from shared.notes.evidence import cite
from shared.notes.retrieval import Bm25, Passage, passages_of, ranked, terms
from shared.summaries import Decision, ItemSource, Notes, Sources, SummaryContent
from shared.transcripts import Segment, Speaker, Transcript


def transcript() -> Transcript:
    return Transcript(
        recording_id="rec-1",
        language="en",
        duration_seconds=120.0,
        speakers=[Speaker(id="ch0", display_name="Dana Whitfield"), Speaker(id="ch1", user_id="raj")],
        segments=[
            Segment(start=1.0, end=9.0, speaker="ch0", text="Okay, let's plan the sprint. Velocity was 34."),
            Segment(start=10.0, end=16.0, speaker="ch1", text="The export feature is 13 points."),
            Segment(start=17.0, end=18.0, speaker="ch1", text="..."),
            Segment(
                start=20.0,
                end=29.0,
                speaker="ch0",
                text="We decided to split the login rework. The release slips by two days.",
            ),
            Segment(start=30.0, end=40.0, speaker=None, text="Who owns the rollback plans?"),
        ],
    )


def passage(text: str, index: int = 0) -> Passage:
    return Passage("r", "transcript", (index,), float(index), float(index) + 1, None, text)


def test_terms_drop_stop_words_and_fold_plurals() -> None:
    assert terms("Who owns the Rollback plans? The class.") == ["own", "rollback", "plan", "class"]


def test_bm25_ranks_rare_words_first_and_leaves_out_passages_sharing_nothing() -> None:
    passages = [
        passage("the budget and the plan", 0),
        passage("the plan again, the plan", 1),
        passage("the rollback", 2),
        passage("nothing relevant here", 3),
    ]
    best = Bm25(passages).top("rollback plan", 10)
    assert [r.passage.segments for r in best] == [(2,), (1,), (0,)]
    assert best[0].score > best[1].score > best[2].score > 0
    assert [r.passage.segments for r in Bm25(passages).top("rollback plan", 1)] == [(2,)]
    assert Bm25(passages).top("the and", 10) == []  # stop words only
    assert Bm25([]).top("plan", 3) == []


def test_passages_are_segments_with_words_and_note_items_whose_evidence_checks_out() -> None:
    said = transcript()
    content = SummaryContent(
        overview="",
        key_points=["Velocity was 34", "Something invented"],
        decisions=[Decision(text="Split the login rework")],
        action_items=[],
        chapters=[],
        open_questions=[],
    )
    sources = Sources(
        {
            "key_points": [ItemSource((0,), "velocity was 34"), ItemSource((1,), "words nobody said")],
            "decisions": [ItemSource((3,), "split the login rework")],
        }
    )
    notes: Notes = cite(content, sources, said)
    found = passages_of("rec-1", said, notes)
    segments = [p for p in found if p.kind == "transcript"]
    assert [p.segments for p in segments] == [(0,), (1,), (3,), (4,)]  # "..." has no words
    assert (segments[1].speaker, segments[1].start, segments[1].end) == ("raj", 10.0, 16.0)
    items = [p for p in found if p.kind == "summary"]
    assert [(p.text, p.segments, p.speaker, p.start) for p in items] == [
        ("Velocity was 34", (0,), "Dana Whitfield", 1.0),
        ("Split the login rework", (3,), "Dana Whitfield", 20.0),
    ]
    best = ranked(found, "What did we decide about the login rework?", 3)
    assert {p.passage.segments for p in best} == {(3,)}


async def test_the_offline_answer_quotes_the_best_passages_once_each() -> None:
    said = transcript()
    found = passages_of("rec-1", said)
    best = [r.passage for r in ranked(found, "When is the release? And the login rework?", 5)]
    answered = await LocalAnswerer().answer("When is the release?", [best[0], best[0], *best[1:]], title=None)
    assert answered.text is not None
    assert 'Dana Whitfield at 0:20: "The release slips by two days."' in answered.text
    assert answered.citations[0].passage == 0
    assert answered.citations[0].quote == "The release slips by two days."
    assert 1 not in [c.passage for c in answered.citations]  # the repeated span
    assert len(answered.citations) <= QUOTED
    assert answered.usage.requests == 0
    nothing = await LocalAnswerer().answer("anything", [], title=None)
    assert (nothing.text, nothing.citations) == (None, ())
