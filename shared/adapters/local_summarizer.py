"""Offline meeting notes: an extractive summarizer with no model, no network and no dependency.

`LocalSummarizer` (`local:extractive`) fills every field of `SummaryContent` from the transcript's sentences
and speakers, with heuristics a reader can check against the transcript:

- overview and key points: the sentences whose words recur most across the meeting (a sentence stating a
  decision counts more), picked so that no two say much the same, quoted in the meeting's order. The key
  points are spread over the chapters so that a long meeting's later topics are not crowded out.
- decisions: sentences with a decision cue ("we decided to", "let's go with", "the decision is", "agreed"
  after a proposal...), rephrased minimally ("We decided to split X" -> "Split X.").
- action items: commitments and requests. "I'll X" / "I will X" / "I can take X" belong to the speaker;
  "Raj, can you X?", "Raj will X", "action item for Raj: X" to the person named (matched against the
  speakers' display names, first and last names and user ids, else the name as said); "can you X?" or
  "can someone X?" to whoever accepts it in the next turns. A reply like "Yes, I'll have it by Wednesday"
  settles the request instead of adding a second item; "No, I can't" withdraws it. The due phrase is kept
  as said without its "by"/"on" ("Friday, March 7th", "end of day", "before the release"), or as
  YYYY-MM-DD when the date has a year. A statement without a due phrase counts only if its verb is one of
  work (send, fix, review...), so "I'll be honest" or "Tom will be out" are not tasks.
- open questions: "?" questions nobody else replies to in the next turns, or replies to with a shrug ("no
  idea", "I'll check"), plus statements that something is still open ("still open", "we don't know yet",
  "to be decided"). Questions that run the meeting ("can you hear me?", "any questions?") and requests
  ("Raj, can you...?") are not open questions.
- chapters: the meeting cut into ~30 s blocks, then split where the vocabulary changes most (TextTiling:
  the depth of a dip in similarity between neighbouring windows) or at a long pause, about one chapter per
  five minutes, each between a minimum and a maximum length. Titled by its most distinctive words and
  summarized by its most representative sentence. Chapters are contiguous, from 0 to the duration.

Limits, by design:
- The cue lists are English. For another language (the transcript's `language`), decisions and action
  items stay empty and open questions are only the unanswered "?" ones; the overview, key points and
  chapters are still extracted, with stop words guessed from how many sentences a word occurs in.
- Text without punctuation (some speech-to-text models) has no sentences or questions: it is cut into
  pieces of a few dozen words, so the overview and chapters work but open questions do not.
- Scripts without spaces between words (Chinese, Japanese) are split into sentences but hardly into words,
  so the scoring there is crude.
- Extractive: sentences are quoted (fillers trimmed), never rewritten; "my" in a task is its owner's.

Work is linear in the transcript's length (lookups are dicts, look-backs are bounded windows), so a
three-hour meeting takes a fraction of a second. It still runs in a worker thread so that a long
transcript does not hold up the event loop. Only the standard library is used; the regular expressions
compile lazily on first use, not at import.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Final

from shared.ports import ModelUsage, Summarization, SummarizerRejected
from shared.summaries import ActionItem, Chapter, Decision, SummaryContent
from shared.transcripts import Segment, Transcript

NAME: Final = "local:extractive"

# Sentences: a run of one speaker's speech with no terminal punctuation is joined with the next piece
# (transcribers cut segments mid-sentence) while the pause is short; unpunctuated text is cut into pieces.
_JOIN_PAUSE_SECONDS: Final = 1.5
_MAX_SENTENCE_WORDS: Final = 60
_UNPUNCTUATED_PIECE_WORDS: Final = 40

# Chapters: blocks are the candidate boundaries; a pause this long is a strong boundary by itself.
_BLOCK_SECONDS: Final = 30.0
_LONG_PAUSE_SECONDS: Final = 20.0
_SECONDS_PER_CHAPTER: Final = 300.0
_MAX_CHAPTERS: Final = 24
_MIN_CHAPTER_SECONDS: Final = 30.0
_WINDOW_BLOCKS: Final = 3
_REFINE_SENTENCES: Final = 6  # how far a boundary may move to the sentence where the subject changes

# Look-backs and look-aheads, in sentences and turns, so that the work stays linear.
_REPLY_TURNS: Final = 2  # a request or question is settled by the next two turns or not at all
_REPLY_SENTENCES: Final = 8
_REPLY_SECONDS: Final = 90.0
_PROPOSAL_LOOKBACK: Final = 4
_CANDIDATE_POOL: Final = 300  # sentences considered for the overview and key points, best first

_MAX_OPEN_QUESTIONS: Final = 10

_SPEAKERS_LABEL: Final = {
    "en": "Speakers",
    "de": "Sprecher",
    "fr": "Intervenants",
    "es": "Participantes",
    "it": "Partecipanti",
    "pt": "Participantes",
    "nl": "Sprekers",
}

# Function words, fillers, small talk, dates and numbers: never topics, never keywords. English only; for
# other languages the words in too many sentences are dropped instead (`_COMMON_WORD_SHARE`).
_STOPWORDS: Final = frozenset(
    """
    a about above after again against all almost also although always am among an and another any anybody
    anyone anything anyway anyways are aren't around as at away back be became because become been before
    being below besides between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't done down during each either else enough even ever every everybody everyone everything
    few for from further get gets getting go goes going gone gonna got gotten had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's however i
    i'd i'll i'm i've if in instead into is isn't it it'd it'll it's its itself just kind kinda least
    less let let's like likely made make makes making many may maybe me might mine more most mostly much
    must mustn't my myself need needs neither never no nobody none nor not nothing now of off often oh ok
    okay on once one ones only onto or other others otherwise our ours ourselves out over own per perhaps
    please pretty probably quite rather re really right said same say saying says see seem seems she
    she'd she'll she's should shouldn't since so some somebody someone something sometimes somewhat soon
    sort still such sure than thank thanks that that'd that'll that's the their theirs them themselves
    then there there'd there'll there's these they they'd they'll they're they've thing things think
    this those though through thus till to today together tomorrow too toward towards uh um under unless
    until up upon us very via want wanted wants was wasn't way we we'd we'll we're we've well went were
    weren't what what's whatever when when's where where's whether which while who who's whole whom
    whose why why's will with within without won't would wouldn't yeah yes yep yet you you'd you'll
    you're you've your yours yourself yourselves hi hello hey bye alright actually basically literally
    totally definitely absolutely exactly honestly great good nice cool fine awesome perfect lot lots
    bit stuff guys everybody's mean means know knew known guess suppose hmm mhm huh ah eh also just
    like look looks looking let me mr mrs ms dr etc yesterday last next first second new old another
    got gotta wanna able sounds sound agree agreed fair true false monday tuesday wednesday thursday
    friday saturday sunday january february march april june july august september october november
    december morning afternoon evening week weeks day days two three four five six seven eight nine ten
    eleven twelve fifteen twenty thirty forty fifty hundred thousand million percent half
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
# What a decision cue is made of: a "decision" of these words alone says nothing about what was decided.
_CUE_WORDS: Final = frozenset({"", "approved", "decided", "agreed", "settled", "final", "decision", "plan"})
_COMMON_WORD_SHARE: Final = 0.3  # non-English: a word in more than this share of sentences is a stop word
_COMMON_WORD_MIN_SENTENCES: Final = 20

