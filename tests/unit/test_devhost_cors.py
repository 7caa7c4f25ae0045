"""devhost answers CORS for ALLOWED_ORIGINS on every route it serves: the app's, its own (the upload
route a web dev server on another port PUTs to) and the web client's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import azure.functions as func
import pytest
from aiohttp import web

from devhost.host import DevHost
from devhost.http_host import SystemRoute
from devhost.web_client import WebClientSite
from shared.cors import CorsPolicy

WEB = "http://localhost:5173"
OTHER = "https://evil.example"


def build_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="meetings", methods=["GET", "POST"])
    def meetings(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(
            "[]",
            status_code=201 if req.method == "POST" else 200,
            mimetype="application/json",
            headers={"ETag": '"1"', "Location": "/api/meetings/1", "Vary": "Accept-Language"},
        )

    @app.route(route="{*path}")
    def fallback(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=405, headers={"Allow": "GET, POST"})

    return app


async def upload(request: web.Request) -> web.StreamResponse:
    return web.Response(status=201, headers={"ETag": '"blob"'})


async def refuse_expect(request: web.Request) -> web.StreamResponse | None:
    return web.Response(status=403)


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[DevHost]:
    (tmp_path / "index.html").write_text("<title>app</title>")
    running = DevHost(build_app(), port=0, route_prefix="api")
    running.http.set_cors(CorsPolicy.of([WEB]))
    running.http.add_system_route(
        SystemRoute("PUT", "/_devhost/blobs/{name:.+}", upload, "upload", refuse_expect)
    )
    running.http.serve_site(WebClientSite(tmp_path))
    async with running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def preflight(
    origin: str, method: str = "POST", headers: str = "authorization,content-type"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize(
    ("path", "method", "requested"),
    [
        ("/api/meetings", "POST", "authorization,content-type"),
        ("/api/meetings/m1", "PATCH", "authorization,content-type,if-match"),
        ("/_devhost/blobs/recordings/m1/r1/source.webm?se=1&sig=x", "PUT", "content-type,x-ms-blob-type"),
        ("/runtime/webhooks/EventGrid", "POST", "content-type"),
        ("/meetings/abc", "GET", "authorization"),
    ],
)
async def test_an_allowed_origins_preflight_is_granted_on_every_route(
    host: DevHost, client: aiohttp.ClientSession, path: str, method: str, requested: str
) -> None:
    async with client.options(host.base_url + path, headers=preflight(WEB, method, requested)) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == WEB
        assert "Origin" in response.headers["Vary"]
        assert method in response.headers["Access-Control-Allow-Methods"]
        allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert set(requested.split(",")) <= allowed
        assert int(response.headers["Access-Control-Max-Age"]) > 0
        assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("origin", [OTHER, "null", WEB + ".evil.example"])
async def test_any_other_origins_preflight_is_refused_without_cors_headers(
    host: DevHost, client: aiohttp.ClientSession, origin: str
) -> None:
    for path in ("/api/meetings", "/_devhost/blobs/recordings/x"):
        async with client.options(host.base_url + path, headers=preflight(origin)) as response:
            assert response.status == 403
            assert response.headers["Content-Type"] == "application/problem+json"
            assert not [h for h in response.headers if h.lower().startswith("access-control-")]
            assert "ALLOWED_ORIGINS" in (await response.json())["detail"]


async def test_without_allowed_origins_every_preflight_is_refused(client: aiohttp.ClientSession) -> None:
    async with DevHost(build_app(), port=0, route_prefix="api") as running:
        async with client.options(f"{running.base_url}/api/meetings", headers=preflight(WEB)) as response:
            assert response.status == 403
            assert "Access-Control-Allow-Origin" not in response.headers
        # And actual responses are what they were: no CORS header, no Vary added.
        async with client.get(f"{running.base_url}/api/meetings", headers={"Origin": WEB}) as response:
            assert response.status == 200
            assert "Access-Control-Allow-Origin" not in response.headers
            assert response.headers["Vary"] == "Accept-Language"


async def test_an_options_that_is_no_preflight_reaches_the_app(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    async with client.options(f"{host.base_url}/api/meetings", headers={"Origin": WEB}) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET, POST"


async def test_actual_responses_to_an_allowed_origin_expose_etag_and_location(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    async with client.post(f"{host.base_url}/api/meetings", headers={"Origin": WEB}) as response:
        assert response.status == 201
        assert response.headers["Access-Control-Allow-Origin"] == WEB
        exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"ETag", "Location"} <= exposed
        # The app's own Vary is kept, Origin added.
        assert response.headers["Vary"] == "Accept-Language, Origin"
    headers = {"Origin": WEB, "x-ms-blob-type": "BlockBlob"}
    async with client.put(f"{host.base_url}/_devhost/blobs/x", data=b"1", headers=headers) as response:
        assert response.status == 201
        assert response.headers["Access-Control-Allow-Origin"] == WEB
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    async with client.get(f"{host.base_url}/meetings/abc", headers={"Origin": WEB}) as response:
        assert response.headers["Access-Control-Allow-Origin"] == WEB
        assert "Origin" in response.headers["Vary"]


async def test_other_origins_and_same_origin_requests_get_only_vary(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    for headers in ({"Origin": OTHER}, {}):
        async with client.get(f"{host.base_url}/api/meetings", headers=headers) as response:
            assert response.status == 200
            assert "Access-Control-Allow-Origin" not in response.headers
            assert "Access-Control-Expose-Headers" not in response.headers
            assert response.headers["Vary"] == "Accept-Language, Origin"


async def test_an_upload_refused_before_its_body_still_names_the_origin(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    headers = {"Origin": WEB, "Expect": "100-continue", "x-ms-blob-type": "BlockBlob"}
    async with client.put(f"{host.base_url}/_devhost/blobs/x", data=b"1", headers=headers) as response:
        assert response.status == 403
        # The browser shows the refusal to the page instead of a bare CORS error.
        assert response.headers["Access-Control-Allow-Origin"] == WEB


def test_cors_is_set_before_start() -> None:
    host = DevHost(build_app(), port=0)
    host.http.set_cors(CorsPolicy.of([WEB]))
    assert host.http.cors.allows(WEB)
