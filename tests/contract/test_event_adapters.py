"""The live-event adapters against local servers speaking what the real ones speak:

- WebPubSubHub (azure-messaging-webpubsubservice) against a local HTTPS server with Web PubSub's data-plane
  REST API (`:generateToken`, group and user sends, user-group membership), which checks the bearer token
  the SDK got for `https://webpubsub.azure.com/.default`;
- EventGridSink (azure-eventgrid) against a local HTTPS topic (`POST /api/events`, a CloudEvents batch),
  which checks the bearer token for `https://eventgrid.azure.net/.default` and refuses `aeg-sas-*` keys;
- WebhookSink against an aiohttp receiver: the CloudEvents validation handshake, retries, the signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, Self

import pytest
from aiohttp import web
from azure.core.credentials import AccessToken

from shared.adapters.eventgrid_sink import EventGridSink
from shared.adapters.webhook_sink import SIGNATURE_HEADER, WebhookSink
from shared.adapters.webpubsub_realtime import WebPubSubHub
from shared.ports import RealtimeError
from shared.realtime.events import HUB
from tests.https_site import HttpsSite

EVENT: dict[str, object] = {
    "id": "6f1c0e1e-0000-4000-8000-000000000001",
    "type": "recording.status",
    "time": "2026-11-25T10:00:00Z",
    "meetingId": "m-1",
    "data": {"recordingId": "r-1", "status": "transcribing", "stage": "transcript", "progress": 0.5},
}


class Credential:
    """An AsyncTokenCredential whose tokens the server accepts; it records the scopes asked for."""

    def __init__(self, valid: set[str]) -> None:
        self.valid = valid
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        token = f"token-{secrets.token_hex(6)}"
        self.valid.add(token)
        return AccessToken(token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class Service:
    """A local HTTPS server; `requests` are what it accepted, `valid` the bearer tokens it takes."""

    def __init__(self, name: str) -> None:
        self.site = HttpsSite(name)
        self.valid: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.fail_next: int | None = None

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.site.port}"

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.valid

    async def record(self, request: web.Request) -> web.StreamResponse:
        if any(h.lower().startswith("aeg-sas") for h in request.headers):
            return web.Response(status=401, text="local auth is disabled")
        if not self.authorized(request):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return web.json_response({"code": "Failed"}, status=status)
        body = await request.read()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": {k: request.query.getall(k) for k in request.query},
                "content_type": request.headers.get("Content-Type", ""),
                "body": json.loads(body) if body else None,
            }
        )
        if request.path == "/api/events":
            return web.Response(status=200)  # Event Grid: 200 with an empty body
        if request.path.endswith(":generateToken"):
            return web.json_response({"token": "service-signed-token"})
        return web.Response(status={"POST": 202, "PUT": 200, "DELETE": 204}[request.method])


@pytest.fixture
async def webpubsub() -> AsyncIterator[Service]:
    service = Service("webpubsub")
    app = web.Application()
    app.router.add_route("*", "/api/hubs/{tail:.*}", service.record)
    await service.site.start(app)
    yield service
    await service.site.stop()


@pytest.fixture
async def eventgrid() -> AsyncIterator[Service]:
    service = Service("eventgrid")
    app = web.Application()
    app.router.add_post("/api/events", service.record)
    await service.site.start(app)
    yield service
    await service.site.stop()


async def test_web_pubsub_hub_speaks_the_rest_api_keyless(webpubsub: Service) -> None:
    credential = Credential(webpubsub.valid)
    hub = WebPubSubHub(
        webpubsub.endpoint, HUB, credential, connection_verify=str(webpubsub.site.ca_file), retry_total=0
    )
    try:
        access = await hub.client_access("bob", ["meeting.m-1", "meeting.m-2"], timedelta(minutes=15))
        await hub.send_to_group("meeting.m-1", EVENT)
        await hub.send_to_user("bob", EVENT)
        await hub.add_user_to_group("meeting.m-1", "carol")
        await hub.remove_user_from_group("meeting.m-1", "bob")
    finally:
        await hub.aclose()
    assert credential.scopes
    assert all(s == ("https://webpubsub.azure.com/.default",) for s in credential.scopes)
    token, send, to_user, add, remove = webpubsub.requests
    assert token["method"] == "POST"
    assert token["path"] == f"/api/hubs/{HUB}/:generateToken"
    assert token["query"]["userId"] == ["bob"]
    assert token["query"]["group"] == ["meeting.m-1", "meeting.m-2"]
    assert token["query"]["minutesToExpire"] == ["15"]
    assert "role" not in token["query"]  # receive-only: no role at all
    assert access.url == (
        f"wss://127.0.0.1:{webpubsub.site.port}/client/hubs/{HUB}?access_token=service-signed-token"
    )
    assert (send["method"], send["path"]) == ("POST", f"/api/hubs/{HUB}/groups/meeting.m-1/:send")
    assert send["content_type"].startswith("application/json")
    assert send["body"] == EVENT
    assert (to_user["path"], to_user["body"]) == (f"/api/hubs/{HUB}/users/bob/:send", EVENT)
    assert (add["method"], add["path"]) == ("PUT", f"/api/hubs/{HUB}/users/carol/groups/meeting.m-1")
    assert (remove["method"], remove["path"]) == ("DELETE", f"/api/hubs/{HUB}/users/bob/groups/meeting.m-1")


async def test_web_pubsub_failures_are_the_ports_errors(webpubsub: Service) -> None:
    hub = WebPubSubHub(
        webpubsub.endpoint,
        HUB,
        Credential(set()),
        connection_verify=str(webpubsub.site.ca_file),
        retry_total=0,
    )
    try:
        with pytest.raises(RealtimeError, match="send to a group"):
            await hub.send_to_group("meeting.m-1", EVENT)  # a token the server does not take: 401
    finally:
        await hub.aclose()
    assert webpubsub.requests == []


async def test_event_grid_sink_posts_a_cloud_events_batch_keyless(eventgrid: Service) -> None:
    credential = Credential(eventgrid.valid)
    sink = EventGridSink(
        f"{eventgrid.endpoint}/api/events",
        credential,
        connection_verify=str(eventgrid.site.ca_file),
        retry_total=0,
    )
    try:
        await sink.publish([EVENT])
        eventgrid.fail_next = 400
        with pytest.raises(RealtimeError):
            await sink.publish([EVENT])
    finally:
        await sink.aclose()
    assert credential.scopes[0] == ("https://eventgrid.azure.net/.default",)
    [request] = eventgrid.requests
    assert request["content_type"].startswith("application/cloudevents-batch+json")
    [cloud] = request["body"]
    assert cloud["specversion"] == "1.0"
    assert (cloud["id"], cloud["type"], cloud["source"]) == (
        EVENT["id"],
        "recording.status",
        "/video-signaling",
    )
    assert cloud["subject"] == "meetings/m-1/recordings/r-1"
    assert cloud["time"].startswith("2026-11-25T10:00:00")
    assert cloud["data"] == EVENT


# --- local webhooks --------------------------------------------------------------------------------------


class Receiver:
    def __init__(self, *, allow: str | None = "*", failures: int = 0) -> None:
        self.allow = allow
        self.failures = failures
        self.handshakes: list[str] = []
        self.posts: list[tuple[bytes, dict[str, str]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("OPTIONS", "/hook", self.options)
        app.router.add_post("/hook", self.post)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def options(self, request: web.Request) -> web.Response:
        self.handshakes.append(request.headers.get("WebHook-Request-Origin", ""))
        headers = {"WebHook-Allowed-Origin": self.allow} if self.allow else {}
        return web.Response(status=200, headers=headers)

    async def post(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.posts.append((body, dict(request.headers)))
        if self.failures:
            self.failures -= 1
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.Response(status=200)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def test_webhooks_handshake_then_deliver_signed_cloud_events_with_retries() -> None:
    receiver = Receiver(allow="*", failures=2)
    await receiver.start()
    key = secrets.token_bytes(32)
    sink = WebhookSink([receiver.url], key, origin="devhost.local", retry_delays=(0.01, 0.01, 0.01))
    try:
        second = {**EVENT, "id": "second", "type": "summary.ready"}
        await sink.publish([EVENT, second])
        await asyncio.wait_for(sink.drain(), 10)
    finally:
        await sink.aclose()
        await receiver.stop()
    assert receiver.handshakes == ["devhost.local"]  # once, then remembered
    assert len(receiver.posts) == 4  # the first event failed twice, then both went through, in order
    bodies = [json.loads(body) for body, _ in receiver.posts]
    assert [b["id"] for b in bodies] == [EVENT["id"], EVENT["id"], EVENT["id"], "second"]
    for body, headers in receiver.posts:
        assert headers["Content-Type"].startswith("application/cloudevents+json")
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
    assert bodies[0]["specversion"] == "1.0"
    assert bodies[0]["data"] == EVENT


async def test_webhooks_send_nothing_to_a_receiver_that_does_not_agree() -> None:
    receiver = Receiver(allow="someone-else.example")
    await receiver.start()
    sink = WebhookSink([receiver.url], b"k" * 32, origin="devhost.local", retry_delays=(0.01,))
    try:
        await sink.publish([EVENT])
        await asyncio.wait_for(sink.drain(), 10)
    finally:
        await sink.aclose()
        await receiver.stop()
    assert receiver.handshakes == ["devhost.local", "devhost.local"]  # asked again on the retry
    assert receiver.posts == []


async def test_webhooks_give_up_after_their_retries_without_raising() -> None:
    receiver = Receiver(failures=100)
    await receiver.start()
    sink = WebhookSink([receiver.url], b"k" * 32, origin="devhost.local", retry_delays=(0.01, 0.01))
    try:
        await sink.publish([EVENT])
        await asyncio.wait_for(sink.drain(), 10)
    finally:
        await sink.aclose()
        await receiver.stop()
    assert len(receiver.posts) == 3