# Words that start a sentence capitalised but are never a person: "Perfect, can you send it?"
_NOT_NAMES: Final = _STOPWORDS | frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april june july
    august september october november december team everyone everybody someone somebody anyone anybody
    nobody marketing sales support finance legal engineering design product ops management hopefully
    finally lastly again meanwhile sorry listen right wait alright great excellent anyway besides also
    next now first then so and but or well yes no oh thanks
    """.split()  # noqa: SIM905 - a word list reads better as prose
)

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


class _Claimant(Enum):
    SELF = "self"  # "I'll X": the speaker
    NAMED = "named"  # "Tom will X", "Raj, can you X", "action item for Carol: X"
    ADDRESSEE = "addressee"  # "can you X?": whoever accepts it
    ANYONE = "anyone"  # "can someone X?": whoever takes it, else nobody in particular


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # as said: whitespace normalised, apostrophes straight
    speaker: str | None
    start: float
    end: float
    turn: int  # consecutive sentences of one speaker (of one segment, if unknown) share a turn
    words: tuple[str, ...]  # content words (lower case, English plurals folded), in order
    pairs: tuple[tuple[str, str], ...]  # adjacent content words: candidate two-word chapter titles

    @property
    def is_question(self) -> bool:
        return self.text.endswith(("?", "\uff1f"))  # ASCII or full-width


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    speaker: str | None
    start: float
    end: float
    segment: int  # where it comes from: with no speaker known, a segment is the best guess at a turn


@dataclass(frozen=True, slots=True)
class _ClaimStart:
    """Where a commitment or request begins in a sentence; its task runs to the next one or the end."""

    start: int
    end: int
    claimant: _Claimant
    owner: str | None  # the owner as resolved (a speaker's name) or said; None for SELF and ADDRESSEE
    explicit: bool  # "action item: X": counts without a due phrase or a work verb
    weak: bool  # "I need to X": a commitment only with a due phrase


@dataclass(frozen=True, slots=True)
class _Claim:
    claimant: _Claimant
    owner: str | None
    task: str
    due: str | None
    vague: bool  # "I'll have it", "Tom will do that": only meaningful as an answer to a request


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


@dataclass(frozen=True, slots=True)
class _Span:
    first: int  # sentence indices, `last` exclusive
    last: int


# --- regular expressions (compiled on first use) ---------------------------------------------------------

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_DAY_NUMBER = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = (
    rf"(?:{_MONTH}\.?\s+{_DAY_NUMBER}\b(?:,?\s+\d{{4}}\b)?"
    rf"|{_DAY_NUMBER}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}}\b)?"
    r"|\d{4}-\d{2}-\d{2}\b"
    r"|the\s+\d{1,2}(?:st|nd|rd|th)\b)"
)
_DAY = (
    rf"(?:(?:this|next|coming)\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?"
    rf"(?:,?\s+{_DATE})?"
)
_RELATIVE = (
    r"(?:(?:later\s+)?today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening|night))?"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|sprint|quarter|year)"
    r"|eod|eow|cob|close\s+of\s+business|(?:this|next|the\s+next)\s+(?:week|month|sprint|quarter|year)"
    r"|noon|midday|midnight|\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)"
    r"|(?:the\s+)?next\s+(?:meeting|standup|stand-up|sync|call|review|retro))"
)
_EVENT = (
    r"(?:the|our|this|next)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:release|launch|demo|meeting|freeze|deadline|review|deploy|deployment|standup|stand-up|sync|call"
    r"|retro|retrospective|planning|offsite|holidays?|weekend|cutover|migration|rollout|kickoff|go-live)\b"
)
_DUE_PATTERN = (
    rf"\b(?:(?:by|on|due|for)\s+|(?P<keep>before|until|till|no\s+later\s+than|first\s+thing)\s+)?"
    rf"(?P<when>{_DAY}|{_DATE}|{_RELATIVE})\b"
    rf"|\b(?P<event>(?:before|by|in\s+time\s+for|ahead\s+of)\s+{_EVENT})"
    r"|\b(?P<span>(?:in|within)\s+(?:a|an|one|two|three|four|five|six|seven|\d+|a\s+couple\s+of|a\s+few)"
    r"\s+(?:days?|weeks?|hours?|months?))\b"
)

_NAME = r"(?P<name>[^\W\d_]+(?:['-][^\W\d_]+)*(?:\s+[A-Z][\w'-]*)?)"


@cache
def _re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _due_re() -> re.Pattern[str]:
    return _re(_DUE_PATTERN, re.IGNORECASE)


def _self_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:I(?:'ll|\s+will|\s+shall)|I(?:'m|\s+am)\s+(?:going\s+to|gonna)"
        r"|I\s+can\s+(?=take|own|handle|do|pick\s+up|look\s+into|follow\s+up|write|send|draft|fix|review)"
        r"|(?P<weak>I\s+(?:need|have)\s+to))\s*"
    )


_NAMED_MODALS: Final = ("'ll ", " will ", " going to ", " gonna ", " can take ", " agreed to ", " needs to ")


def _named_re() -> re.Pattern[str]:
    return _re(
        rf"{_NAME}(?i:'ll|\s+will|\s+is\s+going\s+to|'s\s+going\s+to|\s+is\s+gonna|\s+can\s+take(?=\s)"
        r"|\s+has\s+agreed\s+to|\s+agreed\s+to|\s+needs\s+to)\s+"
    )


def _ask_named_re() -> re.Pattern[str]:
    return _re(rf"{_NAME}\s*,\s*(?i:(?:can|could|would|will)\s+you|please)\s+(?i:please\s+)?")


def _ask_re() -> re.Pattern[str]:
    return _re(r"\b(?i:(?:can|could|would|will)\s+you)\s+(?i:please\s+)?")


def _ask_anyone_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:(?:can|could|would)\s+(?:someone|somebody|anyone|anybody)"
        r"|(?:someone|somebody)\s+(?:needs\s+to|should|has\s+to|must))\s+"
    )


def _noted_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:action\s+items?)\b(?:\s+(?i:for)\s+(?P<name>[^\W\d_]+(?:\s+[A-Z][\w'-]*)?))?"
        r"\s*(?i:is\s+)?[:,\-\u2013\u2014]?\s*"
    )


def _noted_owner_re() -> re.Pattern[str]:
    return _re(rf"^{_NAME}\s+(?i:to|will|should|needs\s+to|is\s+going\s+to)\s+")


def _trailing_vocative_re() -> re.Pattern[str]:
    return _re(r",\s*(?P<name>[^\W\d_]+)\s*[?.!]*\s*$")


def _clause_end_re() -> re.Pattern[str]:
    # A task ends where its clause does: another subject, a reason, a contrast, or the sentence's end.
    return _re(
        r"\s*(?:;|,?\s+(?:but|because|since|although|though|unless|so\s+that\s+(?:we|you|they)"
        r"|and\s+(?:then\s+)?(?:we|you|they|he|she|it|that|this|everyone|everybody))\b|[.!?](?:\s|$))",
        re.IGNORECASE,
    )


def _not_a_task_re() -> re.Pattern[str]:
    # Conversation, not work: "I'll be honest", "I'll go first", "can you hear me", "I'll share my screen".
    return _re(
        r"^(?:be|say|admit|guess|bet|tell\s+(?:you|me|us)|go\s+first|start(?:\s+(?:with|us|off|by|over))?$"
        r"|stop|leave|pass|hand\s+(?:it\s+)?over|keep\s+it|see|talk\s+(?:to\s+you\s+)?(?:soon|later)"
        r"|think|let\s+you|show\s+(?:you|us)|walk\s+(?:you|us)|share\s+(?:my|the|your)\s+screen"
        r"|go\s+(?:through|over|ahead)|jump|drop\s+off|hop\s+off|hang\s+up|mute|unmute|wait|come\s+back"
        r"|recap|repeat|wrap|skip|hear|speak|explain|clarify|describe|elaborate|introduce|move\s+on"
        r"|give\s+(?:you|me|us|it)\s+(?:a\s+)?(?:sec|second|minute|moment)|take\s+(?:notes?|turns?|a\s+break)"
        r"|(?:have|need)\s+to\s+(?:say|admit|go|leave|run|drop))\b",
        re.IGNORECASE,
    )


def _vague_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:have|do|take|handle|own|get|grab|cover|finish|sort|pick|send)\s+)?(?:care\s+of\s+)?"
        r"(?:it|that|this|them|those|these|one|so)(?:\s+(?:done|up|out|over|on|ready|sorted|then))?$",
        re.IGNORECASE,
    )


def _task_lead_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:also|just|then|quickly|probably|definitely|personally|still|first|actually|please|now"
        r"|all|both|go\s+ahead\s+and|try\s+to|try\s+and|be\s+able\s+to)\s+)+",
        re.IGNORECASE,
    )


def _task_tail_re() -> re.Pattern[str]:
    return _re(
        r"(?:[\s,;:.!?\-\u2013\u2014]+|\s+(?:and|or|but|then|as\s+well|too|also|please|okay|ok|right|for\s+us))+$",
        re.IGNORECASE,
    )


def _affirmative_re() -> re.Pattern[str]:
    return _re(
        r"^(?:yes|yeah|yep|yup|sure|ok|okay|will\s+do|on\s+it|can\s+do|no\s+problem|of\s+course|absolutely"
        r"|definitely|happy\s+to|sounds\s+good|got\s+it|consider\s+it\s+done|works\s+for\s+me|fine)\b",
        re.IGNORECASE,
    )


def _negative_re() -> re.Pattern[str]:
    return _re(
        r"^(?:no|nope|sorry|unfortunately|I\s+can't|I\s+cannot|I\s+won't|not\s+(?:this|by|today|me))\b",
        re.IGNORECASE,
    )


def _decision_re() -> re.Pattern[str]:
    keep = (
        r"keep(?:ing)?(?!\s+(?:you|everyone|them|it\s+(?:short|brief|quick|simple)|going|moving|in\s+touch"
        r"|in\s+mind|an\s+eye|track|trying|working|looking))"
    )
    return _re(
        r"\b(?:(?:we|i\s+think\s+we)\s+(?:have\s+|'ve\s+)?(?:decided|agreed|settled|chosen|chose|picked"
        r"|approved|committed)\b"
        r"|(?:it's|it\s+is|that's|that\s+is|it\s+was|that\s+was)\s+(?:decided|agreed|approved|settled|final)\b"
        r"|(?:the|our|final)\s+decision\s+(?:is|was)\b|decision\s*:"
        r"|(?:everyone|everybody|all\s+of\s+us)\s+agreed\b"
        r"|let's\s+(?:go\s+with|go\s+for|stick\s+with|use|ship|adopt|switch\s+to|move\s+forward\s+with"
        rf"|go\s+ahead\s+with|do\s+(?:it|that|this)\b|{keep})"
        r"|we(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to)\s+(?:go\s+with|stick\s+with|ship|use"
        rf"|adopt|switch\s+to|move\s+forward\s+with|go\s+ahead\s+with|launch|postpone|delay|drop|cancel"
        rf"|roll\s+out|{keep})"
        r"|we(?:'re|\s+are)\s+(?:going\s+with|sticking\s+with|switching\s+to|moving\s+forward\s+with"
        r"|going\s+ahead\s+with|postponing|delaying|dropping|cancell?ing|rolling\s+out)"
        r"|(?:is|are|was|were|been|got|gets)\s+approved\b|signed\s+off\s+on|green[-\s]?light"
        r"|the\s+plan\s+is\s+to|^agreed[,:]\s+\w)",
        re.IGNORECASE,
    )


def _hedge_re() -> re.Pattern[str]:
    # Before a cue, these make it a condition or a doubt: "if we go with X", "not sure we'll keep X".
    return _re(
        r"\b(?:if|whether|unless|not\s+sure|don't\s+know|no\s+idea|should\s+we|could\s+we|would\s+we)\b",
        re.IGNORECASE,
    )


def _bare_agreement_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:ok(?:ay)?|yes|yeah|right|so|then|fine|great|perfect|good)[,.!]?\s+)*"
        r"(?:agreed|approved|decided|deal|let's\s+do\s+(?:it|that)|sounds\s+good,?\s+let's\s+do\s+(?:it|that))"
        r"[.!]*$",
        re.IGNORECASE,
    )


def _proposal_re() -> re.Pattern[str]:
    return _re(
        r"^(?:I\s+would|I'd|I\s+think\s+we\s+should|we\s+should|we\s+could|let's|how\s+about(?:\s+we)?"
        r"|what\s+if\s+we|why\s+don't\s+we|I\s+(?:suggest|propose|recommend)(?:\s+(?:that\s+)?we)?"
        r"|my\s+(?:suggestion|proposal|vote)\s+is(?:\s+to)?)\s+",
        re.IGNORECASE,
    )


def _decision_subject_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:we|i\s+think\s+we|everyone|everybody)\s+(?:have\s+|'ve\s+)?(?:decided|agreed)"
        r"(?:\s+(?:to|that|on))?\s+|(?:the\s+|our\s+|final\s+)?decision\s+(?:is|was)\s*(?:to\s+|that\s+|:\s*)?"
        r"|decision\s*:\s*|let's\s+|we(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to)\s+"
        r"|the\s+plan\s+is\s+to\s+|agreed[,:]\s+)",
        re.IGNORECASE,
    )


def _filler_lead_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:so|then|ok(?:ay)?|alright|all\s+right|right|fair|fine|good|great|yes|yeah|agreed|and|but"
        r"|well|perfect|cool|nice|um+|uh+|er|hmm|anyway|in\s+that\s+case|in\s+the\s+end|finally)\b[,.!]?\s+)+",
        re.IGNORECASE,
    )


def _inner_filler_re() -> re.Pattern[str]:
    return _re(r"(?:,\s*)?\b(?:um+|uh+|erm|er|hmm+|mhm)\b,?\s*", re.IGNORECASE)


def _explicitly_open_re() -> re.Pattern[str]:
    return _re(
        r"\b(?:still\s+open|an\s+open\s+question|(?:we|i)\s+(?:still\s+)?don't\s+know\s+yet"
        r"|(?:is|are|remains?)\s+(?:still\s+)?unclear|to\s+be\s+(?:decided|determined|confirmed)|tbd|tbc"
        r"|(?:haven't|have\s+not|hasn't|has\s+not)\s+(?:yet\s+)?(?:decided|agreed|figured\s+out|settled)"
        r"|not\s+(?:yet\s+)?decided|undecided|no\s+decision\s+yet|still\s+need\s+to\s+(?:decide|figure\s+out)"
        r"|remains\s+to\s+be\s+seen|nobody\s+knows|no\s+one\s+knows)\b",
        re.IGNORECASE,
    )


def _shrug_re() -> re.Pattern[str]:
    # A reply that leaves the question open: "No idea", "Good question, I'll check".
    return _re(
        r"\b(?:(?:i|we)\s+(?:don't|do\s+not)\s+know|no\s+idea|not\s+sure|good\s+question|hard\s+to\s+say"
        r"|(?:i'll|i\s+will|let\s+me|we'll\s+have\s+to|we\s+need\s+to)\s+(?:check|find\s+out|get\s+back))\b",
        re.IGNORECASE,
    )


def _procedural_question_re() -> re.Pattern[str]:
    # Questions that run the meeting rather than ask about its subject.
    return _re(
        r"\b(?:hear\s+me|see\s+(?:my|the)\s+screen|go\s+first|how\s+about\s+you|what\s+about\s+you"
        r"|anything\s+else|any\s+(?:other\s+)?questions|any\s+blockers|any\s+updates|make\s+sense"
        r"|are\s+we\s+good|shall\s+we\s+(?:start|begin)|can\s+we\s+(?:start|begin)|who's\s+next"
        r"|who\s+wants\s+to\s+go|you\s+there|is\s+that\s+clear|all\s+good|sound\s+good|everyone\s+okay"
        r"|okay\s+with\s+everyone|good\s+with\s+everyone|ready)\b"
        r"|,\s*(?:right|okay|ok|yes|no|correct|isn't\s+it|don't\s+you\s+think|yeah)\?$",
        re.IGNORECASE,
    )


def _sentence_end_re() -> re.Pattern[str]:
    # Western marks need a space after them ("3.5" is no end); CJK full stops and marks do not.
    return _re(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*")


def _word_re() -> re.Pattern[str]:
    return _re(r"[^\W_]+(?:['-][^\W_]+)*")


def _year_date_re() -> re.Pattern[str]:
    return _re(
        rf"(?:(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})"
        rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>{_MONTH}),?\s+(?P<year2>\d{{4}})"
        r"|(?P<iso>\d{4}-\d{2}-\d{2}))",
        re.IGNORECASE,
    )


# Sentence-ending marks, Western and CJK (full stop, exclamation and question marks).
_TERMINALS: Final = (".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f")
_ABBREVIATIONS: Final = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "jr", "sr"}
)
_MONTH_NUMBERS: Final = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


# --- the adapter -----------------------------------------------------------------------------------------


class LocalSummarizer:
    """The `Summarizer` port without a model: see the module's docstring for what it finds and how."""

    @property
    def name(self) -> str:
        return NAME

    async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
        try:
            content = await asyncio.to_thread(summarize_transcript, transcript, title)
        except Exception as error:
            # Deterministic: the same transcript would fail the same way, so retrying the job cannot help.
            raise SummarizerRejected(f"the extractive summary failed: {error!r}") from error
        return Summarization(content=content, usage=ModelUsage(requests=0, input_tokens=0, output_tokens=0))

    async def aclose(self) -> None:
        return None


