"""Responses rendered without pydantic still match their models exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shared.domain.models import MeetingStatus, Membership, Role
from shared.schemas import MeetingList, MeetingSummaryOut


def _entry(i: int, title: str) -> Membership:
    start = datetime(2030, 1, 1, 9, tzinfo=UTC) + timedelta(hours=i)
    return Membership(
        user_id="bob",
        meeting_id=f"m-{i}",
        role=list(Role)[i % 3],
        organizer_id="alice",
        title=title,
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        status=list(MeetingStatus)[i % 2],
        version=i,
    )


def test_the_rendered_page_is_what_the_model_would_serialize() -> None:
    entries = [
        _entry(i, title) for i, title in enumerate(["Plan", 'Quotes " and \\ ', "Émile ☕", "x" * 200])
    ]
    for token in (None, "abc.def"):
        rendered = MeetingList.render(entries, token)
        model = MeetingList.model_validate_json(rendered)
        assert json.loads(model.model_dump_json(by_alias=True)) == json.loads(rendered)
        assert [item.id for item in model.items] == ["m-0", "m-1", "m-2", "m-3"]
        assert model.items[1].role is Role.ATTENDEE
        assert model.items[1].status is MeetingStatus.CANCELLED
        assert model.continuation_token == token


def test_every_model_field_is_rendered() -> None:
    rendered = json.loads(MeetingList.render([_entry(0, "Plan")], None))
    item_fields = {field.alias or name for name, field in MeetingSummaryOut.model_fields.items()}
    assert set(rendered["items"][0]) == item_fields
    assert set(rendered) == {"items", "continuationToken"}
