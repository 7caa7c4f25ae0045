"""The scheduling and token rules of DESIGN.md as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.errors import InvalidInput
from shared.domain.models import Meeting, Participant, Role
from shared.domain.rules import check_schedule, room_window, token_lifetime

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def meeting(starts_at: datetime, ends_at: datetime) -> Meeting:
    return Meeting(
        id="m-1",
        title="Planning",
        organizer_id="alice",
        starts_at=starts_at,
        ends_at=ends_at,
        participants=[Participant(user_id="alice", role=Role.PRESENTER)],
        created_at=START,
        updated_at=START,
    )


@pytest.mark.parametrize(
    "length", [timedelta(seconds=1), timedelta(hours=1), timedelta(hours=24)], ids=["1s", "1h", "24h"]
)
def test_schedule_accepts_up_to_24_hours(length: timedelta) -> None:
    check_schedule(START, START + length)


@pytest.mark.parametrize("length", [timedelta(0), timedelta(seconds=-1), timedelta(days=-1)])
def test_schedule_refuses_an_end_not_after_the_start(length: timedelta) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_schedule(START, START + length)
    assert caught.value.errors == [{"field": "endsAt", "message": "must be after startsAt"}]


@pytest.mark.parametrize("length", [timedelta(hours=24, seconds=1), timedelta(days=2)])
def test_schedule_refuses_more_than_24_hours(length: timedelta) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_schedule(START, START + length)
    assert "24 hours" in caught.value.detail
    assert [e["field"] for e in caught.value.errors] == ["endsAt"]


def test_room_opens_half_an_hour_before_and_closes_half_an_hour_after() -> None:
    opens, closes = room_window(START, START + timedelta(hours=2))
    assert opens == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert closes == datetime(2026, 11, 25, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Long before the meeting: capped at ACS's maximum.
        (START - timedelta(days=3), timedelta(hours=24)),
        # The room closes 12:30 (a 10:00-12:00 meeting): no longer than it stays open...
        (START, timedelta(hours=2, minutes=30)),
        (START - timedelta(hours=20), timedelta(hours=22, minutes=30)),
        # ...exactly 24 h before closing is the maximum itself...
        (START + timedelta(hours=2, minutes=30) - timedelta(hours=24), timedelta(hours=24)),
        # ...but never under ACS's minimum, even once the room is closing or closed.
        (START + timedelta(hours=1, minutes=30), timedelta(hours=1)),
        (START + timedelta(hours=2), timedelta(hours=1)),
        (START + timedelta(hours=2, minutes=29, seconds=59), timedelta(hours=1)),
        (START + timedelta(days=1), timedelta(hours=1)),
    ],
    ids=["far", "at-start", "20h-before", "24h-to-close", "60m-to-close", "30m-to-close", "1s", "after"],
)
def test_token_lifetime(now: datetime, expected: timedelta) -> None:
    assert token_lifetime(now, meeting(START, START + timedelta(hours=2))) == expected


def test_token_lifetime_follows_the_meetings_end() -> None:
    now = START - timedelta(hours=1)
    short = token_lifetime(now, meeting(START, START + timedelta(hours=1)))
    longer = token_lifetime(now, meeting(START, START + timedelta(hours=3)))
    assert (short, longer) == (timedelta(hours=2, minutes=30), timedelta(hours=4, minutes=30))