def summarize_transcript(transcript: Transcript, title: str | None = None) -> SummaryContent:
    """The notes of one meeting, computed in the calling thread."""
    english = _is_english(transcript.language)
    end = _effective_end(transcript)
    sentences = _sentences(transcript, end, english)
    if not sentences:
        return SummaryContent(
            overview="", key_points=[], decisions=[], action_items=[], chapters=[], open_questions=[]
        )
    people = _People(transcript)

    decisions: list[tuple[int, str]] = _decisions(sentences) if english else []
    actions, sources, request_ids = _action_items(sentences, people) if english else ([], set(), set())
    decided = {index for index, _ in decisions}
    scores = _scores(sentences, favoured=decided, title_words=_title_words(title, english))

    spans = _chapter_spans(sentences, end)
    chapters = _chapters(sentences, spans, end=end, english=english, decided=decided)

    overview_ids = _pick(range(len(sentences)), sentences, scores, _overview_size(len(sentences)), set())
    key_point_ids = _key_points(sentences, scores, spans, overview_ids, set(overview_ids) | decided | sources)
    return SummaryContent(
        overview=_overview(transcript, sentences, overview_ids, english),
        key_points=[_tidy(sentences[index].text, english) for index in key_point_ids],
        decisions=[Decision(text=text) for _, text in decisions],
        action_items=actions,
        chapters=chapters,
        open_questions=_open_questions(sentences, english, request_ids),
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


# --- sentences and words ---------------------------------------------------------------------------------


def _sentences(transcript: Transcript, end: float, english: bool) -> list[_Sentence]:
    # In time order (chapters rely on it): the segments of an unmixed recording's channels overlap, so one
    # speaker's later sentences may start after another's first. The sort is stable: a segment's own
    # sentences keep their order.
    split = [
        piece for number, segment in enumerate(transcript.segments) for piece in _split(segment, number, end)
    ]
    pieces = _join_unfinished(sorted(split, key=lambda piece: piece.start))
    tokens = [_tokens(piece.text, english) for piece in pieces]
    # People's names are who spoke, not what about: they would top every chapter's keywords.
    common = _speaker_words(transcript, english) | (set() if english else _common_words(tokens))
    sentences: list[_Sentence] = []
    turn = 0
    for index, (piece, words) in enumerate(zip(pieces, tokens, strict=True)):
        previous = pieces[index - 1] if index else piece
        if piece.speaker != previous.speaker or (piece.speaker is None and piece.segment != previous.segment):
            turn += 1
        keys = [key if key and key not in common else "" for key in words]
        sentences.append(
            _Sentence(
                text=piece.text,
                speaker=piece.speaker,
                start=piece.start,
                end=piece.end,
                turn=turn,
                words=tuple(key for key in keys if key),
                pairs=tuple((a, b) for a, b in itertools.pairwise(keys) if a and b),
            )
        )
    return sentences


def _split(segment: Segment, number: int, end: float) -> Iterator[_Piece]:
    """A segment's sentences, each with a share of the segment's time in proportion to its length."""
    text = " ".join(segment.text.replace("\u2019", "'").replace("\u2018", "'").split())
    start, stop = min(segment.start, end), min(max(segment.end, segment.start), end)
    offset = 0
    for part in _sentence_texts(text):
        position = text.find(part, offset)
        offset = position + len(part)
        share_start = position / max(len(text), 1)
        share_end = offset / max(len(text), 1)
        yield _Piece(
            text=part,
            speaker=segment.speaker,
            start=round(start + (stop - start) * share_start, 3),
            end=round(start + (stop - start) * share_end, 3),
            segment=number,
        )


def _sentence_texts(text: str) -> Iterator[str]:
    begin = 0
    for match in _sentence_end_re().finditer(text):
        before = text[begin : match.start()].rsplit(" ", 1)[-1].lower()
        if match.group().startswith(".") and before in _ABBREVIATIONS:
            continue
        yield from _short_pieces(text[begin : match.end()].strip())
        begin = match.end()
    yield from _short_pieces(text[begin:].strip())


def _short_pieces(text: str) -> Iterator[str]:
    # Unpunctuated speech would otherwise be one endless "sentence" nobody can quote.
    if not _word_re().search(text):
        return
    words = text.split()
    if len(words) <= _MAX_SENTENCE_WORDS:
        yield text
        return
    for first in range(0, len(words), _UNPUNCTUATED_PIECE_WORDS):
        yield " ".join(words[first : first + _UNPUNCTUATED_PIECE_WORDS])


def _join_unfinished(pieces: Sequence[_Piece]) -> list[_Piece]:
    """Pieces of one sentence that the transcriber cut into consecutive segments, joined again."""
    joined: list[_Piece] = []
    for piece in pieces:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.speaker == piece.speaker
            and not previous.text.endswith(_TERMINALS)
            and piece.start - previous.end <= _JOIN_PAUSE_SECONDS
            and len(previous.text.split()) + len(piece.text.split()) <= _MAX_SENTENCE_WORDS
        ):
            text = f"{previous.text} {piece.text}"
            joined[-1] = _Piece(text, piece.speaker, previous.start, piece.end, piece.segment)
        else:
            joined.append(piece)
    return joined


