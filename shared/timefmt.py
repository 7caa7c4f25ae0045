"""One textual form for instants, so stored times sort as strings and compare as times."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime) -> str:
    """RFC 3339 in UTC with whole seconds: `2026-11-25T10:00:00Z`."""
    # Fast path for what the app stores (UTC, whole seconds, whatever the tzinfo object): isoformat is
    # several times faster than strftime, and a list page formats two instants per item.
    text = value.isoformat()
    if text.endswith("+00:00") and not value.microsecond:
        return text[:-6] + "Z"
    return value.astimezone(UTC).replace(microsecond=0).isoformat()[:-6] + "Z"


def utc_seconds(value: datetime) -> datetime:
    """The instant in UTC, whole seconds (meeting times need no more, and sort as stored text)."""
    return value.astimezone(UTC).replace(microsecond=0)


def utc_instant(value: datetime) -> datetime:
    """`utc_seconds` for input: an offset that carries the instant past year 1 or 9999 is bad input.

    `9999-12-31T23:00:00-05:00` is valid RFC 3339 but falls in year 10000 in UTC, which datetime cannot
    hold; OverflowError would escape validation as a 500, a ValueError makes it a 400 on its field.
    """
    try:
        return utc_seconds(value)
    except OverflowError:
        raise ValueError(
            "is outside the range of instants this API accepts (years 1 to 9999 in UTC)"
        ) from None


def now() -> datetime:
    return datetime.now(UTC)


def stored_instant(value: datetime) -> str:
    """An instant as pydantic writes it into a stored document (UTC, `Z`, microseconds when any): what a
    query compares with a document's stored time, as text."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
