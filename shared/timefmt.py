"""One textual form for instants, so stored times sort as strings and compare as times."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime) -> str:
    """RFC 3339 in UTC with whole seconds: `2026-11-25T10:00:00Z`."""
    if value.tzinfo is not UTC or value.microsecond:
        value = value.astimezone(UTC).replace(microsecond=0)
    # isoformat is several times faster than strftime, and list pages format two instants per item.
    return value.isoformat().replace("+00:00", "Z")


def utc_seconds(value: datetime) -> datetime:
    """The instant in UTC, whole seconds (meeting times need no more, and sort as stored text)."""
    return value.astimezone(UTC).replace(microsecond=0)


def now() -> datetime:
    return datetime.now(UTC)
