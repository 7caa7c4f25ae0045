"""The README's walkthrough, over real HTTP against devhost serving the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from tests.e2e.conftest import Server


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


def _tomorrow(hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


async def test_walkthrough(server: Server, http: aiohttp.ClientSession) -> None:
    api = server.api
    async with http.get(f"{api}/health") as reply:
        assert reply.status == 200
        assert (await reply.json())["status"] == "ok"

    body = {
        "title": "Planning",
        "startsAt": _tomorrow(10),
        "endsAt": _tomorrow(11),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        assert reply.status == 201
        meeting = await reply.json()
        assert reply.headers["Location"] == f"{api}/meetings/{meeting['id']}"
    url = f"{api}/meetings/{meeting['id']}"

    for user, role in (("alice", "presenter"), ("bob", "attendee")):
        async with http.get(f"{api}/meetings", headers=_auth(user)) as reply:
            items = (await reply.json())["items"]
            assert [(i["id"], i["role"]) for i in items] == [(meeting["id"], role)]

    async with http.get(url, headers=_auth("alice")) as reply:
        etag = reply.headers["ETag"]
    patch = {"title": "Planning, v2"}
    async with http.patch(url, json=patch, headers={**_auth("alice"), "If-Match": etag}) as reply:
        assert reply.status == 200
    async with http.patch(url, json=patch, headers={**_auth("alice"), "If-Match": etag}) as reply:
        assert reply.status == 412
        assert reply.content_type == "application/problem+json"

    participant = f"{url}/participants/carol"
    async with http.put(participant, json={"role": "presenter"}, headers=_auth("alice")) as reply:
        assert reply.status == 200
        assert await reply.json() == {"userId": "carol", "role": "presenter", "displayName": None}
    async with http.get(url, headers=_auth("carol")) as reply:
        assert reply.status == 200
    async with http.delete(participant, headers=_auth("alice")) as reply:
        assert reply.status == 204
    async with http.get(url, headers=_auth("carol")) as reply:
        assert reply.status == 404

    async with http.get(url, headers=_auth("mallory")) as reply:
        assert reply.status == 404
    async with http.patch(url, json={"title": "x"}, headers=_auth("bob")) as reply:
        assert reply.status == 403
    async with http.delete(url, headers=_auth("alice")) as reply:
        assert reply.status == 204
    async with http.get(url, headers=_auth("bob")) as reply:
        assert (await reply.json())["status"] == "cancelled"


async def test_http_level_errors_are_problems(server: Server, http: aiohttp.ClientSession) -> None:
    api = server.api
    cases = [
        ("POST", f"{api}/meetings", b"{nope", "application/json", 400),
        ("POST", f"{api}/meetings", b"title=x", "application/x-www-form-urlencoded", 415),
        ("POST", f"{api}/meetings", b"{" + b" " * (70 * 1024) + b"}", "application/json", 413),
        ("GET", f"{api}/no/such/route", b"", None, 404),
        ("PUT", f"{api}/meetings/abc", b"", None, 405),
        ("GET", f"{api}/meetings", b"", None, 401),
    ]
    for method, url, data, content_type, status in cases:
        headers = {} if status == 401 else _auth("alice")
        if content_type:
            headers["Content-Type"] = content_type
        async with http.request(method, url, data=data, headers=headers) as reply:
            assert reply.status == status, (method, url)
            assert reply.content_type == "application/problem+json"
            problem = await reply.json()
            assert problem["status"] == status
            assert problem["detail"]
            if status == 405:
                assert reply.headers["Allow"] == "DELETE, GET, PATCH"


async def test_data_survives_a_restart_and_logs_carry_ids(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    first = Server(tmp_path / "data")
    body = {"title": "Kept", "startsAt": _tomorrow(9), "endsAt": _tomorrow(10)}
    async with http.post(f"{first.api}/meetings", json=body, headers=_auth("alice")) as reply:
        meeting_id = (await reply.json())["id"]
    async with http.get(f"{first.api}/meetings/{meeting_id}", headers=_auth("alice")) as reply:
        assert reply.status == 200
    assert first.stop() == 0, "Ctrl-C stops devhost cleanly"
    log = "".join(first.output)
    assert "Traceback" not in log
    get_lines = [line for line in log.splitlines() if f"GET /api/meetings/{meeting_id} 200" in line]
    assert len(get_lines) == 1
    assert "invocation=" in get_lines[0]
    assert f"meetingId={meeting_id}" in log
    assert "dev:alice" not in log, "credentials are never logged"

    second = Server(tmp_path / "data")
    try:
        async with http.get(f"{second.api}/meetings/{meeting_id}", headers=_auth("alice")) as reply:
            assert reply.status == 200
            assert (await reply.json())["title"] == "Kept"
    finally:
        assert second.stop() == 0


async def test_join_as_a_new_user_would(server: Server, http: aiohttp.ClientSession) -> None:
    api = server.api
    start = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    body = {
        "title": "Standup",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(minutes=15)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        meeting = await reply.json()
    join = f"{api}/meetings/{meeting['id']}/join"
    async with http.post(join, headers=_auth("bob")) as reply:
        assert reply.status == 200
        joined = await reply.json()
    assert joined["role"] == "attendee"
    assert joined["roomId"] == meeting["roomId"]
    lifetime = datetime.fromisoformat(joined["expiresOn"]) - datetime.now(UTC)
    assert timedelta(minutes=59) < lifetime <= timedelta(minutes=60), "at least ACS's 60-minute minimum"
    async with http.post(join, headers=_auth("mallory")) as reply:
        assert reply.status == 404
    async with http.delete(
        f"{api}/meetings/{meeting['id']}/participants/bob", headers=_auth("alice")
    ) as reply:
        assert reply.status == 204
    async with http.post(join, headers=_auth("bob")) as reply:
        assert reply.status == 404
