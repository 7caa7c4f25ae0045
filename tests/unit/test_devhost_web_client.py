"""devhost serves the built web client at `/` beside the API: files, caching, the SPA fallback, and never a
byte from outside the folder."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import azure.functions as func
import pytest

from devhost.host import DevHost
from devhost.http_host import SystemRoute
from devhost.web_client import IMMUTABLE, NO_CACHE, WebClientSite, content_type

INDEX = b"<!doctype html><title>video-signaling</title><div id=root></div>"
SCRIPT = b"export const x = 1;\n" * 200  # over the size worth compressing
SECRET = b"outside the folder"


def build_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="health", methods=["GET"])
    def health(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse('{"status": "ok"}', mimetype="application/json")

    @app.route(route="{*path}")
    def fallback(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("api fallback", status_code=404)

    return app


def make_dist(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "index-3f2a1b.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-9c8d7e.css").write_bytes(b"body{margin:0}")
    (dist / "assets" / "logo-1a2b.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / "assets" / "engine-77aa.wasm").write_bytes(b"\0asm\1\0\0\0")
    (dist / "assets" / "font-55ee.woff2").write_bytes(b"wOF2")
    (dist / "favicon.ico").write_bytes(b"\0\0\1\0")
    (dist / ".env").write_bytes(b"SECRET=1")
    (root / "secret.txt").write_bytes(SECRET)
    (dist / "assets" / "leak.txt").symlink_to(root / "secret.txt")
    return dist


async def serving(dist: Path) -> DevHost:
    host = DevHost(build_app(), port=0, route_prefix="api")
    host.http.serve_site(WebClientSite(dist, route_prefix="api"))

    async def devhost_route(request: object) -> aiohttp.web.StreamResponse:
        return aiohttp.web.Response(status=201, text="devhost route")

    host.http.add_system_route(SystemRoute("PUT", "/_devhost/blobs/{name:.+}", devhost_route, "upload"))
    await host.start()
    return host


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[DevHost]:
    running = await serving(make_dist(tmp_path))
    yield running
    await running.stop()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # No automatic decompression: the tests look at what goes over the wire.
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def raw_get(host: DevHost, path: str) -> tuple[int, bytes]:
    """A GET with the request target exactly as given (clients normalize `..` and escapes away)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", host.http.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_index_is_served_at_the_root_and_revalidated(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    for path in ("/", "/index.html"):
        async with client.get(host.base_url + path) as response:
            assert response.status == 200
            assert await response.read() == INDEX
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert response.headers["Cache-Control"] == NO_CACHE
            assert response.headers["ETag"]


