"""One contract for every BlobStore adapter, then what only one adapter does.

The contract runs on the local store (files under tmp_path), on the Azure adapter against Azurite with the
well-known account key, and on the Azure adapter authenticated by a token credential against a second
Azurite started with `--oauth basic` over HTTPS: the managed-identity path, user-delegation SAS included.
(Azurite's basic OAuth checks a token's issuer, audience and lifetime, not its signature nor any role
assignment: that RBAC is right is for the deployment to prove, not these tests.)

The Azure stores use 64 KiB blocks and ranges here, so that small test data already goes through staged
blocks and multi-request downloads; the memory test uses the production sizes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import ssl
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import azure.functions as func
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError
from pydantic import SecretStr

from devhost.blob_read import BlobReadRoute
from devhost.blob_upload import BlobUploadRoute
from devhost.emulators import AZURITE_ACCOUNT, Azurite, OAuthAzurite, free_port
from devhost.host import DevHost
from shared.adapters.azure_blobs import API_VERSION, AzureBlobStore
from shared.adapters.azure_storage_auth import (
    AZURITE_CONNECTION_STRING,
    InvalidName,
    StorageRejected,
    StorageUnavailable,
    build_blob_store,
    connection_string,
    token_credential,
)
from shared.adapters.local_blobs import (
    READ_ROUTE,
    UPLOAD_ROUTE,
    UPLOAD_SIGNING_PURPOSE,
    LocalBlobStore,
    ReadDenied,
    UploadDenied,
)
from shared.config import ConfigurationError, Settings
from shared.ports import BlobNotFound, BlobStore, EtagMismatch, StoreError
from shared.signing import Signer
from tests.fakes import FixedClock

KiB = 1024
MiB = 1024 * KiB
SMALL = 64 * KiB  # the Azure stores' block and range size in the contract
BASE_URL = "http://127.0.0.1:7071"


# --- an Azurite that takes bearer tokens (managed identity) -------------------------------------------------


def _b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


class FakeTokenCredential:
    """An AsyncTokenCredential standing in for the managed identity: a JWT Azurite's basic OAuth accepts
    (issuer, audience, lifetime; it does not check signatures)."""

    tenant = "11111111-1111-1111-1111-111111111111"
    object_id = "22222222-2222-2222-2222-222222222222"

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        now = int(time.time())
        claims_set = {
            "aud": "https://storage.azure.com",
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "oid": self.object_id,
            "tid": self.tenant,
            "iat": now,
            "nbf": now - 60,
            "exp": now + 3600,
        }
        token = f"{_b64url({'alg': 'RS256', 'typ': 'JWT'})}.{_b64url(claims_set)}.c2lnbmF0dXJl"
        return AccessToken(token, now + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeTokenCredential:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


# --- the stores under contract ----------------------------------------------------------------------------


def upload_signer(key: bytes = b"k" * 32) -> Signer:
    return Signer(key, purpose=UPLOAD_SIGNING_PURPOSE)


@dataclass
class Backend:
    """A store plus how a plain HTTP client reaches its upload URLs (TLS trust for the HTTPS Azurite)."""

    store: BlobStore
    kind: str
    ssl: ssl.SSLContext | bool = True


def _local(request: pytest.FixtureRequest, tmp_path: Path, size: int) -> Backend:
    return Backend(LocalBlobStore(tmp_path / "blobs", upload_signer(), BASE_URL), "local")


def _azure_key(request: pytest.FixtureRequest, tmp_path: Path, size: int) -> Backend:
    azurite: Azurite = request.getfixturevalue("azurite_emulator")
    store = AzureBlobStore(connection_string=azurite.connection_string, block_size=size, get_size=size)
    return Backend(store, "azure-key")


def _azure_identity(request: pytest.FixtureRequest, tmp_path: Path, size: int) -> Backend:
    azurite: OAuthAzurite = request.getfixturevalue("oauth_azurite_emulator")
    store = AzureBlobStore(
        account_url=azurite.blob_url,
        credential=FakeTokenCredential(),
        block_size=size,
        get_size=size,
        **azurite.client_kwargs,
    )
    return Backend(store, "azure-identity", ssl.create_default_context(cafile=str(azurite.ca_file)))


# (request, tmp_path, block and range size of the Azure stores) -> a store
BackendFactory = Callable[[pytest.FixtureRequest, Path, int], Backend]
STORES = [
    pytest.param(_local, id="local"),
    pytest.param(_azure_key, id="azure-key"),
    pytest.param(_azure_identity, id="azure-identity"),
]
AZURE_STORES = STORES[1:]


@pytest.fixture(params=STORES)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    factory: BackendFactory = request.param
    made = factory(request, tmp_path, SMALL)
    yield made
    await made.store.aclose()


@pytest.fixture
def blobs(backend: Backend) -> BlobStore:
    return backend.store


@pytest.fixture
def container() -> str:
    # Unique per test: the Azurite instances are shared by the whole session.
    return f"c-{uuid.uuid4().hex[:16]}"


async def stream(data: bytes, chunk: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        await asyncio.sleep(0)
        yield data[start : start + chunk]


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


# --- round trips ------------------------------------------------------------------------------------------


async def test_put_then_get_and_info(blobs: BlobStore, container: str) -> None:
    info = await blobs.put(container, "m-1/r-1/transcript.json", b'{"a": 1}', content_type="application/json")
    assert (info.name, info.size, info.content_type) == ("m-1/r-1/transcript.json", 8, "application/json")
    assert info.etag
    assert await blobs.get(container, "m-1/r-1/transcript.json") == b'{"a": 1}'
    assert await blobs.info(container, "m-1/r-1/transcript.json") == info


async def test_content_type_defaults_to_octet_stream_as_in_azure(blobs: BlobStore, container: str) -> None:
    put = await blobs.put(container, "a", b"x")
    uploaded = await blobs.upload(container, "b", stream(b"y" * 10, 3))
    for name, info in (("a", put), ("b", uploaded)):
        assert info.content_type == "application/octet-stream"
        stored = await blobs.info(container, name)
        assert stored is not None
        assert stored.content_type == "application/octet-stream"


async def test_streamed_upload_and_download_in_bounded_chunks(blobs: BlobStore, container: str) -> None:
    data = os.urandom(5 * SMALL + 12_345)  # several blocks and ranges, the last one partial
    info = await blobs.upload(container, "rec/source.webm", stream(data, 7_777), content_type="video/webm")
    assert (info.size, info.content_type) == (len(data), "video/webm")
    stored = await blobs.info(container, "rec/source.webm")
    assert stored is not None
    assert (stored.size, stored.etag) == (len(data), info.etag)

    chunks = await collect(blobs.download(container, "rec/source.webm", chunk_size=10_000))
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= 10_000 for chunk in chunks)
    assert len(chunks) >= len(data) // 10_000

    whole = await collect(blobs.download(container, "rec/source.webm"))
    assert b"".join(whole) == data
    assert all(len(chunk) <= 4 * MiB for chunk in whole)
    assert await blobs.get(container, "rec/source.webm") == data


async def test_a_chunk_size_above_the_blob_yields_it_whole(blobs: BlobStore, container: str) -> None:
    await blobs.put(container, "small", b"0123456789")
    assert await collect(blobs.download(container, "small", chunk_size=1 * MiB)) == [b"0123456789"]
    assert await collect(blobs.download(container, "small", chunk_size=3)) == [b"012", b"345", b"678", b"9"]


async def test_empty_blobs(blobs: BlobStore, container: str) -> None:
    put = await blobs.put(container, "empty-put", b"")
    uploaded = await blobs.upload(container, "empty-upload", stream(b"", 1))
    for name, info in (("empty-put", put), ("empty-upload", uploaded)):
        assert info.size == 0
        assert await blobs.get(container, name) == b""
        assert await collect(blobs.download(container, name)) == []
        stored = await blobs.info(container, name)
        assert stored is not None
        assert stored.size == 0


async def test_upload_skips_empty_chunks(blobs: BlobStore, container: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"", b"ab", b"", b"c", b""):
            yield part

    info = await blobs.upload(container, "gaps", chunks())
    assert info.size == 3
    assert await blobs.get(container, "gaps") == b"abc"


async def test_names_with_unicode_spaces_and_folders(blobs: BlobStore, container: str) -> None:
    name = "recordings/m 1/é ü/source (1).webm"
    await blobs.put(container, name, b"data")
    assert await blobs.get(container, name) == b"data"
    assert await blobs.delete_prefix(container, "recordings/m 1/") == 1


# --- replacing --------------------------------------------------------------------------------------------


async def test_put_replaces_bytes_content_type_and_etag(blobs: BlobStore, container: str) -> None:
    first = await blobs.put(container, "summary.md", b"one", content_type="text/plain")
    second = await blobs.put(container, "summary.md", b"second", content_type="text/markdown")
    assert second.etag != first.etag
    assert await blobs.get(container, "summary.md") == b"second"
    assert await blobs.info(container, "summary.md") == second
    assert second.size == 6
    assert second.content_type == "text/markdown"


async def test_upload_replaces_an_existing_blob(blobs: BlobStore, container: str) -> None:
    first = await blobs.upload(container, "source", stream(b"a" * (3 * SMALL), 1000))
    second = await blobs.upload(container, "source", stream(b"b" * 10, 3))
    assert second.etag != first.etag
    assert await blobs.get(container, "source") == b"b" * 10
    assert await blobs.info(container, "source") == second


async def test_a_failed_upload_leaves_the_previous_blob(blobs: BlobStore, container: str) -> None:
    before = await blobs.put(container, "source", b"old bytes")

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"n" * SMALL  # enough for the Azure store to have staged blocks
        raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError, match="went away"):
        await blobs.upload(container, "source", broken())
    assert await blobs.get(container, "source") == b"old bytes"
    assert await blobs.info(container, "source") == before


async def test_readers_never_see_half_an_upload(blobs: BlobStore, container: str) -> None:
    before = await blobs.put(container, "source", b"old")
    halfway, go_on = asyncio.Event(), asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"n" * SMALL
        halfway.set()
        await go_on.wait()
        yield b"end"

    upload = asyncio.create_task(blobs.upload(container, "source", slow()))
    await asyncio.wait_for(halfway.wait(), 10)
    assert await blobs.get(container, "source") == b"old"
    assert await blobs.info(container, "source") == before
    go_on.set()
    after = await upload
    assert await blobs.get(container, "source") == b"n" * (3 * SMALL) + b"end"
    assert await blobs.info(container, "source") == after


async def test_a_download_never_mixes_two_versions(blobs: BlobStore, container: str) -> None:
    """Replaced mid-download: the old bytes to the end (local), or EtagMismatch (Azure), never a mix."""
    old = b"o" * (4 * SMALL)
    await blobs.put(container, "source", old)
    chunks = blobs.download(container, "source", chunk_size=SMALL)
    received = [await anext(chunks)]
    await blobs.put(container, "source", b"n" * (4 * SMALL))
    try:
        received += [chunk async for chunk in chunks]
    except EtagMismatch:
        assert not isinstance(blobs, LocalBlobStore)  # the local store keeps streaming the old file
        return
    assert isinstance(blobs, LocalBlobStore)  # the Azure store's second range request sees the new etag
    assert b"".join(received) == old


# --- missing and deleting ---------------------------------------------------------------------------------


async def test_a_missing_blob(blobs: BlobStore, container: str) -> None:
    await blobs.put(container, "present", b"x")
    for where in (container, f"{container}-none"):  # a missing blob, then a missing container
        assert await blobs.info(where, "absent") is None
        with pytest.raises(BlobNotFound):
            await blobs.get(where, "absent")
        with pytest.raises(BlobNotFound):
            await collect(blobs.download(where, "absent"))


async def test_a_folder_is_not_a_blob(blobs: BlobStore, container: str) -> None:
    await blobs.put(container, "m-1/r-1/source.webm", b"x")
    assert await blobs.info(container, "m-1/r-1") is None
    with pytest.raises(BlobNotFound):
        await blobs.get(container, "m-1")
    await blobs.delete(container, "m-1")
    assert await blobs.get(container, "m-1/r-1/source.webm") == b"x"


async def test_read_range_reads_what_is_there(blobs: BlobStore, container: str) -> None:
    data = bytes(range(256)) * 40
    await blobs.put(container, "r/a.bin", data)
    assert await blobs.read_range(container, "r/a.bin", 0, 10) == data[:10]
    assert await blobs.read_range(container, "r/a.bin", 5000, 1000) == data[5000:6000]
    assert await blobs.read_range(container, "r/a.bin", len(data) - 3, 100) == data[-3:]
    assert await blobs.read_range(container, "r/a.bin", len(data), 100) == b""
    assert await blobs.read_range(container, "r/a.bin", len(data) + 50, 100) == b""
    assert await blobs.read_range(container, "r/a.bin", 7, 0) == b""
    with pytest.raises(BlobNotFound):
        await blobs.read_range(container, "r/missing.bin", 0, 10)
    with pytest.raises(BlobNotFound):
        await blobs.read_range(container, "r/missing.bin", 0, 0)


async def test_list_blobs_by_prefix_in_name_order(blobs: BlobStore, container: str) -> None:
    assert [b async for b in blobs.list_blobs(container)] == []  # also: a container never written
    for name in ("m/r2/b.json", "m/r1/work/x.json", "m/r1/a.json", "m/r10/c.json", "other/z"):
        await blobs.put(container, name, name.encode(), content_type="application/json")
    listed = [b async for b in blobs.list_blobs(container, prefix="m/r1/")]
    assert [b.name for b in listed] == ["m/r1/a.json", "m/r1/work/x.json"]
    assert [b.size for b in listed] == [len(b"m/r1/a.json"), len(b"m/r1/work/x.json")]
    assert all(b.content_type == "application/json" for b in listed)
    info = await blobs.info(container, "m/r1/a.json")
    assert info is not None
    assert listed[0].etag == info.etag
    everything = [b.name async for b in blobs.list_blobs(container)]
    assert everything == sorted(everything)
    assert len(everything) == 5
    assert [b async for b in blobs.list_blobs(container, prefix="nothing/")] == []


async def test_delete_is_idempotent(blobs: BlobStore, container: str) -> None:
    await blobs.put(container, "a", b"x")
    await blobs.delete(container, "a")
    assert await blobs.info(container, "a") is None
    await blobs.delete(container, "a")
    await blobs.delete(f"{container}-none", "a")
    with pytest.raises(BlobNotFound):
        await blobs.get(container, "a")


async def test_delete_prefix_counts_what_it_deleted(blobs: BlobStore, container: str) -> None:
    for name in ("m-1/r-1/source.webm", "m-1/r-1/transcript.json", "m-1/r-2/source.webm", "m-10/x", "m-2/y"):
        await blobs.put(container, name, b"x")
    assert await blobs.delete_prefix(container, "m-1/r-1/") == 2
    assert await blobs.delete_prefix(container, "m-1/") == 1
    assert await blobs.delete_prefix(container, "m-1/") == 0
    assert await blobs.info(container, "m-10/x") is not None
    assert await blobs.delete_prefix(container, "m-") == 2
    assert await blobs.delete_prefix(f"{container}-none", "") == 0


async def test_delete_prefix_matches_partial_names(blobs: BlobStore, container: str) -> None:
    for name in ("art/t.json", "art/t.vtt", "art/summary.md", "artifact"):
        await blobs.put(container, name, b"x")
    assert await blobs.delete_prefix(container, "art/t.") == 2
    assert await blobs.delete_prefix(container, "") == 2


# --- names ------------------------------------------------------------------------------------------------

BAD_BLOB_NAMES = ["", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", "a/..", "x.", "a\\b", "nul\x00", "\n"]
BAD_CONTAINERS = ["Upper", "ab", "-abc", "abc-", "a--b", "a_b", "../x", "x" * 64]


@pytest.mark.parametrize("name", BAD_BLOB_NAMES)
async def test_bad_blob_names_are_refused_by_every_call(blobs: BlobStore, container: str, name: str) -> None:
    with pytest.raises(InvalidName):
        await blobs.put(container, name, b"x")
    with pytest.raises(InvalidName):
        await blobs.upload(container, name, stream(b"x", 1))
    with pytest.raises(InvalidName):
        await blobs.get(container, name)
    with pytest.raises(InvalidName):
        await blobs.info(container, name)
    with pytest.raises(InvalidName):
        await blobs.delete(container, name)
    with pytest.raises(InvalidName):
        blobs.download(container, name)
    with pytest.raises(InvalidName):
        await blobs.upload_target(container, name, content_type="video/webm", expires_in=timedelta(minutes=5))
    with pytest.raises(InvalidName):
        await blobs.read_url(container, name, expires_in=timedelta(minutes=5))


@pytest.mark.parametrize("bad", BAD_CONTAINERS)
async def test_bad_container_names_are_refused(blobs: BlobStore, bad: str) -> None:
    with pytest.raises(InvalidName):
        await blobs.put(bad, "a", b"x")
    with pytest.raises(InvalidName):
        await blobs.get(bad, "a")
    with pytest.raises(InvalidName):
        await blobs.delete_prefix(bad, "")


def test_invalid_name_is_a_store_error_and_a_value_error() -> None:
    assert issubclass(InvalidName, StoreError)
    assert issubclass(InvalidName, ValueError)


# --- upload targets ---------------------------------------------------------------------------------------


async def test_upload_target_shape(blobs: BlobStore, container: str) -> None:
    before = datetime.now(UTC)
    target = await blobs.upload_target(
        container, "m-1/r-1/source.webm", content_type="video/webm", expires_in=timedelta(minutes=15)
    )
    assert target.method == "PUT"
    assert target.headers == {"x-ms-blob-type": "BlockBlob", "Content-Type": "video/webm"}
    assert f"/{container}/m-1/r-1/source.webm?" in target.url
    assert target.expires_on.tzinfo is not None
    assert before + timedelta(minutes=15) - timedelta(seconds=1) <= target.expires_on
    assert target.expires_on <= datetime.now(UTC) + timedelta(minutes=15)


@pytest.mark.parametrize("expires_in", [timedelta(0), timedelta(seconds=-1), timedelta(days=7, seconds=1)])
async def test_upload_target_lifetime_is_bounded(
    blobs: BlobStore, container: str, expires_in: timedelta
) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        await blobs.upload_target(container, "a", content_type="video/webm", expires_in=expires_in)


# --- read URLs ---------------------------------------------------------------------------------------------


@pytest.fixture(params=STORES)
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A store whose read URLs a plain HTTP client can follow: the local one behind devhost's blob routes
    (as `make run` serves them), the Azure ones on Azurite."""
    factory: BackendFactory = request.param
    made = factory(request, tmp_path, SMALL)
    if not isinstance(made.store, LocalBlobStore):
        yield made
        await made.store.aclose()
        return
    host = DevHost(func.FunctionApp(), port=0)
    # Routes bound to a store on the same root and key: the URLs name the host's address, known once it runs.
    routed = LocalBlobStore(tmp_path / "blobs", upload_signer(), BASE_URL)
    for route in BlobReadRoute(routed, chunk_size=SMALL).routes():
        host.http.add_system_route(route)

    async def landed(container: str, name: str, info: Any = None) -> None:
        return None

    host.http.add_system_route(BlobUploadRoute(routed, landed).route())
    async with host:
        yield Backend(LocalBlobStore(tmp_path / "blobs", upload_signer(), host.base_url), "local")
    await routed.aclose()


