"""The embedded store's upload route on devhost's HTTP server, and the BlobCreated events it leads to."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import azure.functions as func
import pytest
from multidict import CIMultiDict
from yarl import URL

from devhost.blob_events import BlobNotifier, blob_created_event
from devhost.blob_runner import BlobTriggerRunner
from devhost.blob_upload import BlobUploadRoute
from devhost.event_grid_runner import DeliveryPolicy, EventGridRunner
from devhost.host import DevHost
from shared.adapters.local_blobs import UPLOAD_ROUTE, UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.ports import BlobInfo, UploadTarget
from shared.signing import Signer

SIGNER = Signer(b"k" * 32, UPLOAD_SIGNING_PURPOSE)
NAME = "m1/r1/source audio.webm"
DATA = bytes(range(256)) * 40  # 10 KiB
MAX_SIZE = 64 * 1024


class ChunkSpy(LocalBlobStore):
    """Records the chunk sizes an upload streams in (the route must never hand over the body whole)."""

    chunk_sizes: list[int]

    async def upload(
        self, container: str, name: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        self.chunk_sizes = []

        async def spied() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                self.chunk_sizes.append(len(chunk))
                yield chunk

        return await super().upload(container, name, spied(), content_type=content_type)


@dataclass
class Rig:
    host: DevHost
    store: ChunkSpy
    root: Path
    blob_runner: BlobTriggerRunner
    event_grid: EventGridRunner
    events: list[func.EventGridEvent]
    blobs: list[tuple[str, bytes]]

    def issuer(self, clock_offset: timedelta = timedelta(0)) -> LocalBlobStore:
        """The app's side: a store on the same root and key, handing out upload URLs to this host."""
        return LocalBlobStore(
            self.root, SIGNER, self.host.base_url, clock=lambda: datetime.now(UTC) + clock_offset
        )

    async def target(self, name: str = NAME, clock_offset: timedelta = timedelta(0)) -> UploadTarget:
        return await self.issuer(clock_offset).upload_target(
            "recordings", name, content_type="audio/webm", expires_in=timedelta(hours=1)
        )

    async def settled(self) -> None:
        await self.blob_runner.join()
        await self.event_grid.join()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    app = func.FunctionApp()
    events: list[func.EventGridEvent] = []
    blobs: list[tuple[str, bytes]] = []

    @app.event_grid_trigger(arg_name="event")
    async def recording_uploaded(event: func.EventGridEvent) -> None:
        events.append(event)

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    def on_blob(blob: func.InputStream) -> None:
        blobs.append((str(blob.name), blob.read()))

    host = DevHost(app, port=0)
    root = tmp_path / "blobs"
    store = ChunkSpy(root, SIGNER, "http://unused")
    blob_runner = BlobTriggerRunner(host.index, store, retry_delay=0.01)
    event_grid = EventGridRunner(host.index, policy=DeliveryPolicy(retry_delays=(0.01,)))
    notifier = BlobNotifier(
        store, blob_runner, event_grid, account="devhost", blob_endpoint=lambda: host.base_url + UPLOAD_ROUTE
    )
    host.add_runner(blob_runner)
    host.add_runner(event_grid)
    host.http.add_system_route(
        BlobUploadRoute(store, notifier.blob_landed, max_size=MAX_SIZE, chunk_size=4096).route()
    )
    async with host:
        yield Rig(host, store, root, blob_runner, event_grid, events, blobs)


async def send(
    method: str,
    url: str,
    data: bytes | AsyncIterator[bytes],
    headers: dict[str, str],
    **kwargs: Any,
) -> tuple[int, CIMultiDict[str], Any]:
    """Status, headers and JSON body (None when empty); an error must be problem+json, never a trace."""
    async with (
        aiohttp.ClientSession() as client,
        client.request(method, url, data=data, headers=headers, **kwargs) as response,
    ):
        text = await response.text()
        if response.status >= 400:
            assert response.content_type == "application/problem+json"
            assert "Traceback" not in text
        return response.status, CIMultiDict(response.headers), json.loads(text) if text else None


async def put(
    url: str, data: bytes | AsyncIterator[bytes], headers: dict[str, str], *, expect100: bool = False
) -> tuple[int, CIMultiDict[str], Any]:
    return await send("PUT", url, data, headers, expect100=expect100)


async def assert_nothing_stored(rig: Rig, name: str = NAME) -> None:
    await rig.settled()
    assert await rig.store.info("recordings", name) is None
    assert rig.events == []
    assert rig.blobs == []


async def test_a_signed_upload_is_stored_and_announced(rig: Rig) -> None:
    target = await rig.target()
    status, headers, body = await put(target.url, DATA, target.headers)
    assert (status, body) == (201, None)
    info = await rig.store.info("recordings", NAME)
    assert info is not None
    assert headers["ETag"] == info.etag
    assert (info.size, info.content_type) == (len(DATA), "audio/webm")
    assert await rig.store.get("recordings", NAME) == DATA
    # Streamed a chunk at a time, never whole.
    assert max(rig.store.chunk_sizes) <= 4096
    assert sum(rig.store.chunk_sizes) == len(DATA)

    await rig.settled()
    assert rig.blobs == [(f"recordings/{NAME}", DATA)]
    [event] = rig.events
    assert event.event_type == "Microsoft.Storage.BlobCreated"
    assert event.subject == f"/blobServices/default/containers/recordings/blobs/{NAME}"
    assert event.topic.endswith("/resourceGroups/devhost/providers/Microsoft.Storage/storageAccounts/devhost")
    data = event.get_json()
    assert (data["api"], data["blobType"]) == ("PutBlob", "BlockBlob")
    assert data["eTag"] == info.etag.strip('"')
    assert (data["contentLength"], data["contentType"]) == (len(DATA), "audio/webm")
    assert data["url"] == f"{rig.host.base_url}{UPLOAD_ROUTE}/recordings/{quote(NAME)}"


