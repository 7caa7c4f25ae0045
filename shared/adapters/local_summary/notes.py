"""The notes of one meeting: every field of `SummaryContent`, each from the module of its concern."""

from __future__ import annotations

from shared.adapters.local_summary.action_items import action_items_in
from shared.adapters.local_summary.chapters import chapter_spans, chapters_of
from shared.adapters.local_summary.decisions import decisions_in
from shared.adapters.local_summary.open_questions import open_questions_in
from shared.adapters.local_summary.people import People
from shared.adapters.local_summary.scoring import (
    key_points,
    overview_size,
    overview_text,
    pick,
    sentence_scores,
)
from shared.adapters.local_summary.sentences import sentences_of, tidy
from shared.adapters.local_summary.words import title_words
from shared.summaries import Decision, SummaryContent
from shared.transcripts import Transcript


def summarize_transcript(transcript: Transcript, title: str | None = None) -> SummaryContent:
    """The notes of one meeting, computed in the calling thread."""
    english = _is_english(transcript.language)
    end = _effective_end(transcript)
    sentences = sentences_of(transcript, end, english)
    if not sentences:
        return SummaryContent(
            overview="", key_points=[], decisions=[], action_items=[], chapters=[], open_questions=[]
        )
    people = People(transcript)

    decisions: list[tuple[int, str]] = decisions_in(sentences) if english else []
    actions, sources, request_ids = action_items_in(sentences, people) if english else ([], set(), set())
    decided = {index for index, _ in decisions}
    scores = sentence_scores(sentences, favoured=decided, title_words=title_words(title, english))

    spans = chapter_spans(sentences, end)
    chapters = chapters_of(sentences, spans, end=end, english=english, decided=decided)

    overview_ids = pick(range(len(sentences)), sentences, scores, overview_size(len(sentences)), set())
    key_point_ids = key_points(sentences, scores, spans, overview_ids, set(overview_ids) | decided | sources)
    return SummaryContent(
        overview=overview_text(transcript, sentences, overview_ids, english),
        key_points=[tidy(sentences[index].text, english) for index in key_point_ids],
        decisions=[Decision(text=text) for _, text in decisions],
        action_items=actions,
        chapters=chapters,
        open_questions=open_questions_in(sentences, english, request_ids),
    )


def _is_english(language: str) -> bool:
    # Unknown languages get the English cues: a transcriber that did not say is most often English here.
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary in {"en", "", "und", "unknown"}


def _effective_end(transcript: Transcript) -> float:
    # A transcript built without a duration still needs chapters that end where the speech does.
    if transcript.duration_seconds > 0:
        return transcript.duration_seconds
    return max((segment.end for segment in transcript.segments), default=0.0)