def _tokens(text: str, english: bool) -> list[str]:
    """Every word of the text as its content key, or "" for a stop word (kept to know what is adjacent)."""
    keys = []
    for word in _word_re().findall(text.lower()):
        if word.isdigit() or word in _STOPWORDS or len(word) < (3 if word.isascii() else 2):
            keys.append("")
        else:
            keys.append(_fold(word) if english else word)
    return keys


def _fold(word: str) -> str:
    """English plurals and 's folded, so that "tickets" and "ticket" count as one word."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _speaker_words(transcript: Transcript, english: bool) -> set[str]:
    said = " ".join(f"{s.display_name or ''} {s.user_id or ''}" for s in transcript.speakers)
    return {key for key in _tokens(said.replace("@", " "), english) if key}


def _common_words(tokens: Sequence[Sequence[str]]) -> set[str]:
    if len(tokens) < _COMMON_WORD_MIN_SENTENCES:
        return set()
    spread = Counter(key for keys in tokens for key in set(keys) if key)
    return {key for key, count in spread.items() if count > _COMMON_WORD_SHARE * len(tokens)}


def _title_words(title: str | None, english: bool) -> frozenset[str]:
    return frozenset(key for key in _tokens(title or "", english) if key)


def _tidy(text: str, english: bool) -> str:
    """A sentence as it reads in notes: fillers at the start and ums inside dropped, first letter up."""
    if english:
        text = _inner_filler_re().sub(" ", text)
        text = _filler_lead_re().sub("", text).strip() or text
    return _capitalised(" ".join(text.split()))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- scoring and picking ---------------------------------------------------------------------------------


def _scores(
    sentences: Sequence[_Sentence], *, favoured: set[int], title_words: frozenset[str] = frozenset()
) -> list[float]:
    """How representative each sentence is: the weight of its recurring words over the root of its size.

    A word's weight is the number of sentences it occurs in (once-only words weigh little), so a sentence
    about what the meeting keeps coming back to scores high, and the root keeps long ones from winning by
    size alone. Decisions count more, questions and scraps less.
    """
    spread = Counter(word for sentence in sentences for word in set(sentence.words))
    top = max(spread.values(), default=1)
    scores = []
    for index, sentence in enumerate(sentences):
        distinct = set(sentence.words)
        if not distinct:
            scores.append(0.0)
            continue
        # A word said once still says something: it keeps a short meeting's sentences from all scoring 0.
        weight = sum(spread[word] if spread[word] > 1 else 0.25 for word in distinct) / top
        weight += 0.5 * len(distinct & title_words)
        score = weight / math.sqrt(len(distinct))
        size = len(sentence.text.split())
        if size < 6:
            score *= 0.5
        elif size > 45:
            score *= 0.7
        if sentence.is_question:
            score *= 0.5
        if index in favoured:
            score *= 1.5
        scores.append(score)
    return scores


def _pick(
    candidates: Iterable[int],
    sentences: Sequence[_Sentence],
    scores: Sequence[float],
    count: int,
    taken: set[int],
) -> list[int]:
    """The best `count` sentences that repeat neither each other nor `taken`, in the meeting's order."""
    ranked = sorted((i for i in candidates if scores[i] > 0 and i not in taken), key=lambda i: -scores[i])
    chosen: list[int] = []
    for index in ranked[:_CANDIDATE_POOL]:
        if len(chosen) == count:
            break
        if not any(_repeats(sentences[index], sentences[other]) for other in (*chosen, *taken)):
            chosen.append(index)
    return sorted(chosen)


