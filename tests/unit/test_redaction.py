"""REDACT_PII's masking: what the libraries recognise is masked; what only looks like it is left alone."""

from __future__ import annotations

import pytest

from shared.notes.redaction import redact, redact_transcript
from shared.transcripts import Segment, Transcript


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("write to jane.doe@example.com, thanks", "write to [email], thanks"),
        ("mail <ops+alerts@sub.example.org>.", "mail <[email]>."),
        ("call me at +44 20 7946 0958 or (212) 555-0123", "call me at [phone] or [phone]"),
        ("my number is 415 555 2671", "my number is [phone]"),
        ("card 4111 1111 1111 1111 expires", "card [card number] expires"),
        ("pay 4111-1111-1111-1111 now", "pay [card number] now"),
        ("iban GB82 WEST 1234 5698 7654 32 please", "iban [account number] please"),
        ("to DE89370400440532013000.", "to [account number]."),
    ],
)
def test_personal_data_is_masked(said: str, written: str) -> None:
    assert redact(said) == written


@pytest.mark.parametrize(
    "said",
    [
        "we sold 1234567890123 units on 2024-05-01 for 300 dollars",
        "order 4111111111111112 failed",  # fails the Luhn check: not a card
        "iban GB00 WEST 1234 5698 7654 32",  # fails the IBAN check
        "meet at 10:30 in room 204, user@ alone is no address",
        "version 2.14.3 of the api",
    ],
)
def test_what_only_looks_like_it_stays(said: str) -> None:
    assert redact(said) == said


def test_a_transcript_keeps_everything_but_the_data() -> None:
    transcript = Transcript(
        recording_id="r1",
        language="en",
        duration_seconds=4.0,
        segments=[
            Segment(start=0.0, end=2.0, text="reach me on bob@example.com"),
            Segment(start=2, end=4, text="ok"),
        ],
    )
    masked = redact_transcript(transcript)
    assert [s.text for s in masked.segments] == ["reach me on [email]", "ok"]
    assert (masked.recording_id, masked.segments[0].end) == ("r1", 2.0)
