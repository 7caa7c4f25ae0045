"""The join flow of the README, with the ACS adapter against the local ACS REST server (HMAC-checked)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import bootstrap
from shared.adapters.acs_communication import AcsCommunication
from shared.bootstrap import build_services
from shared.config import Settings
from tests.acs_server import AcsServer
from tests.conftest import FunctionCaller


@pytest.fixture
async def acs(settings: Settings) -> AsyncIterator[AcsServer]:
    async with AcsServer(access_key=base64.b64encode(secrets.token_bytes(32)).decode()) as server:
        adapter = AcsCommunication(connection_string=server.connection_string, **server.client_kwargs)
        services = build_services(settings, communication=adapter)
        bootstrap.override(services)
        yield server
        bootstrap.override(None)
        await services.aclose()


async def _meeting(call: FunctionCaller) -> Any:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Review",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()


async def _join(call: FunctionCaller, meeting_id: str, user: str) -> Any:
    return await call("join_meeting", "POST", "j", user=user, route={"meetingId": meeting_id})


async def test_join_against_acs(call: FunctionCaller, acs: AcsServer) -> None:
    meeting = await _meeting(call)
    room = acs.state.room(meeting["roomId"])
    assert room.valid_until == datetime.fromisoformat(meeting["endsAt"]) + timedelta(minutes=30)
    # Half an hour before a start 10 minutes away is already past: the room opens now.
    assert room.valid_from <= datetime.now(UTC)

    reply = await _join(call, meeting["id"], "bob")
    assert reply.status == 200, reply.body
    joined = reply.json()
    assert joined["endpoint"] == acs.endpoint
    assert joined["acsUserId"].startswith("8:acs:")
    assert acs.state.participants(meeting["roomId"]) == {joined["acsUserId"]: "Attendee"}
    issued = acs.state.identity(joined["acsUserId"]).tokens[-1]
    assert issued.token == joined["token"]
    assert issued.scopes == ("voip.join",)
    # Room closes 1h40m from now: the token lives that long (whole minutes on the wire).
    lifetime = datetime.fromisoformat(joined["expiresOn"]) - datetime.now(UTC)
    assert timedelta(minutes=98) < lifetime <= timedelta(minutes=100)

    assert (await _join(call, meeting["id"], "mallory")).status == 404

    route = {"meetingId": meeting["id"], "userId": "bob"}
    assert (
        await call("put_participant", "PUT", "p", route=route, json_body={"role": "presenter"})
    ).status == 200
    assert acs.state.participants(meeting["roomId"]) == {joined["acsUserId"]: "Presenter"}

    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    assert acs.state.participants(meeting["roomId"]) == {}
    # Revoked before the document drops them and again after (a join racing the removal: issue 15).
    assert acs.state.revocations(joined["acsUserId"]) == 2
    assert (await _join(call, meeting["id"], "bob")).status == 404

    alice = (await _join(call, meeting["id"], "alice")).json()
    assert acs.state.participants(meeting["roomId"]) == {alice["acsUserId"]: "Presenter"}
    assert (await call("cancel_meeting", "DELETE", "m", route={"meetingId": meeting["id"]})).status == 204
    assert meeting["roomId"] not in acs.state.rooms
    assert acs.state.revocations(alice["acsUserId"]) == 1
    assert (await _join(call, meeting["id"], "alice")).status == 409


async def test_moving_the_meeting_moves_the_acs_room(call: FunctionCaller, acs: AcsServer) -> None:
    meeting = await _meeting(call)
    start = datetime.fromisoformat(meeting["startsAt"]) + timedelta(hours=2)
    end = start + timedelta(minutes=45)
    reply = await call(
        "update_meeting",
        "PATCH",
        "m",
        route={"meetingId": meeting["id"]},
        json_body={"startsAt": start.isoformat(), "endsAt": end.isoformat()},
    )
    assert reply.status == 200
    room = acs.state.room(meeting["roomId"])
    assert (room.valid_from, room.valid_until) == (start - timedelta(minutes=30), end + timedelta(minutes=30))


async def test_twenty_concurrent_first_joins_create_one_acs_identity(
    call: FunctionCaller, acs: AcsServer
) -> None:
    meeting = await _meeting(call)
    replies = await asyncio.gather(*(_join(call, meeting["id"], "bob") for _ in range(20)))
    assert {r.status for r in replies} == {200}
    assert acs.identity_creations == 1
    assert len({r.json()["acsUserId"] for r in replies}) == 1


async def test_acs_throttling_beyond_retries_is_a_503_problem(call: FunctionCaller, acs: AcsServer) -> None:
    meeting = await _meeting(call)
    acs.throttle(100, retry_after=30)
    reply = await _join(call, meeting["id"], "bob")
    assert reply.status == 503
    assert reply.headers["retry-after"] == "30"
    assert reply.headers["content-type"] == "application/problem+json"
    assert "Azure Communication Services" in reply.json()["detail"]
