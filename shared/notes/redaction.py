"""REDACT_PII: e-mail addresses, phone numbers, card and account numbers masked in a transcript before it
is written, so no summarizer, search index or reader sees them.

Found and checked by maintained libraries rather than by patterns of our own: phone numbers by
`phonenumbers` (Google's libphonenumber: every country's numbering plan), e-mail addresses by
`email-validator` (RFC 5322/6531 syntax, run on each word that has an `@`), card numbers by the Luhn
check and IBANs by their mod-97 check from `python-stdnum`. Only the runs of digits (or an IBAN's letters
and digits) that those checks are asked about are found by a simple pattern: the checks decide, so a
date, an amount or an order number that fails them is left alone. Presidio was the first choice, but its
analyzer imports spaCy (hundreds of megabytes with a model) even for its pattern recognizers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shared.transcripts import Transcript

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card number]"
ACCOUNT = "[account number]"
# Numbers written without a country code are read as this region's (a transcript rarely says "+1").
DEFAULT_REGION = "US"

_WORD = re.compile(r"\S+")
_EDGES = "\"'()[]{}<>.,;:!?"
# Candidates only (the checks decide): 13-19 digits with spaces or dashes between, and IBAN-shaped runs.
_DIGITS = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?!\w)")

Span = tuple[int, int, str]


def redact(text: str) -> str:
    """The text with every e-mail address, phone number, card and account number replaced by its mask."""
    spans = sorted(_spans(text), key=lambda s: (s[0], -s[1]))
    out: list[str] = []
    at = 0
    for start, end, mask in spans:
        if start < at:
            continue  # inside one masked already (an IBAN's digits, a phone inside a card number)
        out += [text[at:start], mask]
        at = end
    out.append(text[at:])
    return "".join(out)


def redact_transcript(transcript: Transcript) -> Transcript:
    segments = [s.model_copy(update={"text": redact(s.text)}) for s in transcript.segments]
    return transcript.model_copy(update={"segments": segments})


def _spans(text: str) -> Iterator[Span]:
    yield from _accounts(text)
    yield from _cards(text)
    yield from _emails(text)
    yield from _phones(text)


def _emails(text: str) -> Iterator[Span]:
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415 - only when redacting

    for word in _WORD.finditer(text):
        if "@" not in word.group():
            continue
        core = word.group().strip(_EDGES)
        try:
            validate_email(core, check_deliverability=False)
        except EmailNotValidError:
            continue
        start = word.start() + word.group().index(core)
        yield start, start + len(core), EMAIL


def _phones(text: str) -> Iterator[Span]:
    import phonenumbers  # noqa: PLC0415 - its metadata is large: loaded at the first redaction

    for match in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION, phonenumbers.Leniency.POSSIBLE):
        yield match.start, match.end, PHONE


def _cards(text: str) -> Iterator[Span]:
    from stdnum import luhn  # noqa: PLC0415

    for run in _DIGITS.finditer(text):
        digits = re.sub(r"\D", "", run.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            yield run.start(), run.end(), CARD


def _accounts(text: str) -> Iterator[Span]:
    from stdnum import iban  # noqa: PLC0415

    for run in _IBAN.finditer(text):
        if iban.is_valid(run.group()):
            yield run.start(), run.end(), ACCOUNT
