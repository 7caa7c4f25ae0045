"""Evidence for summary items: made from the transcript, checked against it, never invented."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from shared.adapters.local_summarizer import LocalSummarizer
from shared.notes.evidence import Locator, cite, counts, occurs, recheck
from shared.summaries import (
    ActionItem,
    Decision,
    Evidence,
    ItemSource,
    KeyPoint,
    Notes,
    Sources,
    Summary,
    SummaryContent,
    to_markdown,
)
from shared.transcripts import Segment, Speaker, Transcript
from tests.meeting_transcripts import meeting
from tests.unit.test_local_summarizer import PLANNING

TRANSCRIPT = Transcript(
    recording_id="r-1",
    language="en",
    duration_seconds=90.0,
    speakers=[Speaker(id="spk_A", display_name="Ana"), Speaker(id="spk_B")],
    segments=[
        Segment(start=1.0, end=5.0, speaker="spk_A", text="Welcome, everyone. Let's talk about the launch."),
        Segment(start=6.0, end=12.0, speaker="spk_B", text="We decided to move the launch to April!"),
        Segment(start=13.0, end=20.0, speaker="spk_B", text="I'll send the release notes by Friday."),
        Segment(start=75.0, end=80.0, speaker="spk_A", text="Who owns the rollback plan?"),
    ],
)


def content(**changes: object) -> SummaryContent:
    base = SummaryContent(
        overview="Launch planning.",
        key_points=["The launch moves to April."],
        decisions=[Decision(text="Move the launch to April.")],
        action_items=[ActionItem(owner="spk_B", task="Send the release notes", due="Friday")],
        chapters=[],
        open_questions=["Who owns the rollback plan?"],
    )
    return base.model_copy(update=changes)


def test_quotes_match_whole_words_case_and_punctuation_aside() -> None:
    assert occurs("we DECIDED to move the launch", "We decided to move the launch to April!")
    assert occurs("launch to april", "We decided to move the launch to April!")
    assert not occurs("launch to apr", "We decided to move the launch to April!")
    assert not occurs("", "anything")
    assert not occurs("...", "anything")


def test_a_model_s_quote_is_checked_and_filled_in_from_the_transcript() -> None:
    sources = Sources({"decisions": [ItemSource(segments=(1,), quote="we decided to MOVE the launch")]})
    notes = cite(content(), sources, TRANSCRIPT)
    (decision,) = notes.decisions
    assert not decision.unverified
    (evidence,) = decision.evidence
    assert (evidence.start, evidence.end, evidence.segments) == (6.0, 12.0, [1])
    assert (evidence.speaker, evidence.speaker_id) == ("spk_B", "spk_B")
    assert evidence.quote == "We decided to move the launch"  # as the transcript writes it


def test_an_invented_quote_is_kept_but_the_item_is_unverified() -> None:
    sources = Sources(
        {
            "decisions": [ItemSource(segments=(1,), quote="we agreed to triple the budget")],
            "key_points": [ItemSource(segments=(99,), quote="launch")],  # no such segment
        }
    )
    notes = cite(content(), sources, TRANSCRIPT)
    assert notes.decisions[0].unverified
    assert notes.decisions[0].evidence[0].quote == "we agreed to triple the budget"
    assert notes.key_points[0].unverified
    assert notes.key_points[0].evidence == []
    # Items without sources are kept, unverified; none is dropped.
    assert notes.action_items[0].unverified
    assert len(notes.action_items) == 1
    assert counts(notes).items == 4
    assert counts(notes).unverified == 4


def test_a_quote_in_another_segment_than_cited_does_not_check_out() -> None:
    sources = Sources({"decisions": [ItemSource(segments=(0,), quote="move the launch to April")]})
    assert cite(content(), sources, TRANSCRIPT).decisions[0].unverified


def test_without_a_quote_the_server_quotes_the_best_sentence_of_the_segments() -> None:
    sources = Sources({"key_points": [ItemSource(segments=(0, 1))]})
    (point,) = cite(content(), sources, TRANSCRIPT).key_points
    assert not point.unverified
    assert point.evidence[0].quote == "We decided to move the launch to April!"
    assert point.evidence[0].segments == [0, 1]


def test_the_locator_finds_extracted_items_and_not_unrelated_text() -> None:
    locator = Locator(TRANSCRIPT)
    found = locator.locate("Send the release notes")
    assert found is not None
    assert found.segments == (2,)
    assert locator.locate("Quarterly revenue forecast") is None
    # Within a chapter's time only.
    assert locator.locate("Who owns the rollback plan?", start=0, end=30) is None


def test_every_item_of_the_offline_summarizer_checks_out() -> None:
    transcript = meeting(PLANNING)
    made = asyncio.run(LocalSummarizer().summarize(transcript, title=None))
    notes = cite(made.content, made.sources, transcript)
    checked = counts(notes)
    assert checked.items >= 8
    assert checked.unverified == 0, [i for i in notes.cited() if i.unverified]


def test_edits_keep_evidence_that_still_checks_out_and_flag_the_rest() -> None:
    good = Evidence(segments=[2], quote="send the release notes")
    bad = Evidence(segments=[2], quote="send the invoice")
    notes = Notes(
        overview="",
        key_points=[KeyPoint(text="Edited point", evidence=[good]), KeyPoint(text="Other", evidence=[bad])],
        decisions=[],
        action_items=[],
        chapters=[],
        open_questions=[],
    )
    checked = recheck(notes, TRANSCRIPT)
    assert not checked.key_points[0].unverified
    assert checked.key_points[0].evidence[0].start == 13.0  # filled in from the transcript
    assert checked.key_points[1].unverified
    assert checked.key_points[1].evidence[0].quote == "send the invoice"


def test_markdown_shows_when_each_item_was_said() -> None:
    sources = Sources({"decisions": [ItemSource(segments=(1,))], "key_points": [ItemSource((1,), "nope")]})
    notes = cite(content(), sources, TRANSCRIPT)
    summary = Summary(**dict(notes), model="test", generated_at=datetime(2030, 1, 1, tzinfo=UTC))
    text = to_markdown(summary)
    assert "- [0:06] Move the launch to April." in text
    assert "- [0:06?] The launch moves to April." in text  # unverified: marked


def test_summaries_stored_before_evidence_still_read() -> None:
    old = (
        '{"overview": "o", "keyPoints": ["a point"], "decisions": [{"text": "d"}], "actionItems": [], '
        '"chapters": [], "openQuestions": ["why?"], "model": "m", "generatedAt": "2030-01-01T00:00:00Z"}'
    )
    summary = Summary.model_validate_json(old)
    assert summary.key_points[0].text == "a point"
    assert summary.key_points[0].unverified
    assert summary.open_questions[0].text == "why?"