async def test_read_url_shape(blobs: BlobStore, container: str) -> None:
    before = datetime.now(UTC)
    target = await blobs.read_url(container, "m-1/r-1/source.webm", expires_in=timedelta(hours=1))
    assert f"/{container}/m-1/r-1/source.webm?" in target.url
    assert target.expires_on.tzinfo is not None
    assert before + timedelta(hours=1) - timedelta(seconds=1) <= target.expires_on
    assert target.expires_on <= datetime.now(UTC) + timedelta(hours=1)


@pytest.mark.parametrize("expires_in", [timedelta(0), timedelta(seconds=-1), timedelta(days=7, seconds=1)])
async def test_read_url_lifetime_is_bounded(blobs: BlobStore, container: str, expires_in: timedelta) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        await blobs.read_url(container, "a", expires_in=expires_in)


async def test_a_read_url_reads_one_blob_by_ranges_and_nothing_else(served: Backend, container: str) -> None:
    store = served.store
    data = bytes(range(256)) * 1000  # 250 KiB: several of the Azure stores' 64 KiB ranges
    await store.put(container, "m-1/source.wav", data, content_type="audio/wav")
    await store.put(container, "m-1/other.wav", b"other", content_type="audio/wav")
    target = await store.read_url(container, "m-1/source.wav", expires_in=timedelta(minutes=10))
    base, _, sas = target.url.partition("?")
    other_blob = f"{base.removesuffix('/source.wav')}/other.wav?{sas}"
    size = len(data)
    async with aiohttp.ClientSession() as http:

        async def get(method: str = "GET", url: str = target.url, **headers: str) -> tuple[int, Any, bytes]:
            async with http.request(method, url, headers=headers, ssl=served.ssl) as answer:
                return answer.status, answer.headers, await answer.read()

        status, headers, body = await get()
        assert (status, body) == (200, data)
        assert headers["Content-Type"] == "audio/wav"
        assert headers["Accept-Ranges"] == "bytes"
        assert int(headers["Content-Length"]) == size

        status, headers, body = await get(Range="bytes=100000-100099")
        assert (status, body) == (206, data[100000:100100])
        assert headers["Content-Range"] == f"bytes 100000-100099/{size}"
        status, headers, body = await get(Range="bytes=200000-")
        assert (status, body) == (206, data[200000:])
        assert headers["Content-Range"] == f"bytes 200000-{size - 1}/{size}"
        # (Azure takes `bytes=a-b` and `bytes=a-` only, no suffix `bytes=-n`: players use those two.)
        status, headers, body = await get(Range=f"bytes={size - 5}-{size + 1000}")  # clipped at the end
        assert (status, body) == (206, data[-5:])
        status, headers, _ = await get(Range=f"bytes={size}-")
        if served.kind == "local":
            # Azure answers 416 too (as its Range documentation says); Azurite answers 206, so its
            # answer proves nothing here.
            assert status == 416
            assert headers["Content-Range"] == f"bytes */{size}"

        status, headers, body = await get("HEAD")
        assert (status, body) == (200, b"")
        assert int(headers["Content-Length"]) == size
        assert headers["Content-Type"] == "audio/wav"

        # Read only, and this blob only.
        assert (await get(url=other_blob))[0] == 403
        for method in ("PUT", "DELETE"):
            async with http.request(
                method, target.url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, ssl=served.ssl
            ) as answer:
                assert answer.status in (403, 404, 405), method
        if served.kind != "local":  # (the local store has no list route to refuse)
            list_url = f"{base.removesuffix('/m-1/source.wav')}?restype=container&comp=list&{sas}"
            assert (await get(url=list_url))[0] == 403
        # And an upload URL does not read.
        upload = await store.upload_target(
            container, "m-1/source.wav", content_type="audio/wav", expires_in=timedelta(minutes=5)
        )
        assert (await get(url=upload.url))[0] == 403
    assert await store.get(container, "m-1/source.wav") == data


