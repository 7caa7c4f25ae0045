"""devhost's Web PubSub-compatible endpoint, through a Python WebSocket client (aiohttp) speaking the
`json.webpubsub.azure.v1` subprotocol, against the real app: negotiate, events in a meeting's group,
receive-only connections, and a removed participant who hears of the removal and then nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest

from tests.e2e.conftest import Server

PROTOCOL = "json.webpubsub.azure.v1"
RELIABLE = "json.reliable.webpubsub.azure.v1"


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


def _tomorrow(hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


class Client:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        frame = await self.socket.receive(timeout=wait)
        assert frame.type == aiohttp.WSMsgType.TEXT, frame
        message: dict[str, Any] = json.loads(frame.data)
        return message

    async def event(self, wait: float = 5.0) -> dict[str, Any]:
        """The next event's body (the `data` of the next `message`)."""
        while True:
            message = await self.next(wait)
            if message.get("type") == "message":
                data: dict[str, Any] = message["data"]
                return data

    async def nothing(self, seconds: float = 0.5) -> None:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, received {message}")


async def _negotiate(http: aiohttp.ClientSession, api: str, user: str) -> str:
    async with http.get(f"{api}/realtime/negotiate", headers=_auth(user)) as reply:
        assert reply.status == 200, await reply.text()
        assert reply.headers["Cache-Control"] == "no-store"
        body = await reply.json()
    assert set(body) == {"url", "expiresOn"}
    url: str = body["url"]
    return url


@asynccontextmanager
async def _connect(http: aiohttp.ClientSession, url: str, protocol: str = PROTOCOL) -> AsyncIterator[Client]:
    async with http.ws_connect(url, protocols=(protocol,)) as socket:
        assert socket.protocol == protocol
        yield Client(socket)


