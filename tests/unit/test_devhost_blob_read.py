"""The embedded store's read route on devhost's HTTP server: signed GET/HEAD of one blob, by ranges."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import azure.functions as func
import pytest

from devhost.blob_read import BlobReadRoute
from devhost.host import DevHost
from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.signing import Signer

SIGNER = Signer(b"k" * 32, UPLOAD_SIGNING_PURPOSE)
NAME = "m1/r1/source audio.webm"
DATA = bytes(range(256)) * 40  # 10 KiB
CHUNK = 1024


class ChunkSpy(LocalBlobStore):
    """Records the chunks the route streams (it must never read the blob whole)."""

    chunk_sizes: list[int]

    def read_stream(
        self, container: str, name: str, offset: int, length: int, *, chunk_size: int = 1024 * 1024
    ) -> AsyncIterator[bytes]:
        self.chunk_sizes = []
        inner = super().read_stream(container, name, offset, length, chunk_size=chunk_size)

        async def spied() -> AsyncIterator[bytes]:
            async for chunk in inner:
                self.chunk_sizes.append(len(chunk))
                yield chunk

        return spied()


@dataclass
class Rig:
    host: DevHost
    store: ChunkSpy
    root: Path

    def issuer(self, clock_offset: timedelta = timedelta(0)) -> LocalBlobStore:
        """The app's side: a store on the same root and key, handing out URLs to this host."""
        return LocalBlobStore(
            self.root, SIGNER, self.host.base_url, clock=lambda: datetime.now(UTC) + clock_offset
        )

    async def url(self, name: str = NAME, clock_offset: timedelta = timedelta(0)) -> str:
        target = await self.issuer(clock_offset).read_url("recordings", name, expires_in=timedelta(hours=1))
        return target.url


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    host = DevHost(func.FunctionApp(), port=0)
    root = tmp_path / "blobs"
    store = ChunkSpy(root, SIGNER, "http://unused")
    for route in BlobReadRoute(store, chunk_size=CHUNK).routes():
        host.http.add_system_route(route)
    await store.put("recordings", NAME, DATA, content_type="audio/webm")
    async with host:
        yield Rig(host, store, root)


async def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, Any, bytes]:
    async with aiohttp.ClientSession() as client, client.request(method, url, headers=headers) as answer:
        body = await answer.read()
        if answer.status >= 400:
            assert answer.content_type == "application/problem+json"
            assert "Traceback" not in body.decode()
        return answer.status, answer.headers, body


async def test_the_whole_blob_streams_a_chunk_at_a_time(rig: Rig) -> None:
    status, headers, body = await fetch(await rig.url())
    assert (status, body) == (200, DATA)
    assert headers["Content-Type"] == "audio/webm"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Length"] == str(len(DATA))
    info = await rig.store.info("recordings", NAME)
    assert info is not None
    assert headers["ETag"] == info.etag
    assert max(rig.store.chunk_sizes) <= CHUNK
    assert sum(rig.store.chunk_sizes) == len(DATA)


@pytest.mark.parametrize(
    ("range_", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=100-2099", 100, 2099),
        ("bytes=10000-", 10000, len(DATA) - 1),
        ("bytes=10000-99999", 10000, len(DATA) - 1),  # clipped at the end
        ("bytes=-240", len(DATA) - 240, len(DATA) - 1),  # a suffix
        ("bytes=-99999", 0, len(DATA) - 1),
        (" Bytes = 5 - 9 ", 5, 9),
    ],
)
async def test_one_range_is_206_with_its_content_range(rig: Rig, range_: str, start: int, end: int) -> None:
    status, headers, body = await fetch(await rig.url(), Range=range_)
    assert status == 206
    assert body == DATA[start : end + 1]
    assert headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert headers["Content-Length"] == str(end - start + 1)
    assert headers["Content-Type"] == "audio/webm"
    assert sum(rig.store.chunk_sizes) == end - start + 1


@pytest.mark.parametrize(
    "range_",
    ["bytes=0-1,5-6", "bytes=9-2", "items=0-1", "bytes=", "bytes=-", "bytes=a-b", "0-10"],
)
async def test_several_or_malformed_ranges_are_ignored(rig: Rig, range_: str) -> None:
    status, headers, body = await fetch(await rig.url(), Range=range_)
    assert (status, body) == (200, DATA)
    assert "Content-Range" not in headers


@pytest.mark.parametrize(
    "range_", [f"bytes={len(DATA)}-", f"bytes={len(DATA) + 5}-{len(DATA) + 9}", "bytes=-0"]
)
async def test_an_unsatisfiable_range_is_416(rig: Rig, range_: str) -> None:
    status, headers, body = await fetch(await rig.url(), Range=range_)
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert "past" in json.loads(body)["detail"]


async def test_an_empty_blob_has_no_range(rig: Rig) -> None:
    await rig.store.put("recordings", "empty.webm", b"", content_type="audio/webm")
    url = await rig.url("empty.webm")
    assert (await fetch(url))[::2] == (200, b"")
    status, headers, _ = await fetch(url, Range="bytes=0-")
    assert (status, headers["Content-Range"]) == (416, "bytes */0")


async def test_if_range_serves_a_range_only_of_the_same_version(rig: Rig) -> None:
    info = await rig.store.info("recordings", NAME)
    assert info is not None
    url = await rig.url()
    status, _, body = await fetch(url, Range="bytes=0-9", **{"If-Range": info.etag})
    assert (status, body) == (206, DATA[:10])
    status, _, body = await fetch(url, Range="bytes=0-9", **{"If-Range": '"another-version"'})
    assert (status, body) == (200, DATA)


async def test_head_answers_the_headers_without_the_body(rig: Rig) -> None:
    url = await rig.url()
    status, headers, body = await fetch(url, "HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(DATA))
    assert headers["Accept-Ranges"] == "bytes"
    status, headers, body = await fetch(url, "HEAD", Range="bytes=10-19")
    assert (status, body) == (206, b"")
    assert headers["Content-Range"] == f"bytes 10-19/{len(DATA)}"


async def test_refusals(rig: Rig) -> None:
    url = await rig.url()
    base, _, query = url.partition("?")
    other = base.replace("source%20audio.webm", "other.webm") + "?" + query
    assert (await fetch(other))[0] == 403  # another blob
    assert (await fetch(base))[0] == 403  # unsigned
    expired = await rig.url(clock_offset=timedelta(hours=-2))
    status, _, body = await fetch(expired)
    assert status == 403
    assert "expired" in json.loads(body)["detail"]
    upload = await rig.issuer().upload_target(
        "recordings", NAME, content_type="audio/webm", expires_in=timedelta(hours=1)
    )
    assert (await fetch(upload.url))[0] == 403  # an upload URL does not read
    missing = await rig.url("m1/r1/absent.webm")
    assert (await fetch(missing))[0] == 404
    bad = base.rsplit("/recordings/", 1)[0] + "/recordings/a/../b?" + query
    assert (await fetch(bad))[0] in (400, 403, 404)


async def test_a_blob_deleted_mid_way_ends_the_answer_short(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await rig.url()
    original = LocalBlobStore.info

    async def then_gone(self: LocalBlobStore, container: str, name: str) -> Any:
        found = await original(self, container, name)
        await self.delete(container, name)
        return found

    monkeypatch.setattr(ChunkSpy, "info", then_gone)
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        assert answer.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await answer.read()