async def test_a_read_url_of_a_missing_blob_reads_as_404(served: Backend, container: str) -> None:
    await served.store.put(container, "present", b"x")  # the container exists; the blob does not
    target = await served.store.read_url(container, "absent.wav", expires_in=timedelta(minutes=5))
    async with aiohttp.ClientSession() as http, http.get(target.url, ssl=served.ssl) as answer:
        assert answer.status == 404


@pytest.mark.parametrize("factory", STORES)
async def test_bounded_memory_for_a_64_mib_blob(
    factory: BackendFactory, request: pytest.FixtureRequest, tmp_path: Path, container: str
) -> None:
    """Neither direction holds the blob: traced memory stays at a few blocks, far below its 64 MiB
    (production sizes: 4 MiB blocks and ranges; two blocks in flight, one being cut, one filling)."""
    made = factory(request, tmp_path, 4 * MiB)
    store = made.store
    produced = 0

    async def generated() -> AsyncIterator[bytes]:
        nonlocal produced
        for i in range(64):
            produced += MiB
            yield bytes([i]) * MiB

    # Warm up first: the SDK's modules load on first use, and their code would count against the peak.
    await store.upload(container, "warm-up", stream(b"w" * 10, 5))
    await collect(store.download(container, "warm-up"))
    tracemalloc.start()
    try:
        info = await store.upload(container, "big", generated())
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        size = 0
        async for chunk in store.download(container, "big", chunk_size=MiB):
            size += len(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await store.aclose()
    assert info.size == size == produced == 64 * MiB
    # Measured: local ~2 MiB; Azure over HTTP ~17 MiB; over HTTPS ~25 MiB, as asyncio's TLS layer keeps its
    # own copy of each block in flight. Holding the blob would be 64 MiB and more.
    bound = 32 * MiB if made.kind == "azure-identity" else 24 * MiB
    assert upload_peak < bound, f"upload peaked at {upload_peak / MiB:.1f} MiB"
    assert download_peak < bound, f"download peaked at {download_peak / MiB:.1f} MiB"


# --- local store only -------------------------------------------------------------------------------------


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    return tmp_path / "root" / "blobs"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))


