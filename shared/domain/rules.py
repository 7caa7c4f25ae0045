"""Scheduling and token rules of DESIGN.md, as pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain.errors import InvalidInput
from shared.domain.models import Meeting

MAX_MEETING_LENGTH = timedelta(hours=24)
# ACS refuses a room that opens more than 180 days from now.
MAX_SCHEDULE_AHEAD = timedelta(days=180)
MAX_PARTICIPANTS = 350  # an ACS room holds at most 350 participants, the organizer included
ROOM_OPENS_BEFORE = timedelta(minutes=30)
ROOM_CLOSES_AFTER = timedelta(minutes=30)
# ACS's own bounds on a token's lifetime.
MIN_TOKEN_LIFETIME = timedelta(minutes=60)
MAX_TOKEN_LIFETIME = timedelta(hours=24)


def check_schedule(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(
            "endsAt must be after startsAt",
            [{"field": "endsAt", "message": "must be after startsAt"}],
        )
    if ends_at - starts_at > MAX_MEETING_LENGTH:
        raise InvalidInput(
            "a meeting lasts at most 24 hours",
            [{"field": "endsAt", "message": "must be at most 24 hours after startsAt"}],
        )


def check_horizon(now: datetime, starts_at: datetime, ends_at: datetime) -> None:
    """A meeting must not be over, and its room must open within ACS's 180-day horizon."""
    if ends_at <= now:
        raise InvalidInput("endsAt is in the past", [{"field": "endsAt", "message": "must be in the future"}])
    if starts_at - ROOM_OPENS_BEFORE > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput(
            "a meeting starts at most 180 days from now",
            [{"field": "startsAt", "message": "must be within 180 days"}],
        )


def room_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """When the meeting's ACS room is open: half an hour either side of the meeting."""
    return starts_at - ROOM_OPENS_BEFORE, ends_at + ROOM_CLOSES_AFTER


def token_lifetime(now: datetime, meeting: Meeting) -> timedelta:
    """No longer than the room stays open, but within ACS's bounds (rounded up to the minimum)."""
    _, closes = room_window(meeting.starts_at, meeting.ends_at)
    remaining = closes - now
    return min(MAX_TOKEN_LIFETIME, max(MIN_TOKEN_LIFETIME, remaining))
