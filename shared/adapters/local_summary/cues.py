"""The regular expressions of the cues (English), each compiled on first use and then cached."""

from __future__ import annotations

import re
from functools import cache
from typing import Final

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


def due_re() -> re.Pattern[str]:
    return _re(_DUE_PATTERN, re.IGNORECASE)


def self_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:I(?:'ll|\s+will|\s+shall)|I(?:'m|\s+am)\s+(?:going\s+to|gonna)"
        r"|I\s+can\s+(?=take|own|handle|do|pick\s+up|look\s+into|follow\s+up|write|send|draft|fix|review)"
        r"|(?P<weak>I\s+(?:need|have)\s+to))\s*"
    )


NAMED_MODALS: Final = ("'ll ", " will ", " going to ", " gonna ", " can take ", " agreed to ", " needs to ")


def named_re() -> re.Pattern[str]:
    return _re(
        rf"{_NAME}(?i:'ll|\s+will|\s+is\s+going\s+to|'s\s+going\s+to|\s+is\s+gonna|\s+can\s+take(?=\s)"
        r"|\s+has\s+agreed\s+to|\s+agreed\s+to|\s+needs\s+to)\s+"
    )


def ask_named_re() -> re.Pattern[str]:
    return _re(rf"{_NAME}\s*,\s*(?i:(?:can|could|would|will)\s+you|please)\s+(?i:please\s+)?")


def ask_named_bare_re() -> re.Pattern[str]:
    # "bob please send it": a recogniser's request with no comma; the name must be a speaker's (the caller
    # checks), since any word would do as a name here.
    return _re(rf"\b{_NAME}\s+(?i:(?:can|could|would|will)\s+you|please)\s+(?i:please\s+)?")


def question_opener_re() -> re.Pattern[str]:
    """How an obvious question starts, for text a recogniser gave without its question mark."""
    return _re(
        r"^(?:what|who|whom|whose|when|where|why|how|which|should\s+(?:we|i|you|they)|shall\s+(?:we|i)"
        r"|do\s+(?:we|you|they|i)|does|did|can\s+(?:we|you|i|someone|anyone)|could\s+(?:we|you|someone)"
        r"|would\s+(?:we|you)|will\s+(?:we|you|it|they)|is\s+(?:it|there|that|this)|are\s+(?:we|you|there|they)"
        r"|have\s+(?:we|you)|any\s+(?:questions|blockers|thoughts|objections))\b",
        re.IGNORECASE,
    )


def ask_re() -> re.Pattern[str]:
    return _re(r"\b(?i:(?:can|could|would|will)\s+you)\s+(?i:please\s+)?")


def ask_anyone_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:(?:can|could|would)\s+(?:someone|somebody|anyone|anybody)"
        r"|(?:someone|somebody)\s+(?:needs\s+to|should|has\s+to|must))\s+"
    )


def noted_re() -> re.Pattern[str]:
    return _re(
        r"\b(?i:action\s+items?)\b(?:\s+(?i:for)\s+(?P<name>[^\W\d_]+(?:\s+[A-Z][\w'-]*)?))?"
        r"\s*(?i:is\s+)?[:,\-\u2013\u2014]?\s*"
    )


def noted_owner_re() -> re.Pattern[str]:
    return _re(rf"^{_NAME}\s+(?i:to|will|should|needs\s+to|is\s+going\s+to)\s+")


def run_on_break_re(names: tuple[str, ...]) -> re.Pattern[str]:
    """Where a new clause starts in text a recogniser gave without punctuation (matched at the break).

    - a person addressed: "<name> can you", "<name> please", "<name> how about you", "<name> what do you";
    - a person named as the subject of a commitment: "(and|so) <name> will|is going to|to|needs to";
    - a closing: "thanks", "thank you", "see you", "bye".
    `names` are the meeting's people's names, lower case: any word would do as a name in "X will", and
    "the team will" is no break.
    """
    known = "|".join(re.escape(name) for name in names if name)
    addressed = (
        rf"(?:{known})\s+(?:(?:can|could|would|will)\s+you|please|how\s+about|what\s+about|what\s+do\s+you"
        r"|do\s+you|are\s+you)\b"
    )
    subject = rf"(?:and|so|then|okay|ok)\s+(?:{known})\s+(?:will|is\s+going\s+to|to|needs\s+to|should)\b"
    closing = r"(?:thanks|thank\s+you|see\s+you|bye|goodbye)\b"
    parts = [closing] if not known else [addressed, subject, closing]
    return _re(rf"(?<=\s)(?:{'|'.join(parts)})", re.IGNORECASE)


def trailing_vocative_re() -> re.Pattern[str]:
    return _re(r",\s*(?P<name>[^\W\d_]+)\s*[?.!]*\s*$")


def clause_end_re() -> re.Pattern[str]:
    # A task ends where its clause does: another subject, a reason, a contrast, or the sentence's end.
    return _re(
        r"\s*(?:;|,?\s+(?:but|because|since|although|though|unless|so\s+that\s+(?:we|you|they)"
        r"|and\s+(?:then\s+)?(?:we|you|they|he|she|it|that|this|everyone|everybody))\b|[.!?](?:\s|$))",
        re.IGNORECASE,
    )


def not_a_task_re() -> re.Pattern[str]:
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


def vague_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:have|do|take|handle|own|get|grab|cover|finish|sort|pick|send)\s+)?(?:care\s+of\s+)?"
        r"(?:it|that|this|them|those|these|one|so)(?:\s+(?:done|up|out|over|on|ready|sorted|then))?$",
        re.IGNORECASE,
    )