def _repeats(one: _Sentence, other: _Sentence) -> bool:
    a, b = set(one.words), set(other.words)
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.6


def _overview_size(sentence_count: int) -> int:
    if sentence_count < 8:
        return 2
    return 3 if sentence_count < 200 else 4


def _overview(
    transcript: Transcript, sentences: Sequence[_Sentence], chosen: Sequence[int], english: bool
) -> str:
    text = " ".join(_ended(_tidy(sentences[index].text, english)) for index in chosen)
    speakers = list(dict.fromkeys(s.speaker for s in sentences if s.speaker is not None))
    names = [name for name in (transcript.speaker_name(speaker) for speaker in speakers) if name]
    if names:
        primary = transcript.language.lower().split("-")[0]
        label = _SPEAKERS_LABEL.get(primary, _SPEAKERS_LABEL["en"])
        text = f"{text} {label}: {', '.join(names)}.".strip()
    return text


def _ended(text: str) -> str:
    return text if text.endswith(_TERMINALS) else f"{text}."


def _key_points(
    sentences: Sequence[_Sentence],
    scores: Sequence[float],
    spans: Sequence[_Span],
    overview: Sequence[int],
    busy: set[int],
) -> list[int]:
    """The best unused sentence of each chapter in turn (best chapters first), so that every topic shows.

    Not `busy` ones (already the overview, a decision or an action item), nor one that says what an
    overview sentence says.
    """
    count = min(10, max(3, len(spans), round(math.sqrt(len(sentences)) / 2)))
    eligible = [
        i
        for i in range(len(sentences))
        if i not in busy and not sentences[i].is_question and len(sentences[i].text.split()) >= 5
    ]
    by_chapter = [[i for i in eligible if span.first <= i < span.last] for span in spans]
    chosen: list[int] = []
    while len(chosen) < count:
        added = False
        rounds = sorted(by_chapter, key=lambda ids: -max((scores[i] for i in ids), default=0.0))
        for ids in rounds:
            if len(chosen) == count:
                break
            best = _pick(ids, sentences, scores, 1, {*chosen, *overview})
            if best:
                chosen.append(best[0])
                ids.remove(best[0])
                added = True
        if not added:
            break
    return sorted(chosen)