@pytest.mark.parametrize("case", ["expired", "tampered-signature", "other-blob", "other-content-type"])
async def test_a_bad_or_expired_signature_is_403_and_stores_nothing(rig: Rig, case: str) -> None:
    target = await rig.target()
    url, headers = target.url, dict(target.headers)
    if case == "expired":  # issued two hours ago, for one hour
        url = (await rig.target(clock_offset=timedelta(hours=-2))).url
    elif case == "tampered-signature":
        url = re.sub(r"sig=[^&]+", "sig=AAAA", url)
    elif case == "other-blob":
        url = url.replace("source%20audio", "other%20audio")
    else:
        headers["Content-Type"] = "video/mp4"
    status, _headers, problem = await put(url, DATA, headers)
    assert status == 403
    assert problem["status"] == 403
    assert problem["instance"].startswith(f"{UPLOAD_ROUTE}/recordings/")
    assert "expired" in problem["detail"] if case == "expired" else "does not match" in problem["detail"]
    await assert_nothing_stored(rig)
    await assert_nothing_stored(rig, "m1/r1/other audio.webm")


async def test_put_blob_header_and_length_rules(rig: Rig) -> None:
    target = await rig.target()
    no_type = {k: v for k, v in target.headers.items() if k != "x-ms-blob-type"}
    assert (await put(target.url, DATA, no_type))[0] == 400
    assert (await put(target.url, DATA, {**target.headers, "x-ms-blob-type": "AppendBlob"}))[0] == 400

    async def chunked() -> AsyncIterator[bytes]:
        yield DATA

    status, _headers, problem = await put(target.url, chunked(), target.headers)
    assert status == 411
    assert "Content-Length" in problem["detail"]
    status, _headers, problem = await put(target.url, b"x" * (MAX_SIZE + 1), target.headers)
    assert status == 413
    await assert_nothing_stored(rig)


async def test_expect_100_continue_is_refused_before_the_body(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    target = await rig.target(clock_offset=timedelta(hours=-2))
    with caplog.at_level(logging.INFO, logger="devhost"):
        status, _headers, _problem = await put(target.url, DATA, target.headers, expect100=True)
    assert status == 403
    assert " 403 " in caplog.text  # logged, though the route's handler never ran
    assert not hasattr(rig.store, "chunk_sizes")
    good = await rig.target()
    assert (await put(good.url, DATA, good.headers, expect100=True))[0] == 201


async def test_a_body_cut_short_stores_nothing(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    target = await rig.target()
    url = URL(target.url)
    with caplog.at_level(logging.INFO, logger="devhost"):
        _reader, writer = await asyncio.open_connection(url.host, url.port)
        head = (
            f"PUT {url.raw_path_qs} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: audio/webm\r\n"
            f"x-ms-blob-type: BlockBlob\r\nContent-Length: {len(DATA)}\r\n\r\n"
        )
        writer.write(head.encode() + DATA[:5000])
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        for _ in range(500):  # until the route has answered (to nobody)
            if "blob-upload" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert " 400 " in caplog.text
    assert hasattr(rig.store, "chunk_sizes"), "the upload had begun"
    assert list((rig.root / ".tmp").iterdir()) == []  # its temporary file is gone
    await assert_nothing_stored(rig)


def test_blob_created_event_shape() -> None:
    info = BlobInfo("a/b c.webm", 7, None, '"0x8D4BCC2E4835CD0"')
    first = blob_created_event("recordings", info, account="acct", url="http://s/recordings/a/b%20c.webm")
    second = blob_created_event("recordings", info, account="acct", url="http://s/recordings/a/b%20c.webm")
    assert set(first) == {
        "id", "topic", "subject", "eventType", "eventTime", "dataVersion", "metadataVersion", "data"
    }  # fmt: skip
    assert first["topic"] == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/devhost"
        "/providers/Microsoft.Storage/storageAccounts/acct"
    )
    assert first["subject"] == "/blobServices/default/containers/recordings/blobs/a/b c.webm"
    assert first["eventType"] == "Microsoft.Storage.BlobCreated"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first["eventTime"])
    data = first["data"]
    assert data["eTag"] == "0x8D4BCC2E4835CD0"
    assert (data["contentType"], data["contentLength"]) == ("application/octet-stream", 7)
    assert (data["api"], data["blobType"], data["url"]) == (
        "PutBlob",
        "BlockBlob",
        "http://s/recordings/a/b%20c.webm",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", data["sequencer"])
    assert second["data"]["sequencer"] > data["sequencer"]
    assert second["id"] != first["id"]
