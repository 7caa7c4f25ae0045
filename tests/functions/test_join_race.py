"""Removal and cancellation racing joins (issue 15): once the DELETE has answered, the removed user holds
no token that still verifies and is no member of the room, whatever ran concurrently.

Each round runs the requests concurrently (asyncio.gather) through the functions, on SQLite and on the
Cosmos emulator, with the join started a few scheduling steps before or after the removal so that its
reads, its room update and its token fall on every side of the removal's writes.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.local_communication import LocalCommunication
from shared.bootstrap import Services
from shared.domain.models import MeetingStatus
from tests.conftest import FunctionCaller, Reply

pytestmark = pytest.mark.usefixtures("services")

ROUNDS = 12
# The ACS calls that a join and a removal make, each delayed as a network hop would delay it: in one event
# loop with an embedded stand-in they would otherwise run back to back and hide most interleavings.
ACS_CALLS = (
    "upsert_room_members",
    "remove_room_members",
    "issue_token",
    "revoke_tokens",
    "delete_room",
    "create_user",
)


@pytest.fixture(autouse=True)
def acs_latency(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    local = services.communication
    assert isinstance(local, LocalCommunication)
    chance = random.Random(15)

    def delayed(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(chance.uniform(0, 0.004))
            result = await method(*args, **kwargs)
            await asyncio.sleep(chance.uniform(0, 0.004))
            return result

        return call

    for name in ACS_CALLS:
        monkeypatch.setattr(local, name, delayed(getattr(local, name)))


async def _create(call: FunctionCaller) -> Any:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Race",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()


async def _after(steps: int, request: Any) -> Reply:
    for _ in range(steps):
        await asyncio.sleep(0)
    result: Reply = await request
    return result


async def _bob_has_nothing(services: Services, meeting: Any, joins: list[Reply]) -> list[str]:
    """What bob still holds: tokens that verify and room membership (empty when all is well)."""
    local = services.communication
    assert isinstance(local, LocalCommunication)
    problems: list[str] = []
    for reply in joins:
        assert reply.status in (200, 404, 409), reply.body
        if reply.status == 200 and await local.verify_token(reply.json()["token"]) is not None:
            problems.append("a token that verifies")
    identity = await services.store.get_identity("bob")
    if identity is not None and identity.acs_user_id in await local.room_members(meeting["roomId"]):
        problems.append("room membership")
    return problems


@pytest.mark.parametrize("joined_before", [True, False], ids=["known", "first-join"])
async def test_removal_racing_joins_leaves_no_token_and_no_membership(
    call: FunctionCaller, services: Services, joined_before: bool
) -> None:
    failures: list[tuple[int, list[str]]] = []
    for round_ in range(ROUNDS):
        meeting = await _create(call)
        route = {"meetingId": meeting["id"]}
        if joined_before:
            assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 200
        lead, lag = (0, round_) if round_ % 2 else (round_, 0)
        removed, *joins = await asyncio.gather(
            _after(lead, call("remove_participant", "DELETE", "p", route={**route, "userId": "bob"})),
            _after(lag, call("join_meeting", "POST", "j", user="bob", route=route)),
            _after(lag + 3, call("join_meeting", "POST", "j", user="bob", route=route)),
        )
        assert removed.status == 204, removed.body
        # The API already says bob is out...
        assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 404
        # ...and so must ACS.
        problems = await _bob_has_nothing(services, meeting, joins)
        if problems:
            failures.append((round_, problems))
    assert failures == []


async def test_cancellation_racing_joins_leaves_no_token_and_no_membership(
    call: FunctionCaller, services: Services
) -> None:
    failures: list[tuple[int, list[str]]] = []
    for round_ in range(ROUNDS):
        meeting = await _create(call)
        route = {"meetingId": meeting["id"]}
        assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 200
        lead, lag = (0, round_) if round_ % 2 else (round_, 0)
        cancelled, *joins = await asyncio.gather(
            _after(lead, call("cancel_meeting", "DELETE", "m", route=route)),
            _after(lag, call("join_meeting", "POST", "j", user="bob", route=route)),
            _after(lag + 3, call("join_meeting", "POST", "j", user="bob", route=route)),
        )
        assert cancelled.status == 204, cancelled.body
        problems = await _bob_has_nothing(services, meeting, joins)
        if problems:
            failures.append((round_, problems))
    assert failures == []


async def test_removal_by_patch_racing_joins_leaves_no_token_and_no_membership(
    call: FunctionCaller, services: Services
) -> None:
    failures: list[tuple[int, list[str]]] = []
    for round_ in range(ROUNDS):
        meeting = await _create(call)
        route = {"meetingId": meeting["id"]}
        assert (await call("join_meeting", "POST", "j", user="bob", route=route)).status == 200
        lead, lag = (0, round_) if round_ % 2 else (round_, 0)
        patched, *joins = await asyncio.gather(
            _after(lead, call("update_meeting", "PATCH", "m", route=route, json_body={"participants": []})),
            _after(lag, call("join_meeting", "POST", "j", user="bob", route=route)),
            _after(lag + 3, call("join_meeting", "POST", "j", user="bob", route=route)),
        )
        assert patched.status == 200, patched.body
        problems = await _bob_has_nothing(services, meeting, joins)
        if problems:
            failures.append((round_, problems))
    assert failures == []


@pytest.mark.parametrize("change", ["removed", "cancelled"])
async def test_a_join_that_finds_itself_overtaken_takes_back_its_token_and_seat(
    call: FunctionCaller, services: Services, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # The join's own re-read, alone: the document changes (and nothing else) while the token is issued.
    meeting = await _create(call)
    route = {"meetingId": meeting["id"]}
    local = services.communication
    assert isinstance(local, LocalCommunication)
    issued: list[str] = []
    original = local.issue_token

    async def overtaken(*args: Any, **kwargs: Any) -> Any:
        token = await original(*args, **kwargs)
        issued.append(token.token)
        stored = await services.store.get_meeting(meeting["id"])
        assert stored is not None
        update: dict[str, Any] = (
            {"participants": stored.value.participants[:1]}
            if change == "removed"
            else {"status": MeetingStatus.CANCELLED}
        )
        await services.store.replace_meeting(stored.value.model_copy(update=update), stored.etag)
        return token

    monkeypatch.setattr(local, "issue_token", overtaken)
    reply = await call("join_meeting", "POST", "j", user="bob", route=route)
    assert reply.status == (404 if change == "removed" else 409), reply.body
    assert await local.verify_token(issued[0]) is None
    assert await local.room_members(meeting["roomId"]) == {}