# --- decisions -------------------------------------------------------------------------------------------


def _decisions(sentences: Sequence[_Sentence]) -> list[tuple[int, str]]:
    """(sentence index, decision) for each decision stated, or agreed to after a proposal."""
    found: list[tuple[int, str]] = []
    for index in range(len(sentences)):
        text = _decision_text(sentences, index)
        if text and not any(_similar(text, earlier) for _, earlier in found):
            found.append((index, text))
    return found


def _decision_text(sentences: Sequence[_Sentence], index: int) -> str | None:
    sentence = sentences[index]
    if sentence.is_question or _explicitly_open_re().search(sentence.text):
        return None
    if _bare_agreement_re().match(sentence.text):
        following = sentences[index + 1] if index + 1 < len(sentences) else None
        if (
            following is not None
            and following.turn == sentence.turn
            and _decision_re().search(following.text)
        ):
            return None  # "Agreed. Let's go with X": the next sentence says what
        return _agreed_proposal(sentences, index)
    cue = _decision_re().search(sentence.text)
    if cue is None or _hedge_re().search(sentence.text[: cue.start()]):
        return None
    text = _filler_lead_re().sub("", sentence.text).strip()
    for _ in range(2):  # "We agreed that we'll ship X" sheds both subjects
        text = _decision_subject_re().sub("", text, count=1)
    if not set(_tokens(text, english=True)) - _CUE_WORDS:
        return _agreed_proposal(sentences, index)  # "Let's do it", "It's approved": what was proposed
    return _ended(_capitalised(text.strip()))