def task_lead_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:also|just|then|quickly|probably|definitely|personally|still|first|actually|please|now"
        r"|all|both|go\s+ahead\s+and|try\s+to|try\s+and|be\s+able\s+to)\s+)+",
        re.IGNORECASE,
    )


def task_tail_re() -> re.Pattern[str]:
    return _re(
        r"(?:[\s,;:.!?\-\u2013\u2014]+|\s+(?:and|or|but|then|as\s+well|too|also|please|okay|ok|right|for\s+us))+$",
        re.IGNORECASE,
    )


def affirmative_re() -> re.Pattern[str]:
    return _re(
        r"^(?:yes|yeah|yep|yup|sure|ok|okay|will\s+do|on\s+it|can\s+do|no\s+problem|of\s+course|absolutely"
        r"|definitely|happy\s+to|sounds\s+good|got\s+it|consider\s+it\s+done|works\s+for\s+me|fine)\b",
        re.IGNORECASE,
    )


def negative_re() -> re.Pattern[str]:
    return _re(
        r"^(?:no|nope|sorry|unfortunately|I\s+can't|I\s+cannot|I\s+won't|not\s+(?:this|by|today|me))\b",
        re.IGNORECASE,
    )


def decision_re() -> re.Pattern[str]:
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


def hedge_re() -> re.Pattern[str]:
    # Before a cue, these make it a condition or a doubt: "if we go with X", "not sure we'll keep X".
    return _re(
        r"\b(?:if|whether|unless|not\s+sure|don't\s+know|no\s+idea|should\s+we|could\s+we|would\s+we)\b",
        re.IGNORECASE,
    )


def bare_agreement_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:ok(?:ay)?|yes|yeah|right|so|then|fine|great|perfect|good)[,.!]?\s+)*"
        r"(?:agreed|approved|decided|deal|let's\s+do\s+(?:it|that)|sounds\s+good,?\s+let's\s+do\s+(?:it|that))"
        r"[.!]*$",
        re.IGNORECASE,
    )


def proposal_re() -> re.Pattern[str]:
    return _re(
        r"^(?:I\s+would|I'd|I\s+think\s+we\s+should|we\s+should|we\s+could|let's|how\s+about(?:\s+we)?"
        r"|what\s+if\s+we|why\s+don't\s+we|I\s+(?:suggest|propose|recommend)(?:\s+(?:that\s+)?we)?"
        r"|my\s+(?:suggestion|proposal|vote)\s+is(?:\s+to)?)\s+",
        re.IGNORECASE,
    )


def decision_subject_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:we|i\s+think\s+we|everyone|everybody)\s+(?:have\s+|'ve\s+)?(?:decided|agreed)"
        r"(?:\s+(?:to|that|on))?\s+|(?:the\s+|our\s+|final\s+)?decision\s+(?:is|was)\s*(?:to\s+|that\s+|:\s*)?"
        r"|decision\s*:\s*|let's\s+|we(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to)\s+"
        r"|the\s+plan\s+is\s+to\s+|agreed[,:]\s+)",
        re.IGNORECASE,
    )


def filler_lead_re() -> re.Pattern[str]:
    return _re(
        r"^(?:(?:so|then|ok(?:ay)?|alright|all\s+right|right|fair|fine|good|great|yes|yeah|agreed|and|but"
        r"|well|perfect|cool|nice|um+|uh+|er|hmm|anyway|in\s+that\s+case|in\s+the\s+end|finally)\b[,.!]?\s+)+",
        re.IGNORECASE,
    )


def inner_filler_re() -> re.Pattern[str]:
    return _re(r"(?:,\s*)?\b(?:um+|uh+|erm|er|hmm+|mhm)\b,?\s*", re.IGNORECASE)


def explicitly_open_re() -> re.Pattern[str]:
    return _re(
        r"\b(?:still\s+open|an\s+open\s+question|(?:we|i)\s+(?:still\s+)?don't\s+know\s+yet"
        r"|(?:is|are|remains?)\s+(?:still\s+)?unclear|to\s+be\s+(?:decided|determined|confirmed)|tbd|tbc"
        r"|(?:haven't|have\s+not|hasn't|has\s+not)\s+(?:yet\s+)?(?:decided|agreed|figured\s+out|settled)"
        r"|not\s+(?:yet\s+)?decided|undecided|no\s+decision\s+yet|still\s+need\s+to\s+(?:decide|figure\s+out)"
        r"|remains\s+to\s+be\s+seen|nobody\s+knows|no\s+one\s+knows)\b",
        re.IGNORECASE,
    )


def shrug_re() -> re.Pattern[str]:
    # A reply that leaves the question open: "No idea", "Good question, I'll check".
    return _re(
        r"\b(?:(?:i|we)\s+(?:don't|do\s+not)\s+know|no\s+idea|not\s+sure|good\s+question|hard\s+to\s+say"
        r"|(?:i'll|i\s+will|let\s+me|we'll\s+have\s+to|we\s+need\s+to)\s+(?:check|find\s+out|get\s+back))\b",
        re.IGNORECASE,
    )


def procedural_question_re() -> re.Pattern[str]:
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


def sentence_end_re() -> re.Pattern[str]:
    # Western marks need a space after them ("3.5" is no end); CJK full stops and marks do not.
    return _re(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*")


def word_re() -> re.Pattern[str]:
    return _re(r"[^\W_]+(?:['-][^\W_]+)*")


def year_date_re() -> re.Pattern[str]:
    return _re(
        rf"(?:(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})"
        rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>{_MONTH}),?\s+(?P<year2>\d{{4}})"
        r"|(?P<iso>\d{4}-\d{2}-\d{2}))",
        re.IGNORECASE,
    )
