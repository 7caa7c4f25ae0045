"""Joining through the function, on the embedded backends (local ACS stand-in, SQLite)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.adapters.local_communication import LOCAL_ISSUER, LocalCommunication
from shared.bootstrap import Services
from tests.conftest import FunctionCaller

pytestmark = pytest.mark.usefixtures("services")


async def _create(call: FunctionCaller, starts_in: timedelta, length: timedelta = timedelta(hours=1)) -> Any:
    start = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    body = {
        "title": "Standup",
        "startsAt": start.isoformat(),
        "endsAt": (start + length).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}, {"userId": "carol", "role": "consumer"}],
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()


async def _join(call: FunctionCaller, meeting_id: str, user: str) -> Any:
    return await call("join_meeting", "POST", "j", user=user, route={"meetingId": meeting_id})


def _local(services: Services) -> LocalCommunication:
    assert isinstance(services.communication, LocalCommunication)
    return services.communication


async def test_a_participant_joins_with_their_role_and_a_local_token(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    reply = await _join(call, meeting["id"], "bob")
    assert reply.status == 200, reply.body
    assert reply.headers["cache-control"] == "no-store"
    joined = reply.json()
    assert joined["roomId"] == meeting["roomId"]
    assert joined["role"] == "attendee"
    assert joined["acsUserId"].startswith("8:local:")
    assert joined["endpoint"] == services.communication.endpoint
    claims = jwt.decode(joined["token"], options={"verify_signature": False})
    assert claims["iss"] == LOCAL_ISSUER
    assert claims["scp"] == "voip.join"
    assert await _local(services).verify_token(joined["token"]) is not None
    members = await _local(services).room_members(meeting["roomId"])
    assert members == {joined["acsUserId"]: "attendee"}


async def test_token_lifetime_follows_the_room(call: FunctionCaller) -> None:
    # Room closes 1h10m + 30m from now: the token lives until then, not ACS's 24 h maximum.
    meeting = await _create(call, timedelta(minutes=10))
    joined = (await _join(call, meeting["id"], "alice")).json()
    expires = datetime.fromisoformat(joined["expiresOn"])
    closes = datetime.fromisoformat(meeting["endsAt"]) + timedelta(minutes=30)
    assert abs((expires - closes).total_seconds()) < 5
    # A meeting ending in 5 minutes still gets ACS's 60-minute minimum.
    short = await _create(call, timedelta(minutes=-20), timedelta(minutes=25))
    joined = (await _join(call, short["id"], "alice")).json()
    lifetime = datetime.fromisoformat(joined["expiresOn"]) - datetime.now(UTC)
    assert timedelta(minutes=59) < lifetime <= timedelta(minutes=60)


async def test_calling_again_refreshes_with_the_same_identity(call: FunctionCaller) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    first = (await _join(call, meeting["id"], "bob")).json()
    second = (await _join(call, meeting["id"], "bob")).json()
    assert second["acsUserId"] == first["acsUserId"]
    assert second["token"] != first["token"]


async def test_outsiders_get_404(call: FunctionCaller) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    reply = await _join(call, meeting["id"], "mallory")
    assert reply.status == 404


async def test_joining_outside_the_window_is_409_with_the_time(call: FunctionCaller) -> None:
    meeting = await _create(call, timedelta(hours=3))
    reply = await _join(call, meeting["id"], "bob")
    assert reply.status == 409
    opens = (datetime.fromisoformat(meeting["startsAt"]) - timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert reply.json()["detail"] == f"the meeting's room opens at {opens}, 30 minutes before it starts"


async def test_a_cancelled_meeting_cannot_be_joined_and_tokens_are_revoked(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    token = (await _join(call, meeting["id"], "bob")).json()["token"]
    assert (await call("cancel_meeting", "DELETE", "m", route={"meetingId": meeting["id"]})).status == 204
    assert await _local(services).verify_token(token) is None
    reply = await _join(call, meeting["id"], "bob")
    assert reply.status == 409
    assert reply.json()["detail"] == "the meeting is cancelled"


async def test_a_removed_participant_loses_the_room_and_the_token(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    joined = (await _join(call, meeting["id"], "bob")).json()
    route = {"meetingId": meeting["id"], "userId": "bob"}
    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    assert await _local(services).verify_token(joined["token"]) is None
    assert joined["acsUserId"] not in await _local(services).room_members(meeting["roomId"])
    assert (await _join(call, meeting["id"], "bob")).status == 404


async def test_a_role_change_reaches_the_room(call: FunctionCaller, services: Services) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    joined = (await _join(call, meeting["id"], "carol")).json()
    assert joined["role"] == "consumer"
    route = {"meetingId": meeting["id"], "userId": "carol"}
    reply = await call("put_participant", "PUT", "p", route=route, json_body={"role": "presenter"})
    assert reply.status == 200
    assert await _local(services).room_members(meeting["roomId"]) == {joined["acsUserId"]: "presenter"}


async def test_moving_the_meeting_moves_the_room(call: FunctionCaller, services: Services) -> None:
    meeting = await _create(call, timedelta(hours=2))
    start = datetime.fromisoformat(meeting["startsAt"]) + timedelta(hours=1)
    end = start + timedelta(hours=2)
    reply = await call(
        "update_meeting",
        "PATCH",
        "m",
        route={"meetingId": meeting["id"]},
        json_body={"startsAt": start.isoformat(), "endsAt": end.isoformat()},
    )
    assert reply.status == 200
    window = await _local(services).room_window(meeting["roomId"])
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    assert window == (
        (start - timedelta(minutes=30)).strftime(fmt),
        (end + timedelta(minutes=30)).strftime(fmt),
    )


async def test_twenty_concurrent_first_joins_create_one_identity(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _create(call, timedelta(minutes=10))
    created: list[str] = []
    local = _local(services)
    original = local.create_user

    async def counting() -> str:
        acs_id = await original()
        created.append(acs_id)
        return acs_id

    local.create_user = counting  # type: ignore[method-assign]
    replies = await asyncio.gather(*(_join(call, meeting["id"], "bob") for _ in range(20)))
    assert {r.status for r in replies} == {200}
    assert len(created) == 1
    assert {r.json()["acsUserId"] for r in replies} == {created[0]}
