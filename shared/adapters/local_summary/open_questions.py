"""Open questions: "?" questions nobody else replies to in the next turns, or replies to with a shrug ("no
idea", "I'll check"), plus statements that something is still open ("still open", "we don't know yet",
"to be decided"). Questions that run the meeting ("can you hear me?", "any questions?") and requests
("Raj, can you...?") are not open questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from shared.adapters.local_summary.cues import explicitly_open_re, procedural_question_re, shrug_re
from shared.adapters.local_summary.sentences import Sentence, tidy

# Look-aheads, in sentences and seconds, so that the work stays linear.
_REPLY_SENTENCES: Final = 8
_REPLY_SECONDS: Final = 90.0

_MAX_OPEN_QUESTIONS: Final = 10


def open_questions_in(sentences: Sequence[Sentence], english: bool, requests: set[int]) -> list[str]:
    found: list[int] = []
    for index, sentence in enumerate(sentences):
        if english and explicitly_open_re().search(sentence.text):
            found.append(_what_is_open(sentences, index))
        elif (
            sentence.is_question
            and index not in requests
            and sentence.words
            and not (english and procedural_question_re().search(sentence.text))
            and not _answered(sentences, index, english)
        ):
            found.append(index)
    unique = list(dict.fromkeys(found))[:_MAX_OPEN_QUESTIONS]
    return [tidy(sentences[index].text, english) for index in unique]


def _what_is_open(sentences: Sequence[Sentence], index: int) -> int:
    """The sentence to quote for "that's still open": itself if it says what, else the question before."""
    if len(sentences[index].words) > 2:
        return index
    for earlier in range(index - 1, max(-1, index - 1 - _REPLY_SENTENCES), -1):
        if sentences[earlier].is_question:
            return earlier
    return index


def _answered(sentences: Sequence[Sentence], index: int, english: bool) -> bool:
    """Whether someone else replied to the question with a statement that is not a shrug.

    Any statement counts: an answer need not share a word with its question ("Which region?" "West
    Europe."), and a meeting moving on to something else without a word is rarer than one answering.
    """
    question = sentences[index]
    for later in sentences[index + 1 : index + 1 + _REPLY_SENTENCES]:
        if later.start - question.end > _REPLY_SECONDS:
            return False
        if question.speaker is not None and later.speaker == question.speaker:
            continue  # the asker going on is not an answer
        if later.is_question:
            continue  # a question back, not an answer yet
        return not (english and (shrug_re().search(later.text) or explicitly_open_re().search(later.text)))
    return False
