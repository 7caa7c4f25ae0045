"""Decisions: sentences with a decision cue ("we decided to", "let's go with", "the decision is", "agreed"
after a proposal...), rephrased minimally ("We decided to split X" -> "Split X.").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from shared.adapters.local_summary.cues import (
    bare_agreement_re,
    decision_re,
    decision_subject_re,
    explicitly_open_re,
    filler_lead_re,
    hedge_re,
    proposal_re,
)
from shared.adapters.local_summary.sentences import Sentence, capitalised, ended
from shared.adapters.local_summary.words import similar, word_keys

# What a decision cue is made of: a "decision" of these words alone says nothing about what was decided.
_CUE_WORDS: Final = frozenset({"", "approved", "decided", "agreed", "settled", "final", "decision", "plan"})
_PROPOSAL_LOOKBACK: Final = 4  # in sentences, so that the work stays linear


def decisions_in(sentences: Sequence[Sentence]) -> list[tuple[int, str]]:
    """(sentence index, decision) for each decision stated, or agreed to after a proposal."""
    found: list[tuple[int, str]] = []
    for index in range(len(sentences)):
        text = _decision_text(sentences, index)
        if text and not any(similar(text, earlier) for _, earlier in found):
            found.append((index, text))
    return found


def _decision_text(sentences: Sequence[Sentence], index: int) -> str | None:
    sentence = sentences[index]
    if sentence.is_question or explicitly_open_re().search(sentence.text):
        return None
    if bare_agreement_re().match(sentence.text):
        following = sentences[index + 1] if index + 1 < len(sentences) else None
        if following is not None and following.turn == sentence.turn and decision_re().search(following.text):
            return None  # "Agreed. Let's go with X": the next sentence says what
        return _agreed_proposal(sentences, index)
    cue = decision_re().search(sentence.text)
    if cue is None or hedge_re().search(sentence.text[: cue.start()]):
        return None
    text = filler_lead_re().sub("", sentence.text).strip()
    for _ in range(2):  # "We agreed that we'll ship X" sheds both subjects
        text = decision_subject_re().sub("", text, count=1)
    if not set(word_keys(text, english=True)) - _CUE_WORDS:
        return _agreed_proposal(sentences, index)  # "Let's do it", "It's approved": what was proposed
    return ended(capitalised(text.strip()))


def _agreed_proposal(sentences: Sequence[Sentence], index: int) -> str | None:
    """The proposal just before an agreement, made by someone else: "I would put X behind a flag." """
    speaker = sentences[index].speaker
    for earlier in range(index - 1, max(-1, index - 1 - _PROPOSAL_LOOKBACK), -1):
        candidate = sentences[earlier]
        if speaker is not None and candidate.speaker == speaker:
            continue
        proposal = proposal_re().match(filler_lead_re().sub("", candidate.text))
        if proposal:
            rest = filler_lead_re().sub("", candidate.text)[proposal.end() :].rstrip("?.! ")
            return ended(capitalised(rest)) if any(word_keys(rest, english=True)) else None
    return None