@pytest.fixture
async def local(local_root: Path, clock: FixedClock) -> AsyncIterator[LocalBlobStore]:
    store = LocalBlobStore(local_root, upload_signer(), BASE_URL + "/", clock=clock)
    yield store
    await store.aclose()


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*") if p.is_file()}


TRAVERSALS = ["../secret", "../../secret", "a/../../secret", "/etc/passwd", "..", "a/..", "..\\secret"]


@pytest.mark.parametrize("name", TRAVERSALS)
async def test_local_path_traversal_is_impossible(local: LocalBlobStore, tmp_path: Path, name: str) -> None:
    secret = tmp_path / "root" / "secret"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(b"keep out")
    await local.put("recordings", "inside", b"x")
    before = files_under(tmp_path)
    with pytest.raises(InvalidName):
        await local.put("recordings", name, b"overwritten")
    with pytest.raises(InvalidName):
        await local.upload("recordings", name, stream(b"overwritten", 4))
    with pytest.raises(InvalidName):
        await local.get("recordings", name)
    with pytest.raises(InvalidName):
        await local.delete("recordings", name)
    with pytest.raises(InvalidName):
        await local.put("..", "secret", b"overwritten")
    assert await local.delete_prefix("recordings", name) == 0
    assert await local.delete_prefix("recordings", "../") == 0
    assert secret.read_bytes() == b"keep out"
    assert files_under(tmp_path) == before


