"""Action items: commitments and requests. "I'll X" / "I will X" / "I can take X" belong to the speaker;
"Raj, can you X?", "Raj will X", "action item for Raj: X" to the person named (matched against the
speakers' display names, first and last names and user ids, else the name as said); "can you X?" or
"can someone X?" to whoever accepts it in the next turns. A reply like "Yes, I'll have it by Wednesday"
settles the request instead of adding a second item; "No, I can't" withdraws it. The due phrase is kept
as said without its "by"/"on" ("Friday, March 7th", "end of day", "before the release"), or as
YYYY-MM-DD when the date has a year. A statement without a due phrase counts only if its verb is one of
work (send, fix, review...), so "I'll be honest" or "Tom will be out" are not tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from shared.adapters.local_summary.claims import Claimant, claims_in
from shared.adapters.local_summary.cues import affirmative_re, negative_re
from shared.adapters.local_summary.people import People
from shared.adapters.local_summary.sentences import Sentence
from shared.adapters.local_summary.words import similar
from shared.summaries import ActionItem

# A look-ahead in turns, so that the work stays linear.
_REPLY_TURNS: Final = 2  # a request or question is settled by the next two turns or not at all


@dataclass(slots=True)
class _Item:
    owner: str | None
    task: str
    due: str | None
    asked_by: str | None = None  # the speaker who asked, for a request a later reply may settle
    turn: int = 0
    waiting: bool = False  # a request still open to a reply
    needs_taker: bool = False  # "can you X?": dropped unless someone takes it
    withdrawn: bool = False


def action_items_in(
    sentences: Sequence[Sentence], people: People
) -> tuple[list[ActionItem], set[int], set[int]]:
    """The action items; the sentences they come from; those that asked for one (not open questions)."""
    items: list[_Item] = []
    sources: set[int] = set()
    requests: set[int] = set()
    for index, sentence in enumerate(sentences):
        speaker = people.speaker(sentence.speaker)
        for item in items:
            if item.waiting and sentence.turn - item.turn > _REPLY_TURNS:
                item.waiting = False
        replyable = [
            item
            for item in items
            if item.waiting and (sentence.speaker is None or item.asked_by != sentence.speaker)
        ]
        settled = False
        for claim in claims_in(sentence.text, people, speaker):
            owner = speaker if claim.claimant is Claimant.SELF else claim.owner
            if claim.vague:
                if _settle(replyable, owner, claim.due):
                    settled = True
                    sources.add(index)
                continue
            item = _Item(owner=owner, task=claim.task, due=claim.due)
            if claim.claimant is not Claimant.SELF:
                item.asked_by, item.turn, item.waiting = sentence.speaker, sentence.turn, True
                item.needs_taker = claim.claimant is Claimant.ADDRESSEE
                requests.add(index)
            items.append(item)
            sources.add(index)
        first_of_turn = index == 0 or sentences[index - 1].turn != sentence.turn
        if not settled and first_of_turn and replyable:
            _answer(replyable, sentence.text, speaker)
    kept = [item for item in items if not item.withdrawn and not (item.needs_taker and item.owner is None)]
    return _distinct(kept), sources, requests


def _settle(replyable: Sequence[_Item], owner: str | None, due: str | None) -> bool:
    """A vague commitment ("I'll have it by Thursday") taken as the answer to the latest open request.

    The due the owner commits to replaces the one asked for: it is the one they will keep.
    """
    for item in reversed(replyable):
        if item.owner is None or item.owner == owner:
            item.owner = owner or item.owner
            item.due = due or item.due
            item.waiting = False
            return True
    return False


def _answer(replyable: Sequence[_Item], text: str, speaker: str | None) -> None:
    # "Sure" takes an unowned request; "No, I can't" withdraws one addressed to the speaker or to anyone.
    if affirmative_re().match(text):
        for item in replyable:
            if item.owner is None or item.owner == speaker:
                item.owner = item.owner or speaker
                item.waiting = False
    elif negative_re().match(text):
        for item in replyable:
            if item.owner is None or item.owner == speaker:
                item.withdrawn = True
                item.waiting = False


def _distinct(items: Sequence[_Item]) -> list[ActionItem]:
    kept: list[_Item] = []
    for item in items:
        twin = next((k for k in kept if k.owner == item.owner and similar(k.task, item.task)), None)
        if twin is None:
            kept.append(item)
        elif twin.due is None:
            twin.due = item.due
    return [ActionItem(owner=item.owner, task=item.task, due=item.due) for item in kept]
