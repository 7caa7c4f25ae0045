"""The real `@azure/web-pubsub-client` (Node, tests/node_realtime/) against devhost's endpoint: the
client the web app uses connects with the URL the app negotiates, in both JSON subprotocols, receives
its meetings' events, cannot join a group, and hears nothing more once removed."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import ROOT, Server

PACKAGE = ROOT / "tests" / "node_realtime"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        # Never a silent skip: `make test` needs Node.js anyway (the web client, the emulators).
        pytest.fail("node is not installed: the realtime test of @azure/web-pubsub-client needs Node.js 20+")
    if not (PACKAGE / "node_modules" / "@azure" / "web-pubsub-client").is_dir():
        pytest.fail(
            "tests/node_realtime is not installed: run `make test` (or `npm ci` in tests/node_realtime)"
        )
    return node


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def next(self, wait: float = 10.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), wait)
        assert line, "the Node client exited"
        message: dict[str, Any] = json.loads(line)
        return message

    async def nothing(self, seconds: float = 0.5) -> None:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, the Node client printed {message}")

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()


@asynccontextmanager
async def _client(api: str, user: str, protocol: str) -> AsyncIterator[NodeClient]:
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(PACKAGE / "client.mjs"),
        api,
        user,
        protocol,
        cwd=PACKAGE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


def _tomorrow(hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


@pytest.mark.parametrize("protocol", ["reliable", "json"])
async def test_the_js_client_follows_its_meetings(
    server: Server, http: aiohttp.ClientSession, protocol: str
) -> None:
    _node()
    api = server.api
    body = {
        "title": "Planning",
        "startsAt": _tomorrow(10),
        "endsAt": _tomorrow(11),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        meeting_id = (await reply.json())["id"]
    group = f"meeting.{meeting_id}"
    async with _client(api, "bob", protocol) as bob:
        connected = await bob.next()
        assert connected["kind"] == "connected"
        assert connected["userId"] == "bob"

        async with http.patch(
            f"{api}/meetings/{meeting_id}", json={"title": "v2"}, headers=_auth("alice")
        ) as reply:
            assert reply.status == 200
        message = await bob.next()
        assert message["kind"] == "group-message"
        assert message["group"] == group
        assert message["dataType"] == "json"
        assert message["data"]["type"] == "meeting.updated"
        assert message["data"]["data"]["title"] == "v2"

        await bob.send(f"join {group}-other")
        refused = await bob.next()
        assert refused == {"kind": "join-refused", "group": f"{group}-other", "error": "Forbidden"}

        async with http.delete(
            f"{api}/meetings/{meeting_id}/participants/bob", headers=_auth("alice")
        ) as reply:
            assert reply.status == 204
        removed = await bob.next()
        assert removed["kind"] == "server-message"  # sent to bob himself: he has left the group already
        assert removed["data"]["type"] == "participant.removed"
        assert removed["data"]["data"]["userId"] == "bob"
        async with http.patch(
            f"{api}/meetings/{meeting_id}", json={"title": "v3"}, headers=_auth("alice")
        ) as reply:
            assert reply.status == 200
        await bob.nothing()
        await bob.send("stop")
        assert (await bob.next())["kind"] == "stopped"
