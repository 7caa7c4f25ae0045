"""The real app on `devhost serve` as the web client uses it: its page at `/`, its configuration, and
calls from a dev server on another origin (CORS), uploads included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import Server

WEB = "http://localhost:5173"
ALICE = {"Authorization": "Bearer dev:alice"}
INDEX = b"<!doctype html><title>video-signaling</title>"


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[Server]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    running = Server(tmp_path / "data", ALLOWED_ORIGINS=WEB, DEVHOST_WEB_DIST=str(dist))
    yield running
    if running.process.poll() is None:
        running.stop()


async def test_the_web_client_and_the_api_share_the_host(
    web_server: Server, http: aiohttp.ClientSession
) -> None:
    root = web_server.api.removesuffix("/api")
    async with http.get(f"{root}/meetings/some-deep-link") as reply:
        assert (reply.status, await reply.read()) == (200, INDEX)
        assert reply.headers["Cache-Control"] == "no-cache"
    async with http.get(f"{root}/assets/app-1234.js") as reply:
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    async with http.get(f"{web_server.api}/client-config") as reply:
        assert reply.status == 200
        config = await reply.json()
    assert (config["authMode"], config["calling"], config["entra"]) == ("dev", "local", None)
    # The API under /api is untouched: its own 404s, not the page.
    async with http.get(f"{web_server.api}/nowhere", headers=ALICE) as reply:
        assert reply.status == 404
        assert reply.content_type == "application/problem+json"


async def test_a_dev_server_on_another_origin_can_call_and_upload(
    web_server: Server, http: aiohttp.ClientSession
) -> None:
    api = web_server.api
    preflight = {
        "Origin": WEB,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with http.options(f"{api}/meetings", headers=preflight) as reply:
        assert reply.status == 204  # it was a 405 before devhost knew CORS
        assert reply.headers["Access-Control-Allow-Origin"] == WEB
    async with http.options(
        f"{api}/meetings", headers={**preflight, "Origin": "https://evil.example"}
    ) as reply:
        assert reply.status == 403
        assert "Access-Control-Allow-Origin" not in reply.headers

    starts = datetime.now(UTC) + timedelta(days=1)
    meeting = {
        "title": "Web",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
    }
    async with http.post(f"{api}/meetings", json=meeting, headers={**ALICE, "Origin": WEB}) as reply:
        assert reply.status == 201
        assert reply.headers["Access-Control-Allow-Origin"] == WEB
        exposed = reply.headers["Access-Control-Expose-Headers"]
        assert "ETag" in exposed
        assert "Location" in exposed
        meeting_id = (await reply.json())["id"]
    recording = {"fileName": "a.webm", "contentType": "audio/webm", "sizeBytes": 4}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=recording, headers=ALICE) as reply:
        upload = (await reply.json())["upload"]
    requested = ",".join(sorted(h.lower() for h in upload["headers"]))
    upload_preflight = {
        "Origin": WEB,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": requested,
    }
    async with http.options(upload["url"], headers=upload_preflight) as reply:
        assert reply.status == 204
        allowed = {h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")}
        assert set(requested.split(",")) <= allowed
    async with http.put(upload["url"], data=b"webm", headers={**upload["headers"], "Origin": WEB}) as reply:
        assert reply.status == 201
        assert reply.headers["Access-Control-Allow-Origin"] == WEB