def _agreed_proposal(sentences: Sequence[_Sentence], index: int) -> str | None:
    """The proposal just before an agreement, made by someone else: "I would put X behind a flag." """
    speaker = sentences[index].speaker
    for earlier in range(index - 1, max(-1, index - 1 - _PROPOSAL_LOOKBACK), -1):
        candidate = sentences[earlier]
        if speaker is not None and candidate.speaker == speaker:
            continue
        proposal = _proposal_re().match(_filler_lead_re().sub("", candidate.text))
        if proposal:
            rest = _filler_lead_re().sub("", candidate.text)[proposal.end() :].rstrip("?.! ")
            return _ended(_capitalised(rest)) if any(_tokens(rest, english=True)) else None
    return None


def _similar(one: str, other: str) -> bool:
    a = {key for key in _tokens(one, english=True) if key}
    b = {key for key in _tokens(other, english=True) if key}
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.7


# --- action items ----------------------------------------------------------------------------------------


class _People:
    """The meeting's speakers by every name they may be called: display name, first or last name, user id."""

    def __init__(self, transcript: Transcript) -> None:
        self._transcript = transcript
        names: dict[str, str] = {}
        clashes: set[str] = set()
        for speaker in transcript.speakers:
            shown = transcript.speaker_name(speaker.id) or speaker.id
            for key in self._keys(speaker.id, speaker.user_id, speaker.display_name):
                if names.get(key, shown) != shown:
                    clashes.add(key)  # two Toms: "Tom" alone names neither
                names[key] = shown
        self._names = {key: shown for key, shown in names.items() if key not in clashes}

    @staticmethod
    def _keys(speaker_id: str, user_id: str | None, display_name: str | None) -> set[str]:
        keys = {speaker_id.casefold()}
        if user_id:
            keys |= {user_id.casefold(), user_id.split("@")[0].casefold()}
        if display_name:
            words = display_name.split()
            keys |= {display_name.casefold(), words[0].casefold(), words[-1].casefold()}
        return keys

    def speaker(self, speaker_id: str | None) -> str | None:
        return self._transcript.speaker_name(speaker_id)

    def resolve(self, said: str) -> str | None:
        """The speaker's name for a name as said, or None when no speaker goes by it."""
        words = said.split()
        for candidate in (said, *words):
            shown = self._names.get(candidate.casefold())
            if shown is not None:
                return shown
        return None

    def owner(self, said: str) -> str | None:
        """The owner for a name as said: a speaker's name, the name itself if it looks like one, else None."""
        words = said.split()
        while words and words[0].casefold() in _NOT_NAMES:
            words.pop(0)  # "And Marcus will": the name is Marcus
        if not words:
            return None
        name = " ".join(words)
        resolved = self.resolve(name)
        if resolved is not None:
            return resolved
        if not all(word[:1].isupper() for word in words) or any(w.casefold() in _NOT_NAMES for w in words):
            return None
        return name


def _action_items(
    sentences: Sequence[_Sentence], people: _People
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
        for claim in _claims(sentence.text, people, speaker):
            owner = speaker if claim.claimant is _Claimant.SELF else claim.owner
            if claim.vague:
                if _settle(replyable, owner, claim.due):
                    settled = True
                    sources.add(index)
                continue
            item = _Item(owner=owner, task=claim.task, due=claim.due)
            if claim.claimant is not _Claimant.SELF:
                item.asked_by, item.turn, item.waiting = sentence.speaker, sentence.turn, True
                item.needs_taker = claim.claimant is _Claimant.ADDRESSEE
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
    if _affirmative_re().match(text):
        for item in replyable:
            if item.owner is None or item.owner == speaker:
                item.owner = item.owner or speaker
                item.waiting = False
    elif _negative_re().match(text):
        for item in replyable:
            if item.owner is None or item.owner == speaker:
                item.withdrawn = True
                item.waiting = False


def _distinct(items: Sequence[_Item]) -> list[ActionItem]:
    kept: list[_Item] = []
    for item in items:
        twin = next((k for k in kept if k.owner == item.owner and _similar(k.task, item.task)), None)
        if twin is None:
            kept.append(item)
        elif twin.due is None:
            twin.due = item.due
    return [ActionItem(owner=item.owner, task=item.task, due=item.due) for item in kept]


def _claims(text: str, people: _People, speaker: str | None) -> list[_Claim]:
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


def _claim_starts(text: str, people: _People, speaker: str | None) -> Iterator[_ClaimStart]:
    # The name patterns try every word as a name: a plain substring test first skips most sentences.
    lower = f" {text.lower()} "
    for match in _self_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), _Claimant.SELF, None, False, bool(match["weak"]))
    if any(modal in lower for modal in _NAMED_MODALS):
        for match in _named_re().finditer(text):
            owner = people.owner(match["name"])
            if owner is not None:
                yield _ClaimStart(match.start(), match.end(), _Claimant.NAMED, owner, False, False)
    if "," in lower and (" you " in lower or "please" in lower):
        for match in _ask_named_re().finditer(text):
            owner = people.owner(match["name"])
            if owner is not None:
                yield _ClaimStart(match.start(), match.end(), _Claimant.NAMED, owner, False, False)
    for match in _ask_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), _Claimant.ADDRESSEE, None, False, False)
    for match in _ask_anyone_re().finditer(text):
        yield _ClaimStart(match.start(), match.end(), _Claimant.ANYONE, None, False, False)
    for match in _noted_re().finditer(text) if "action item" in lower else ():
        said = match["name"]
        owner = speaker if said and said.casefold() == "me" else (people.owner(said) if said else None)
        end = match.end()
        named = _noted_owner_re().match(text[end:])
        if (
            owner is None
            and named
            and (people.resolve(named["name"]) or named["name"].casefold() not in _WORK_VERBS)
        ):
            owner, end = people.owner(named["name"]), end + named.end()
        yield _ClaimStart(
            match.start(), end, _Claimant.NAMED if owner else _Claimant.ANYONE, owner, True, False
        )


