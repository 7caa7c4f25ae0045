"""Claims: the commitments ("I'll X") and requests ("Raj, can you X?") in a sentence, each with its owner,
task and due; only work counts ("I'll be honest" is no task).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Final

from shared.adapters.local_summary.cues import (
    NAMED_MODALS,
    ask_anyone_re,
    ask_named_bare_re,
    ask_named_re,
    ask_re,
    clause_end_re,
    named_re,
    not_a_task_re,
    noted_owner_re,
    noted_re,
    self_re,
    task_lead_re,
    task_tail_re,
    trailing_vocative_re,
    vague_re,
)
from shared.adapters.local_summary.dues import take_due
from shared.adapters.local_summary.people import People
from shared.adapters.local_summary.sentences import capitalised

# Verbs of work: a commitment without a due phrase is an action item only when its verb is one of these.
_WORK_VERBS: Final = frozenset(
    """
    add address align analyse analyze announce approve arrange ask assign audit automate benchmark book
    bring build buy call cancel chase change check circle circulate clean close collect compile configure
    confirm contact coordinate copy cover create debug decide define delete deliver demo deploy design dig
    document
    double-check download draft drive email escalate estimate evaluate file fill find finalize finalise
    finish fix follow forward get grab handle help hire implement improve include install interview
    investigate invite label launch lead look loop mail make measure merge migrate mock monitor move notify
    open order organise organize own patch pay ping plan post prepare present prioritise prioritize
    probe profile prototype provide publish pull push put raise reach record refactor release remind
    remove rename renew reply report request research reschedule resolve respond restart review revise
    rewrite roll run schedule send set settle share ship sign sketch sort spec split start submit summarise
    summarize sync take talk test tidy track train transcribe triage try turn update upgrade upload
    validate verify write
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


class Claimant(Enum):
    SELF = "self"  # "I'll X": the speaker
    NAMED = "named"  # "Tom will X", "Raj, can you X", "action item for Carol: X"
    ADDRESSEE = "addressee"  # "can you X?": whoever accepts it
    ANYONE = "anyone"  # "can someone X?": whoever takes it, else nobody in particular


@dataclass(frozen=True, slots=True)
class _ClaimStart:
    """Where a commitment or request begins in a sentence; its task runs to the next one or the end."""

    start: int
    end: int
    claimant: Claimant
    owner: str | None  # the owner as resolved (a speaker's name) or said; None for SELF and ADDRESSEE
    explicit: bool  # "action item: X": counts without a due phrase or a work verb
    weak: bool  # "I need to X": a commitment only with a due phrase


@dataclass(frozen=True, slots=True)
class Claim:
    claimant: Claimant
    owner: str | None
    task: str
    due: str | None
    vague: bool  # "I'll have it", "Tom will do that": only meaningful as an answer to a request


def claims_in(text: str, people: People, speaker: str | None) -> list[Claim]:
    """The commitments and requests in one sentence; several when it hands out several tasks."""
    starts: list[_ClaimStart] = []
    for found in sorted(_claim_starts(text, people, speaker), key=lambda s: (s.start, -(s.end - s.start))):
        if not starts or found.start >= starts[-1].end:
            starts.append(found)
    claims = []
    for position, found in enumerate(starts):
        stop = starts[position + 1].start if position + 1 < len(starts) else len(text)
        before = text[starts[position - 1].end if position else 0 : found.start]
        if re.search(r"\bif\b", before, re.IGNORECASE):
            continue  # "if it breaks, I'll roll it back": a contingency, not a task
        claim = _shaped(found, text[found.end : stop], people)
        if claim is not None:
            claims.append(claim)
    return claims


def _claim_starts(text: str, people: People, speaker: str | None) -> Iterator[_ClaimStart]:
    # The name patterns try every word as a name: a plain substring test first skips most sentences.
    lower = f" {text.lower()} "
    for match in self_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), Claimant.SELF, None, False, bool(match["weak"]))
    if any(modal in lower for modal in NAMED_MODALS):
        for match in named_re().finditer(text):
            owner = people.owner(match["name"])
            if owner is not None:
                yield _ClaimStart(match.start(), match.end(), Claimant.NAMED, owner, False, False)
    if " you " in lower or "please" in lower:
        yield from _named_requests(text, people, punctuated="," in lower)
    for match in ask_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), Claimant.ADDRESSEE, None, False, False)
    for match in ask_anyone_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), Claimant.ANYONE, None, False, False)
    for match in noted_re().finditer(text) if "action item" in lower else ():
        said = match["name"]
        owner = speaker if said and said.casefold() == "me" else (people.owner(said) if said else None)
        end = match.end()
        named = noted_owner_re().match(text[end:])
        if (
            owner is None
            and named
            and (people.resolve(named["name"]) or named["name"].casefold() not in _WORK_VERBS)
        ):
            owner, end = people.owner(named["name"]), end + named.end()
        yield _ClaimStart(
            match.start(), end, Claimant.NAMED if owner else Claimant.ANYONE, owner, True, False
        )


def _named_requests(text: str, people: People, *, punctuated: bool) -> Iterator[_ClaimStart]:
    """ "Raj, can you X", or from a recogniser with no commas "raj can you X", where raj must be a speaker."""
    if punctuated:
        for match in ask_named_re().finditer(text):
            owner = people.owner(match["name"])
            if owner is not None:
                yield _ClaimStart(match.start(), match.end(), Claimant.NAMED, owner, False, False)
        return
    for match in ask_named_bare_re().finditer(text):
        owner = people.resolve(match["name"])
        if owner is not None:
            yield _ClaimStart(match.start(), match.end(), Claimant.NAMED, owner, False, False)


def _shaped(found: _ClaimStart, body: str, people: People) -> Claim | None:
    """The task and due of a claim from the words after it, or None when they are not work."""
    owner = found.owner
    cut = clause_end_re().search(body)
    body = body[: cut.start()] if cut else body
    if found.claimant is Claimant.ADDRESSEE:
        vocative = trailing_vocative_re().search(body)
        named = people.owner(vocative["name"]) if vocative else None
        if vocative and named:  # "can you send it, Bob?"
            owner, body = named, body[: vocative.start()]
    due, body = take_due(body)
    task = task_tail_re().sub("", task_lead_re().sub("", body.strip())).strip()
    if not task or not_a_task_re().match(task):
        return None
    vague = bool(vague_re().match(task))
    verb = task.split()[0].casefold()
    if not vague and not found.explicit and due is None and (found.weak or verb not in _WORK_VERBS):
        return None
    claimant = Claimant.NAMED if owner and found.claimant is Claimant.ADDRESSEE else found.claimant
    return Claim(claimant, owner, capitalised(task), due, vague)
