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


def now() -> datetime:
    return datetime.now(UTC)