async def _meeting(http: aiohttp.ClientSession, api: str, *guests: str) -> str:
    body = {
        "title": "Planning",
        "startsAt": _tomorrow(10),
        "endsAt": _tomorrow(11),
        "participants": [{"userId": g, "role": "attendee"} for g in guests],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        assert reply.status == 201
        meeting_id: str = (await reply.json())["id"]
    return meeting_id


async def _rename(http: aiohttp.ClientSession, api: str, meeting_id: str, title: str) -> None:
    async with http.patch(
        f"{api}/meetings/{meeting_id}", json={"title": title}, headers=_auth("alice")
    ) as reply:
        assert reply.status == 200


async def test_negotiate_needs_a_caller(server: Server, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.api}/realtime/negotiate") as reply:
        assert reply.status == 401
        assert reply.content_type == "application/problem+json"


async def test_a_token_names_the_callers_meetings_and_no_role(
    server: Server, http: aiohttp.ClientSession
) -> None:
    meeting_id = await _meeting(http, server.api, "bob")
    other = await _meeting(http, server.api, "carol")
    url = await _negotiate(http, server.api, "bob")
    parts = urlsplit(url)
    assert parts.scheme == "ws"
    assert parts.path == "/client/hubs/meetings"
    token = parse_qs(parts.query)["access_token"][0]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["sub"] == "bob"
    assert claims["aud"] == f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert claims["webpubsub.group"] == [f"meeting.{meeting_id}"]  # not carol's meeting {other}
    assert other not in json.dumps(claims)
    assert "role" not in claims


async def test_bad_tokens_do_not_connect(server: Server, http: aiohttp.ClientSession) -> None:
    url = await _negotiate(http, server.api, "bob")
    base = url.split("?")[0]
    forged = jwt.encode(
        {"sub": "bob", "aud": base, "exp": 9999999999, "role": ["webpubsub.joinLeaveGroup"]}, "x" * 32
    )
    for bad in (base, f"{base}?access_token={forged}", url.replace("/hubs/meetings", "/hubs/other")):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with http.ws_connect(bad, protocols=(PROTOCOL,)):
                pass
        assert refused.value.status == 401


async def test_events_reach_the_meetings_group_and_clients_cannot_join_or_send(
    server: Server, http: aiohttp.ClientSession
) -> None:
    meeting_id = await _meeting(http, server.api, "bob")
    async with (
        _connect(http, await _negotiate(http, server.api, "bob")) as bob,
        _connect(http, await _negotiate(http, server.api, "carol")) as carol,
    ):
        connected = await bob.next()
        assert connected["type"] == "system"
        assert connected["event"] == "connected"
        assert connected["userId"] == "bob"
        assert connected["connectionId"]
        await carol.next()

        await _rename(http, server.api, meeting_id, "Planning, v2")
        message = await bob.next()
        assert {k: message[k] for k in ("type", "from", "group", "dataType")} == {
            "type": "message",
            "from": "group",
            "group": f"meeting.{meeting_id}",
            "dataType": "json",
        }
        event = message["data"]
        assert set(event) == {"id", "type", "time", "meetingId", "data"}
        assert event["type"] == "meeting.updated"
        assert event["meetingId"] == meeting_id
        assert event["data"]["title"] == "Planning, v2"
        assert event["data"]["version"] == 2
        await carol.nothing()

        # Receive-only: joining a group or sending to one is refused, with an ack saying so.
        group = f"meeting.{meeting_id}"
        await carol.socket.send_json({"type": "joinGroup", "group": group, "ackId": 1})
        ack = await carol.next()
        assert ack["type"] == "ack"
        assert ack["ackId"] == 1
        assert ack["success"] is False
        assert ack["error"]["name"] == "Forbidden"
        await bob.socket.send_json(
            {"type": "sendToGroup", "group": group, "ackId": 2, "dataType": "json", "data": {}}
        )
        ack = await bob.next()
        assert ack == {**ack, "type": "ack", "ackId": 2, "success": False}
        await _rename(http, server.api, meeting_id, "Planning, v3")
        assert (await bob.event())["data"]["title"] == "Planning, v3"
        await carol.nothing()


async def test_an_invited_user_follows_at_once_and_a_removed_one_hears_nothing_more(
    server: Server, http: aiohttp.ClientSession
) -> None:
    meeting_id = await _meeting(http, server.api)
    async with (
        _connect(http, await _negotiate(http, server.api, "alice")) as alice,
        _connect(http, await _negotiate(http, server.api, "bob"), protocol=RELIABLE) as bob,
    ):
        await alice.next()
        assert (await bob.next())["event"] == "connected"
        # bob's connection predates his invitation: it is put in the group when he is added.
        url = f"{server.api}/meetings/{meeting_id}/participants/bob"
        async with http.put(url, json={"role": "attendee"}, headers=_auth("alice")) as reply:
            assert reply.status == 200
        message = await bob.next()
        assert message["sequenceId"] == 1  # the reliable protocol numbers messages
        assert message["data"]["type"] == "participant.added"
        assert message["data"]["data"]["userId"] == "bob"
        assert message["data"]["data"]["role"] == "attendee"
        assert (await alice.event())["type"] == "participant.added"
        await bob.socket.send_json({"type": "sequenceAck", "sequenceId": 1})

        async with http.delete(url, headers=_auth("alice")) as reply:
            assert reply.status == 204
        removed = await bob.event()
        assert removed["type"] == "participant.removed"
        assert removed["data"]["userId"] == "bob"
        assert (await alice.event())["type"] == "participant.removed"

        await _rename(http, server.api, meeting_id, "Without bob")
        assert (await alice.event())["type"] == "meeting.updated"
        await bob.nothing()


async def test_cancelling_tells_everyone_then_nothing_more(
    server: Server, http: aiohttp.ClientSession
) -> None:
    meeting_id = await _meeting(http, server.api, "bob")
    async with _connect(http, await _negotiate(http, server.api, "bob")) as bob:
        await bob.next()
        async with http.delete(f"{server.api}/meetings/{meeting_id}", headers=_auth("alice")) as reply:
            assert reply.status == 204
        event = await bob.event()
        assert event["type"] == "meeting.cancelled"
        assert event["data"]["status"] == "cancelled"
        await asyncio.sleep(0)
        await bob.nothing()
    # A cancelled meeting is no longer among the groups a new connection follows.
    token = parse_qs(urlsplit(await _negotiate(http, server.api, "bob")).query)["access_token"][0]
    assert "webpubsub.group" not in jwt.decode(token, options={"verify_signature": False})