async def test_local_files_are_laid_out_as_documented(local: LocalBlobStore, local_root: Path) -> None:
    await local.put("recordings", "m-1/r-1/source.webm", b"bytes")
    assert (local_root / "recordings" / "m-1" / "r-1" / "source.webm").read_bytes() == b"bytes"
    # Nothing else inside the container: sidecars and temp files live apart.
    assert files_under(local_root / "recordings") == {local_root / "recordings/m-1/r-1/source.webm"}
    assert list((local_root / ".tmp").iterdir()) == []


async def test_local_failed_uploads_leave_no_temp_files(local: LocalBlobStore, local_root: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"half"
        raise RuntimeError("gone")

    with pytest.raises(RuntimeError):
        await local.upload("recordings", "a", broken())
    assert list((local_root / ".tmp").iterdir()) == []
    assert await local.info("recordings", "a") is None


async def test_local_a_blob_and_a_folder_of_the_same_name_clash(local: LocalBlobStore) -> None:
    await local.put("recordings", "a/b", b"1")
    with pytest.raises(InvalidName, match="clashes"):
        await local.put("recordings", "a", b"2")
    with pytest.raises(InvalidName, match="clashes"):
        await local.put("recordings", "a/b/c", b"3")
    assert await local.get("recordings", "a/b") == b"1"
    await local.delete("recordings", "a/b")  # empty folders go with it: `a` may now be a blob
    await local.put("recordings", "a", b"2")
    assert await local.get("recordings", "a") == b"2"


async def test_local_a_file_without_sidecar_still_reads_as_a_blob(
    local: LocalBlobStore, local_root: Path
) -> None:
    (local_root / "recordings" / "m-1").mkdir(parents=True)
    (local_root / "recordings" / "m-1" / "dropped.webm").write_bytes(b"by hand")
    info = await local.info("recordings", "m-1/dropped.webm")
    assert info is not None
    assert (info.size, info.content_type) == (7, "application/octet-stream")
    assert await local.get("recordings", "m-1/dropped.webm") == b"by hand"
    assert await local.delete_prefix("recordings", "m-1/") == 1


async def test_local_blobs_survive_a_new_store(local: LocalBlobStore, local_root: Path) -> None:
    info = await local.put("recordings", "a", b"x", content_type="video/webm")
    again = LocalBlobStore(local_root, upload_signer(), BASE_URL)
    assert await again.info("recordings", "a") == info
    assert await again.get("recordings", "a") == b"x"


async def test_local_a_download_keeps_the_version_it_started(local: LocalBlobStore) -> None:
    await local.put("recordings", "a", b"o" * 100)
    chunks = local.download("recordings", "a", chunk_size=10)
    first = await anext(chunks)
    await local.put("recordings", "a", b"n" * 100)
    assert first + b"".join([c async for c in chunks]) == b"o" * 100


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def test_local_upload_url_is_a_signed_devhost_url(local: LocalBlobStore, clock: FixedClock) -> None:
    target = await local.upload_target(
        "recordings", "m 1/r-1/source.webm", content_type="video/webm", expires_in=timedelta(minutes=10)
    )
    parts = urlsplit(target.url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
    assert parts.path == f"{UPLOAD_ROUTE}/recordings/m%201/r-1/source.webm"
    query = _query(target.url)
    assert set(query) == {"se", "sig"}
    assert query["se"] == "2026-11-25T09:10:00Z"
    assert target.expires_on == clock.now + timedelta(minutes=10)
    local.verify_upload("recordings", "m 1/r-1/source.webm", query, "video/webm")
    local.verify_upload("recordings", "m 1/r-1/source.webm", query, "video/webm", method="put")


async def test_local_upload_url_refusals(local: LocalBlobStore, local_root: Path, clock: FixedClock) -> None:
    target = await local.upload_target(
        "recordings", "m-1/source.webm", content_type="video/webm", expires_in=timedelta(minutes=10)
    )
    query = _query(target.url)
    later = (clock.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    flipped = query["sig"][:-1] + ("A" if query["sig"][-1] != "A" else "B")
    refused: list[tuple[str, str, dict[str, str], str | None, str]] = [
        ("recordings", "m-1/other.webm", query, "video/webm", "PUT"),  # another blob
        ("artifacts", "m-1/source.webm", query, "video/webm", "PUT"),  # another container
        ("recordings", "m-1/source.webm", query, "text/html", "PUT"),  # another content type
        ("recordings", "m-1/source.webm", query, None, "PUT"),  # no content type
        ("recordings", "m-1/source.webm", query, "video/webm", "GET"),  # another method
        ("recordings", "m-1/source.webm", query, "video/webm", "DELETE"),
        ("recordings", "m-1/source.webm", {**query, "sig": flipped}, "video/webm", "PUT"),  # tampered
        ("recordings", "m-1/source.webm", {**query, "se": later}, "video/webm", "PUT"),  # extended
        ("recordings", "m-1/source.webm", {"se": query["se"]}, "video/webm", "PUT"),  # no signature
        ("recordings", "m-1/source.webm", {"sig": query["sig"]}, "video/webm", "PUT"),  # no expiry
    ]
    for container, name, params, content_type, method in refused:
        with pytest.raises(UploadDenied):
            local.verify_upload(container, name, params, content_type, method=method)
    # Signers with another key, or the same key for another purpose, made no valid URL.
    for signer in (upload_signer(b"x" * 32), Signer(b"k" * 32, purpose="continuation")):
        other = LocalBlobStore(local_root, signer, BASE_URL, clock=clock)
        with pytest.raises(UploadDenied, match="signature"):
            other.verify_upload("recordings", "m-1/source.webm", query, "video/webm")
    local.verify_upload("recordings", "m-1/source.webm", query, "video/webm")
    clock.advance(timedelta(minutes=10) - timedelta(seconds=1))
    local.verify_upload("recordings", "m-1/source.webm", query, "video/webm")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(UploadDenied, match="expired"):
        local.verify_upload("recordings", "m-1/source.webm", query, "video/webm")


async def test_local_read_url_refusals(local: LocalBlobStore, local_root: Path, clock: FixedClock) -> None:
    target = await local.read_url("recordings", "m 1/source.webm", expires_in=timedelta(hours=1))
    parts = urlsplit(target.url)
    assert parts.path == f"{READ_ROUTE}/recordings/m%201/source.webm"
    query = _query(target.url)
    assert set(query) == {"se", "sig"}
    assert target.expires_on == clock.now + timedelta(hours=1)
    local.verify_read("recordings", "m 1/source.webm", query)
    later = (clock.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    flipped = query["sig"][:-1] + ("A" if query["sig"][-1] != "A" else "B")
    for container, name, params in (
        ("recordings", "m 1/other.webm", query),  # another blob
        ("artifacts", "m 1/source.webm", query),  # another container
        ("recordings", "m 1/source.webm", {**query, "sig": flipped}),  # tampered
        ("recordings", "m 1/source.webm", {**query, "se": later}),  # extended
        ("recordings", "m 1/source.webm", {"se": query["se"]}),  # no signature
    ):
        with pytest.raises(ReadDenied):
            local.verify_read(container, name, params)
    # A read URL does not write, and an upload URL of the same blob and expiry does not read.
    with pytest.raises(UploadDenied):
        local.verify_upload("recordings", "m 1/source.webm", query, "video/webm")
    upload = await local.upload_target(
        "recordings", "m 1/source.webm", content_type="video/webm", expires_in=timedelta(hours=1)
    )
    assert _query(upload.url)["se"] == query["se"]
    with pytest.raises(ReadDenied, match="signature"):
        local.verify_read("recordings", "m 1/source.webm", _query(upload.url))
    # Another key made no valid URL.
    other = LocalBlobStore(local_root, upload_signer(b"x" * 32), BASE_URL, clock=clock)
    with pytest.raises(ReadDenied, match="signature"):
        other.verify_read("recordings", "m 1/source.webm", query)
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    local.verify_read("recordings", "m 1/source.webm", query)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(ReadDenied, match="expired"):
        local.verify_read("recordings", "m 1/source.webm", query)


# --- Azure store only -------------------------------------------------------------------------------------


@pytest.fixture(params=AZURE_STORES)
async def azure(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    factory: BackendFactory = request.param
    made = factory(request, tmp_path, SMALL)
    yield made
    await made.store.aclose()


async def test_azure_upload_url_allows_exactly_one_put(azure: Backend, container: str) -> None:
    store = azure.store
    target = await store.upload_target(
        container, "m-1/source.webm", content_type="video/webm", expires_in=timedelta(minutes=5)
    )
    query = _query(target.url)
    assert query["sp"] == "cw"  # create and write: no read, list or delete
    assert query["sr"] == "b"  # this one blob
    if azure.kind == "azure-identity":  # a user-delegation SAS, HTTPS only
        assert query["skoid"] == FakeTokenCredential.object_id
        assert query["sktid"] == FakeTokenCredential.tenant
        assert query["spr"] == "https"
        assert query["ske"] >= query["se"]
    else:
        assert "skoid" not in query
    base, _, sas = target.url.partition("?")
    other_blob = f"{base.removesuffix('/m-1/source.webm')}/m-1/other.webm?{sas}"
    forged = base64.b64encode(secrets.token_bytes(32)).decode()
    tampered = f"{base}?{urlencode({**query, 'sig': forged})}"
    list_url = f"{base.removesuffix('/m-1/source.webm')}?restype=container&comp=list&{sas}"
    async with aiohttp.ClientSession() as http:
        for method, url, body in (
            ("PUT", other_blob, b"x"),
            ("PUT", tampered, b"x"),
        ):
            async with http.request(method, url, data=body, headers=target.headers, ssl=azure.ssl) as answer:
                assert answer.status == 403, (method, url)
        async with http.put(target.url, data=b"recording", headers=target.headers, ssl=azure.ssl) as answer:
            assert answer.status == 201, await answer.text()
        for method, url in (
            ("GET", target.url),
            ("HEAD", target.url),
            ("DELETE", target.url),
            ("GET", list_url),
        ):
            async with http.request(method, url, ssl=azure.ssl) as answer:
                assert answer.status == 403, (method, url)
    assert await store.get(container, "m-1/source.webm") == b"recording"
    info = await store.info(container, "m-1/source.webm")
    assert info is not None
    assert info.content_type == "video/webm"
    assert await store.info(container, "m-1/other.webm") is None


async def test_azure_read_url_is_a_read_only_sas_for_one_blob(azure: Backend, container: str) -> None:
    target = await azure.store.read_url(container, "m-1/source.webm", expires_in=timedelta(hours=1))
    query = _query(target.url)
    assert query["sp"] == "r"
    assert query["sr"] == "b"
    if azure.kind == "azure-identity":  # a user-delegation SAS, HTTPS only
        assert query["skoid"] == FakeTokenCredential.object_id
        assert query["spr"] == "https"
        assert query["ske"] >= query["se"]
    else:
        assert "skoid" not in query
    # A read never creates the container (the upload URL's does).
    async with (
        aiohttp.ClientSession() as http,
        http.get(target.url, ssl=azure.ssl) as answer,
    ):
        assert answer.status == 404


async def test_azure_read_url_expires(azure: Backend, container: str) -> None:
    await azure.store.put(container, "late.webm", b"late")
    target = await azure.store.read_url(container, "late.webm", expires_in=timedelta(seconds=1))
    await asyncio.sleep((target.expires_on - datetime.now(UTC)).total_seconds() + 1.5)
    async with aiohttp.ClientSession() as http, http.get(target.url, ssl=azure.ssl) as answer:
        assert answer.status == 403


async def test_azure_upload_url_expires(azure: Backend, container: str) -> None:
    target = await azure.store.upload_target(
        container, "late.webm", content_type="video/webm", expires_in=timedelta(seconds=1)
    )
    await asyncio.sleep((target.expires_on - datetime.now(UTC)).total_seconds() + 1.5)
    async with (
        aiohttp.ClientSession() as http,
        http.put(target.url, data=b"late", headers=target.headers, ssl=azure.ssl) as answer,
    ):
        assert answer.status == 403
    assert await azure.store.info(container, "late.webm") is None


async def test_azure_user_delegation_key_is_reused_while_it_outlives_the_sas(
    oauth_azurite_emulator: OAuthAzurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    fetched: list[tuple[datetime, datetime]] = []
    original = BlobServiceClient.get_user_delegation_key

    async def counting(self: BlobServiceClient, start: datetime, expiry: datetime, **kwargs: Any) -> Any:
        fetched.append((start, expiry))
        return await original(self, start, expiry, **kwargs)

    monkeypatch.setattr(BlobServiceClient, "get_user_delegation_key", counting)
    credential = FakeTokenCredential()
    store = AzureBlobStore(
        account_url=oauth_azurite_emulator.blob_url,
        credential=credential,
        **oauth_azurite_emulator.client_kwargs,
    )
    try:
        now = datetime.now(UTC)
        for _ in range(3):
            await store.upload_target(
                container, "a", content_type="video/webm", expires_in=timedelta(hours=1)
            )
        assert len(fetched) == 1
        start, expiry = fetched[0]
        assert start <= now - timedelta(minutes=4)  # tolerates a service clock behind ours
        assert expiry >= now + timedelta(days=1) - timedelta(seconds=5)
        # A SAS that would outlive the cached key gets a key of its own, covering it.
        target = await store.upload_target(
            container, "a", content_type="video/webm", expires_in=timedelta(days=3)
        )
        assert len(fetched) == 2
        assert fetched[1][1] >= target.expires_on
        assert _query(target.url)["ske"] >= _query(target.url)["se"]
        assert all(scopes == ("https://storage.azure.com/.default",) for scopes in credential.scopes)
    finally:
        await store.aclose()
    assert credential.closed


async def test_azure_containers_are_created_once(
    azurite_emulator: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.storage.blob.aio import BlobServiceClient, ContainerClient

    created: list[str] = []
    original = ContainerClient.create_container

    async def counting(self: ContainerClient, **kwargs: Any) -> Any:
        created.append(self.container_name)
        return await original(self, **kwargs)

    monkeypatch.setattr(ContainerClient, "create_container", counting)
    store = AzureBlobStore(connection_string=azurite_emulator.connection_string, block_size=SMALL)
    try:
        await asyncio.gather(*(store.put(container, f"b-{i}", b"x") for i in range(5)))
        await store.upload(container, "big", stream(b"x" * 3 * SMALL, SMALL))
        await store.upload_target(container, "t", content_type="video/webm", expires_in=timedelta(minutes=1))
        assert created == [container]
        # Deleted behind the store's back: the next write creates it again.
        async with BlobServiceClient.from_connection_string(
            azurite_emulator.connection_string, api_version=API_VERSION
        ) as raw:
            await raw.delete_container(container)
        await store.put(container, "again", b"y")
        await store.upload(container, "again-big", stream(b"z" * 3 * SMALL, SMALL))
        assert created == [container, container]
        assert await store.get(container, "again") == b"y"
    finally:
        await store.aclose()


async def test_azure_reads_never_create_containers(azurite_emulator: Azurite, container: str) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    store = AzureBlobStore(connection_string=azurite_emulator.connection_string)
    try:
        assert await store.info(container, "a") is None
        await store.delete(container, "a")
        assert await store.delete_prefix(container, "") == 0
    finally:
        await store.aclose()
    async with BlobServiceClient.from_connection_string(
        azurite_emulator.connection_string, api_version=API_VERSION
    ) as raw:
        assert not await raw.get_container_client(container).exists()


async def test_azure_errors_are_store_errors(azurite_emulator: Azurite, container: str) -> None:
    wrong_key = azurite_emulator.connection_string.replace(
        "AccountKey=", "AccountKey=" + base64.b64encode(secrets.token_bytes(64)).decode() + ";Ignored="
    )
    refused = AzureBlobStore(connection_string=wrong_key)
    unreachable = AzureBlobStore(
        connection_string=azurite_emulator.connection_string.replace(
            f":{azurite_emulator.blob_port}/", f":{free_port()}/"
        ),
        retry_total=0,
    )
    try:
        with pytest.raises(StorageRejected) as rejected:
            await refused.put(container, "a", b"x")
        assert rejected.value.status == 403
        assert not isinstance(rejected.value, AzureError)
        with pytest.raises(StorageUnavailable):
            await unreachable.get(container, "a")
        with pytest.raises(StorageUnavailable):
            await collect(unreachable.download(container, "a"))
    finally:
        await refused.aclose()
        await unreachable.aclose()


async def test_azure_upload_url_needs_a_key_or_an_identity(azurite_emulator: Azurite, container: str) -> None:
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    sas = generate_account_sas(
        AZURITE_ACCOUNT,
        AZURITE_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0],
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, create=True, list=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    store = AzureBlobStore(
        connection_string=f"BlobEndpoint={azurite_emulator.blob_endpoint};SharedAccessSignature={sas}"
    )
    try:
        with pytest.raises(StorageRejected, match="account key"):
            await store.upload_target(
                container, "a", content_type="video/webm", expires_in=timedelta(minutes=1)
            )
    finally:
        await store.aclose()


def test_azure_store_needs_credentials() -> None:
    with pytest.raises(ValueError, match="connection string"):
        AzureBlobStore()
    with pytest.raises(ValueError, match="connection string"):
        AzureBlobStore(account_url="https://account.blob.core.windows.net")


# --- settings -> store ------------------------------------------------------------------------------------


async def test_build_local_blob_store(tmp_path: Path) -> None:
    store = build_blob_store(Settings(data_dir=tmp_path), upload_signer(), BASE_URL)
    assert isinstance(store, LocalBlobStore)
    await store.put("recordings", "a", b"x")
    assert (tmp_path / "blobs" / "recordings" / "a").read_bytes() == b"x"


async def test_build_azure_blob_store_from_a_connection_string(
    azurite_emulator: Azurite, container: str
) -> None:
    settings = Settings(storage="azure", azure_web_jobs_storage=SecretStr(azurite_emulator.connection_string))
    store = build_blob_store(settings, upload_signer(), BASE_URL)
    try:
        assert isinstance(store, AzureBlobStore)
        await store.put(container, "a", b"x")
        assert await store.get(container, "a") == b"x"
    finally:
        await store.aclose()


@pytest.mark.parametrize("value", ["UseDevelopmentStorage=true", "UseDevelopmentStorage=True;"])
def test_use_development_storage_means_azurite_defaults(value: str) -> None:
    settings = Settings(storage="azure", azure_web_jobs_storage=SecretStr(value))
    assert connection_string(settings) == AZURITE_CONNECTION_STRING
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" in AZURITE_CONNECTION_STRING
    assert "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" in AZURITE_CONNECTION_STRING


async def test_build_azure_blob_store_with_a_user_assigned_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity.aio import ManagedIdentityCredential

    # The Functions host's own setting names, read from the environment as in Azure.
    monkeypatch.setenv("STORAGE", "azure")
    monkeypatch.setenv("Storage__blobServiceUri", "https://account.blob.core.windows.net")
    monkeypatch.setenv("Storage__credential", "managedidentity")
    monkeypatch.setenv("Storage__clientId", "33333333-3333-3333-3333-333333333333")
    store = build_blob_store(Settings(), upload_signer(), BASE_URL)
    try:
        assert isinstance(store, AzureBlobStore)
        assert store._account_url == "https://account.blob.core.windows.net"
        assert store._connection_string is None
        assert isinstance(store._credential, ManagedIdentityCredential)
    finally:
        await store.aclose()


async def test_identity_settings_pick_their_credential() -> None:
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    system = token_credential(Settings(storage_credential="ManagedIdentity"))
    developer = token_credential(Settings())
    try:
        assert isinstance(system, ManagedIdentityCredential)
        assert isinstance(developer, DefaultAzureCredential)
    finally:
        await system.close()
        await developer.close()
    with pytest.raises(ConfigurationError, match="managedidentity"):
        token_credential(Settings(storage_credential="clientsecret"))
    with pytest.raises(ConfigurationError, match="clientId"):
        token_credential(Settings(storage_client_id="33333333-3333-3333-3333-333333333333"))


def test_azure_storage_needs_a_connection() -> None:
    with pytest.raises(ConfigurationError, match="AzureWebJobsStorage"):
        build_blob_store(Settings(storage="azure"), upload_signer(), BASE_URL)