async def test_hashed_assets_are_immutable_with_their_content_types(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    expected = {
        "index-3f2a1b.js": "text/javascript; charset=utf-8",
        "index-9c8d7e.css": "text/css; charset=utf-8",
        "logo-1a2b.svg": "image/svg+xml",
        "engine-77aa.wasm": "application/wasm",
        "font-55ee.woff2": "font/woff2",
    }
    for name, media_type in expected.items():
        async with client.get(f"{host.base_url}/assets/{name}") as response:
            assert response.status == 200, name
            assert response.headers["Content-Type"] == media_type
            assert response.headers["Cache-Control"] == IMMUTABLE
    async with client.get(f"{host.base_url}/favicon.ico") as response:
        assert response.headers["Content-Type"] == "image/x-icon"
        assert response.headers["Cache-Control"] == NO_CACHE


async def test_deep_links_get_the_index_but_missing_assets_are_404(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    for path in ("/meetings/abc", "/meetings/abc/recordings/r1?tab=notes", "/settings/"):
        async with client.get(host.base_url + path) as response:
            assert (response.status, await response.read()) == (200, INDEX), path
            assert response.headers["Cache-Control"] == NO_CACHE
    for path in ("/assets/index-old.js", "/assets/", "/assets"):
        async with client.get(host.base_url + path) as response:
            assert response.status == 404, path
            assert b"<title>" not in await response.read()


async def test_the_api_and_devhost_routes_are_never_the_sites(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    async with client.get(f"{host.base_url}/api/health") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    for path in ("/api/nowhere", "/API/nowhere", "/api"):
        async with client.get(host.base_url + path) as response:
            assert (response.status, await response.text()) == (404, "api fallback"), path
    for path in ("/_devhost/blobs/x", "/runtime/webhooks/EventGrid"):
        async with client.get(host.base_url + path) as response:
            assert response.status == 404, path
            assert await response.read() != INDEX
    async with client.put(f"{host.base_url}/_devhost/blobs/x", data=b"1") as response:
        assert response.status == 201
    # Only reads are the site's: a POST to a page is no route.
    async with client.post(f"{host.base_url}/meetings/abc") as response:
        assert response.status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/assets/leak.txt",
        "/.env",
        "/assets/%00.js",
        "//etc/passwd",
    ],
)
async def test_nothing_outside_the_folder_is_ever_sent(host: DevHost, path: str) -> None:
    status, body = await raw_get(host, path)
    assert SECRET not in body
    assert b"SECRET=1" not in body
    assert b"root:" not in body
    assert status in (200, 400, 404)
    if status == 200:
        assert body == INDEX  # the SPA fallback, never a file


async def test_text_is_gzipped_when_accepted_and_ranges_are_honoured(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    url = f"{host.base_url}/assets/index-3f2a1b.js"
    async with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert gzip.decompress(await response.read()) == SCRIPT
        etag = response.headers["ETag"]
    headers = {"Accept-Encoding": "gzip", "If-None-Match": etag}
    async with client.get(url, headers=headers) as response:
        assert response.status == 304
    async with client.get(url, headers={"Accept-Encoding": "identity"}) as response:
        assert "Content-Encoding" not in response.headers
        assert await response.read() == SCRIPT
    async with client.get(url, headers={"Range": "bytes=0-5", "Accept-Encoding": "gzip"}) as response:
        assert response.status == 206
        assert await response.read() == SCRIPT[:6]
    async with client.head(url, headers={"Accept-Encoding": "identity"}) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == str(len(SCRIPT))
        assert await response.read() == b""


async def test_a_precompressed_sibling_is_preferred(tmp_path: Path, client: aiohttp.ClientSession) -> None:
    dist = make_dist(tmp_path)
    squeezed = gzip.compress(SCRIPT, compresslevel=9)
    (dist / "assets" / "index-3f2a1b.js.gz").write_bytes(squeezed)
    host = await serving(dist)
    try:
        url = f"{host.base_url}/assets/index-3f2a1b.js"
        async with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert await response.read() == squeezed
            assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    finally:
        await host.stop()


async def test_before_the_client_is_built_the_root_says_how(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    dist = tmp_path / "web" / "dist"
    host = await serving(dist)
    try:
        for path in ("/", "/meetings/abc"):
            async with client.get(host.base_url + path) as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/html")
                page = await response.text()
                assert "not built" in page
                assert "make web" in page
                assert str(dist) in page
        async with client.get(f"{host.base_url}/api/health") as response:
            assert response.status == 200
        # Built while devhost runs: the next request gets it, no restart.
        (tmp_path / "later").mkdir()
        dist.parent.mkdir()
        os.rename(make_dist(tmp_path / "later"), dist)
        async with client.get(host.base_url + "/") as response:
            assert await response.read() == INDEX
    finally:
        await host.stop()


def test_no_site_without_a_route_prefix(tmp_path: Path) -> None:
    host = DevHost(build_app(), port=0, route_prefix="")
    with pytest.raises(ValueError, match="route prefix"):
        host.http.serve_site(WebClientSite(tmp_path, route_prefix=""))


def test_content_types_do_not_depend_on_the_platform() -> None:
    assert content_type(Path("a.JS")) == "text/javascript; charset=utf-8"
    assert content_type(Path("a.map")) == "application/json"
    assert content_type(Path("a.unknown-ext")) == "application/octet-stream"