def _shaped(found: _ClaimStart, body: str, people: _People) -> _Claim | None:
    """The task and due of a claim from the words after it, or None when they are not work."""
    owner = found.owner
    cut = _clause_end_re().search(body)
    body = body[: cut.start()] if cut else body
    if found.claimant is _Claimant.ADDRESSEE:
        vocative = _trailing_vocative_re().search(body)
        named = people.owner(vocative["name"]) if vocative else None
        if vocative and named:  # "can you send it, Bob?"
            owner, body = named, body[: vocative.start()]
    due, body = _take_due(body)
    task = _task_tail_re().sub("", _task_lead_re().sub("", body.strip())).strip()
    if not task or _not_a_task_re().match(task):
        return None
    vague = bool(_vague_re().match(task))
    verb = task.split()[0].casefold()
    if not vague and not found.explicit and due is None and (found.weak or verb not in _WORK_VERBS):
        return None
    claimant = _Claimant.NAMED if owner and found.claimant is _Claimant.ADDRESSEE else found.claimant
    return _Claim(claimant, owner, _capitalised(task), due, vague)


def _take_due(body: str) -> tuple[str | None, str]:
    """A task's due phrase as said (less "by"/"on"), or YYYY-MM-DD when it has a year; and the rest."""
    match = _due_re().search(body)
    if match is None:
        return None, body
    if match["when"]:
        due = f"{match['keep']} {match['when']}" if match["keep"] else match["when"]
    else:
        due = match["event"] or match["span"]
    rest = f"{body[: match.start()]} {body[match.end() :]}"
    rest = re.sub(r"\s+([,.;!?])", r"\1", " ".join(rest.split()))
    return _iso_date(due) or " ".join(due.split()).rstrip(",. "), rest


def _iso_date(due: str) -> str | None:
    match = _year_date_re().search(due)
    if match is None:
        return None
    if match["iso"]:
        text = match["iso"]
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    month = _MONTH_NUMBERS[(match["month"] or match["month2"]).casefold()]
    day = int(match["day"] or match["day2"])
    try:
        return date(int(match["year"] or match["year2"]), month, day).isoformat()
    except ValueError:
        return None


# --- open questions --------------------------------------------------------------------------------------


def _open_questions(sentences: Sequence[_Sentence], english: bool, requests: set[int]) -> list[str]:
    found: list[int] = []
    for index, sentence in enumerate(sentences):
        if english and _explicitly_open_re().search(sentence.text):
            found.append(_what_is_open(sentences, index))
        elif (
            sentence.is_question
            and index not in requests
            and sentence.words
            and not (english and _procedural_question_re().search(sentence.text))
            and not _answered(sentences, index, english)
        ):
            found.append(index)
    unique = list(dict.fromkeys(found))[:_MAX_OPEN_QUESTIONS]
    return [_tidy(sentences[index].text, english) for index in unique]


def _what_is_open(sentences: Sequence[_Sentence], index: int) -> int:
    """The sentence to quote for "that's still open": itself if it says what, else the question before."""
    if len(sentences[index].words) > 2:
        return index
    for earlier in range(index - 1, max(-1, index - 1 - _REPLY_SENTENCES), -1):
        if sentences[earlier].is_question:
            return earlier
    return index


def _answered(sentences: Sequence[_Sentence], index: int, english: bool) -> bool:
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
        return not (english and (_shrug_re().search(later.text) or _explicitly_open_re().search(later.text)))
    return False


# --- chapters --------------------------------------------------------------------------------------------


def _chapter_spans(sentences: Sequence[_Sentence], end: float) -> list[_Span]:
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
    return [_Span(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _balanced_cut(
    sentences: Sequence[_Sentence], depths: dict[int, float], inside: Sequence[int], start: float, stop: float
) -> int:
    middle, half = (start + stop) / 2, (stop - start) / 2
    return max(inside, key=lambda c: depths[c] + 0.3 * (1 - abs(sentences[c].start - middle) / half))


def _refined(sentences: Sequence[_Sentence], cut: int) -> int:
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
    sentences: Sequence[_Sentence],
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


def _blocks(sentences: Sequence[_Sentence]) -> list[_Span]:
    """Runs of about `_BLOCK_SECONDS`, also broken at every long pause (so that a pause is a candidate)."""
    blocks: list[_Span] = []
    first = 0
    for index in range(1, len(sentences)):
        pause = sentences[index].start - sentences[index - 1].end
        if sentences[index].start - sentences[first].start >= _BLOCK_SECONDS or pause >= _LONG_PAUSE_SECONDS:
            blocks.append(_Span(first, index))
            first = index
    blocks.append(_Span(first, len(sentences)))
    return blocks


def _boundary_depths(sentences: Sequence[_Sentence], blocks: Sequence[_Span]) -> dict[int, float]:
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


def _chapters(
    sentences: Sequence[_Sentence], spans: Sequence[_Span], *, end: float, english: bool, decided: set[int]
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
    sentences: Sequence[_Sentence],
    spans: Sequence[_Span],
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
    scores = _scores(members, favoured={i - span.first for i in decided if span.first <= i < span.last})
    best = max(range(len(members)), key=lambda i: scores[i])
    summary = _tidy(members[best].text, english)
    title = _chapter_title(members, scores, spread, len(spans)) or " ".join(summary.split()[:6])
    return Chapter(title=title, start=start, end=stop, summary=_ended(summary))


def _chapter_title(
    here: Sequence[_Sentence], scores: Sequence[float], spread: Counter[str], chapter_count: int
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
    ranked = sorted(eligible, key=lambda k: (-weight(k), -best_score[k]))
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
    return _capitalised(", ".join(phrases))


def _title_keys(sentence: _Sentence) -> set[str]:
    """A sentence's words and adjacent word pairs ("login rework"), each once."""
    return set(sentence.words) | {f"{a} {b}" for a, b in sentence.pairs}


def _surfaces(sentences: Sequence[_Sentence], keys: set[str]) -> dict[str, str]:
    """How each key is written most: lower case, unless it never is ("API", "Postgres")."""
    seen: dict[str, Counter[str]] = {key: Counter() for key in keys}
    for sentence in sentences:
        if keys.isdisjoint(sentence.words):
            continue
        for word in _word_re().findall(sentence.text):
            lower = word.lower()
            for key in {lower, _fold(lower)} & keys:
                seen[key][word] += 1
    surfaces = {}
    for key, forms in seen.items():
        if forms:
            form = forms.most_common(1)[0][0]
            surfaces[key] = form if all(f != f.lower() for f in forms) else form.lower()
    return surfaces
