"""DevHost over real HTTP, with small FunctionApps built here (not the project's app)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import azure.functions as func
import pytest
from multidict import CIMultiDict

from devhost.app_loader import AppLoadError, FunctionEntry, index_app
from devhost.context import InvocationContext
from devhost.host import DevHost
from devhost.host_json import read_host_json, route_prefix
from devhost.invoker import invoke

KEY = "test-key"


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


def build_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="items/new", methods=["GET"])
    def new_item(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"function": "new_item"})

    @app.route(route="items/{id:int}", methods=["GET"])
    def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"function": "item_by_id", "params": dict(req.route_params)})

    @app.route(route="items/{name}", methods=["GET"])
    def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"function": "item_by_name", "params": dict(req.route_params)})

    @app.route(route="opt/{value?}", methods=["GET"])
    def optional(req: func.HttpRequest) -> func.HttpResponse:
        return _json(dict(req.route_params))

    @app.route(route="typed/{id:guid}/{flag:bool}/{word:alpha}", methods=["GET"])
    def typed(req: func.HttpRequest) -> func.HttpResponse:
        return _json(dict(req.route_params))

    @app.route(route="things/{id}", methods=["GET"])
    def get_thing(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"function": "get_thing"})

    @app.route(route="things/{*rest}")
    def thing_fallback(req: func.HttpRequest) -> func.HttpResponse:
        return _json({"function": "thing_fallback", "method": req.method, "params": dict(req.route_params)})

    @app.route(route="get-only", methods=["GET"])
    def get_only(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("ok")

    @app.route(route="echo", methods=["POST", "PUT"], trigger_arg_name="request")
    async def echo(request: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(
            request.get_body(),
            status_code=201,
            headers={"X-Request-Content-Type": request.headers.get("content-type", "")},
            mimetype="application/octet-stream",
        )

    @app.route(route="inspect", methods=["GET"])
    def inspect_request(req: func.HttpRequest) -> func.HttpResponse:
        return _json(
            {"url": req.url, "method": req.method, "headers": dict(req.headers), "params": dict(req.params)}
        )

    @app.route(route="cookies", methods=["GET"])
    def cookies(req: func.HttpRequest) -> func.HttpResponse:
        response = func.HttpResponse("", status_code=204, headers={"X-One": "1"})
        response.headers.add("Set-Cookie", "a=1; Path=/")
        response.headers.add("Set-Cookie", "b=2; Path=/; HttpOnly")
        response.headers.add("X-Repeated", "first")
        response.headers.add("X-Repeated", "last")
        return response

    @app.route(route="status/{code:int}", methods=["GET"])
    def status(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=int(req.route_params["code"]))

    @app.route(route="html", methods=["GET"])
    def html(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("<p>hi</p>", mimetype="text/html", charset="latin-1")

    @app.route(route="async-context", methods=["GET"])
    async def async_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return _json(
            {
                "invocation_id": context.invocation_id,
                "function_name": context.function_name,
                "trace_parent": context.trace_context.trace_parent,
            }
        )

    @app.route(route="sync-context", methods=["GET"])
    def sync_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return _json(
            {
                "invocation_id": context.invocation_id,
                # azure.functions annotates the storage as a class; the worker passes an instance.
                "tls_invocation_id": context.thread_local_storage.invocation_id,  # type: ignore[attr-defined]
                "thread": threading.current_thread().name,
                "retry_count": context.retry_context.retry_count,
            }
        )

    @app.route(route="boom", methods=["GET"])
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret detail")

    @app.route(route="not-a-response", methods=["GET"])
    def not_a_response(req: func.HttpRequest) -> func.HttpResponse:
        return "plain string"  # type: ignore[return-value]

    @app.route(route="keyed", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
    def keyed(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("inside")

    return app


@pytest.fixture
async def host() -> AsyncIterator[DevHost]:
    async with DevHost(build_app(), port=0, route_prefix="api", function_key=KEY) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _get_json(client: aiohttp.ClientSession, url: str) -> object:
    async with client.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_base_url_is_the_bound_port(host: DevHost) -> None:
    assert host.base_url.startswith("http://127.0.0.1:")
    assert host.http.port > 0


async def test_route_params_are_percent_decoded(host: DevHost, client: aiohttp.ClientSession) -> None:
    body = await _get_json(client, f"{host.base_url}/api/items/hello%20w%C3%B6rld")
    assert body == {"function": "item_by_name", "params": {"name": "hello wörld"}}
    # The host keeps %2F encoded: it would otherwise change the segments.
    body = await _get_json(client, f"{host.base_url}/api/items/a%2Fb")
    assert body == {"function": "item_by_name", "params": {"name": "a%2Fb"}}


async def test_literal_beats_parameter(host: DevHost, client: aiohttp.ClientSession) -> None:
    assert await _get_json(client, f"{host.base_url}/api/items/new") == {"function": "new_item"}
    assert await _get_json(client, f"{host.base_url}/api/ITEMS/NEW") == {"function": "new_item"}
    by_id = await _get_json(client, f"{host.base_url}/api/items/42")
    assert by_id == {"function": "item_by_id", "params": {"id": "42"}}


async def test_optional_and_constrained_params(host: DevHost, client: aiohttp.ClientSession) -> None:
    assert await _get_json(client, f"{host.base_url}/api/opt") == {}
    assert await _get_json(client, f"{host.base_url}/api/opt/") == {}
    assert await _get_json(client, f"{host.base_url}/api/opt/x") == {"value": "x"}
    guid = str(uuid.uuid4())
    typed = await _get_json(client, f"{host.base_url}/api/typed/{guid}/true/abc")
    assert typed == {"id": guid, "flag": "true", "word": "abc"}
    for bad in ("not-a-guid/true/abc", f"{guid}/maybe/abc", f"{guid}/true/abc1"):
        async with client.get(f"{host.base_url}/api/typed/{bad}") as response:
            assert response.status == 404


async def test_wrong_method_falls_through_to_catch_all(host: DevHost, client: aiohttp.ClientSession) -> None:
    assert await _get_json(client, f"{host.base_url}/api/things/1") == {"function": "get_thing"}
    async with client.delete(f"{host.base_url}/api/things/1") as response:
        assert response.status == 200
        assert await response.json() == {
            "function": "thing_fallback",
            "method": "DELETE",
            "params": {"rest": "1"},
        }


async def test_nothing_matching_is_an_empty_404(host: DevHost, client: aiohttp.ClientSession) -> None:
    for method, path in (("POST", "/api/get-only"), ("GET", "/api/nowhere"), ("GET", "/get-only")):
        async with client.request(method, f"{host.base_url}{path}") as response:
            assert response.status == 404
            assert await response.read() == b""


async def test_query_params_and_full_url(host: DevHost, client: aiohttp.ClientSession) -> None:
    url = f"{host.base_url}/api/inspect?a=1&b=two%20words&A=2&plus=x+y&empty="
    body = await _get_json(client, url)
    assert isinstance(body, dict)
    assert body["url"] == url
    assert body["method"] == "GET"
    # As the host builds them: one string per key (case-insensitive), repeats joined with ",", empty
    # values dropped.
    assert body["params"] == {"a": "1,2", "b": "two words", "plus": "x y"}


async def test_request_headers(host: DevHost, client: aiohttp.ClientSession) -> None:
    headers: CIMultiDict[str] = CIMultiDict([("X-Custom", "v"), ("X-Multi", "1"), ("X-Multi", "2")])
    async with client.get(f"{host.base_url}/api/inspect", headers=headers) as response:
        body = await response.json()
    assert body["headers"]["x-custom"] == "v"
    assert body["headers"]["x-multi"] == "1,2"
    assert body["headers"]["host"] == host.base_url.removeprefix("http://")


async def test_body_bytes_round_trip(host: DevHost, client: aiohttp.ClientSession) -> None:
    payload = bytes(range(256)) * 4096
    headers = {"Content-Type": "application/x-thing"}
    async with client.post(f"{host.base_url}/api/echo", data=payload, headers=headers) as response:
        assert response.status == 201
        assert await response.read() == payload
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["X-Request-Content-Type"] == "application/x-thing"
    async with client.put(f"{host.base_url}/api/echo") as response:
        assert response.status == 201
        assert await response.read() == b""


async def test_response_headers_keep_every_cookie(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.base_url}/api/cookies") as response:
        assert response.status == 204
        assert response.headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
        assert response.headers["X-One"] == "1"
        # The worker sends headers as a dict: apart from Set-Cookie, the last value wins.
        assert response.headers.getall("X-Repeated") == ["last"]
        # No body by definition, so no type (func.HttpResponse gives every response text/plain).
        assert "Content-Type" not in response.headers


async def test_no_server_header_names_the_software(host: DevHost, client: aiohttp.ClientSession) -> None:
    for path in ("/api/items/new", "/api/cookies", "/api/nowhere", "/api/boom"):
        async with client.get(f"{host.base_url}{path}") as response:
            assert "Server" not in response.headers, path


async def test_content_type_defaults_from_mimetype_and_charset(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    async with client.get(f"{host.base_url}/api/html") as response:
        assert response.headers["Content-Type"] == "text/html; charset=latin-1"
    async with client.get(f"{host.base_url}/api/items/new") as response:
        assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("code", [200, 202, 400, 409, 503])
async def test_status_codes(host: DevHost, client: aiohttp.ClientSession, code: int) -> None:
    async with client.get(f"{host.base_url}/api/status/{code}") as response:
        assert response.status == code


async def test_async_handler_gets_a_fresh_context(host: DevHost, client: aiohttp.ClientSession) -> None:
    headers = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    first = await _get_json(client, f"{host.base_url}/api/async-context")
    async with client.get(f"{host.base_url}/api/async-context", headers=headers) as response:
        second = await response.json()
    assert isinstance(first, dict)
    assert first["function_name"] == "async_context"
    assert uuid.UUID(first["invocation_id"])
    assert first["invocation_id"] != second["invocation_id"]
    assert second["trace_parent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert second["trace_parent"].endswith("-01")


async def test_sync_handler_runs_in_a_thread_with_context(
    host: DevHost, client: aiohttp.ClientSession
) -> None:
    body = await _get_json(client, f"{host.base_url}/api/sync-context")
    assert isinstance(body, dict)
    assert body["thread"] != threading.current_thread().name
    assert body["tls_invocation_id"] == body["invocation_id"]
    assert body["retry_count"] == 0


async def test_function_auth_level_needs_the_key(host: DevHost, client: aiohttp.ClientSession) -> None:
    url = f"{host.base_url}/api/keyed"
    async with client.get(url) as response:
        assert response.status == 401
    async with client.get(url, params={"code": "wrong"}) as response:
        assert response.status == 401
    async with client.get(url, params={"code": KEY}) as response:
        assert response.status == 200
    async with client.get(url, headers={"x-functions-key": KEY}) as response:
        assert await response.text() == "inside"


async def test_generated_key_comes_from_env_or_is_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_FUNCTION_KEY", "from-env")
    assert DevHost(build_app(), port=0).http.function_key == "from-env"
    monkeypatch.delenv("DEVHOST_FUNCTION_KEY")
    first, second = DevHost(build_app(), port=0), DevHost(build_app(), port=0)
    assert first.http.function_key != second.http.function_key
    assert len(first.http.function_key) >= 24


@pytest.mark.parametrize("path", ["/api/boom", "/api/not-a-response"])
async def test_failures_are_bare_500s(
    host: DevHost, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="devhost"):
        async with client.get(f"{host.base_url}{path}") as response:
            assert response.status == 500
            assert await response.read() == b""
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(failures) == 1
    if path == "/api/boom":
        assert "secret detail" in caplog.text


async def test_one_log_line_per_request(
    host: DevHost, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="devhost"):
        await _get_json(client, f"{host.base_url}/api/items/new?code=not-logged")
        async with client.get(f"{host.base_url}/api/nowhere"):
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == "devhost.http_host"]
    assert len(lines) == 2
    served, missing = lines
    method, path, status, duration, function, invocation = served.split(" ")
    assert (method, path, status, function) == ("GET", "/api/items/new", "200", "function=new_item")
    assert duration.endswith("ms")
    assert uuid.UUID(invocation.removeprefix("invocation="))
    assert "not-logged" not in caplog.text
    assert missing.startswith("GET /api/nowhere 404 ")
    assert missing.endswith("function=- invocation=-")


async def test_route_prefix_from_host_json(tmp_path: Path, client: aiohttp.ClientSession) -> None:
    assert route_prefix(read_host_json(tmp_path)) == "api"
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}}}))
    prefix = route_prefix(read_host_json(tmp_path))
    assert prefix == ""
    async with DevHost(build_app(), port=0, route_prefix=prefix) as host:
        assert host.http.api_url == host.base_url
        assert await _get_json(client, f"{host.base_url}/items/new") == {"function": "new_item"}
        async with client.get(f"{host.base_url}/api/items/new") as response:
            assert response.status == 404
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": "/v1/"}}}))
    assert route_prefix(read_host_json(tmp_path)) == "v1"


def test_functions_the_worker_would_refuse_fail_at_load() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="x")
    def misnamed(request: func.HttpRequest) -> func.HttpResponse:  # binding is named "req"
        return func.HttpResponse()

    with pytest.raises(AppLoadError, match="misnamed"):
        index_app(app)


async def test_stopped_host_frees_its_port(client: aiohttp.ClientSession) -> None:
    host = DevHost(build_app(), port=0)
    async with host:
        url = f"{host.base_url}/api/items/new"
        assert await _get_json(client, url) == {"function": "new_item"}
    with pytest.raises(aiohttp.ClientConnectionError):
        async with client.get(url):
            pass


class QueueRunnerStub:
    """What a queue runner plugs in as: its trigger type, a lifecycle, and the shared invoker."""

    trigger_types = frozenset({"queueTrigger"})

    def __init__(self, functions: tuple[FunctionEntry, ...], events: list[str]) -> None:
        self.functions, self.events = functions, events

    async def start(self) -> None:
        self.events.append("queue start")

    async def stop(self) -> None:
        self.events.append("queue stop")

    def describe(self) -> list[str]:
        return [f"  {f.name}: queue {f.trigger['queueName']}" for f in self.functions]

    async def deliver(self, body: str) -> object:
        entry = self.functions[0]
        return await invoke(entry, body, InvocationContext(entry.name, entry.directory))


async def test_more_trigger_runners_plug_into_the_host(caplog: pytest.LogCaptureFixture) -> None:
    app = build_app()
    received: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    def on_job(msg: str) -> None:
        received.append(msg)

    @app.timer_trigger(arg_name="timer", schedule="0 0 * * * *")
    def hourly(timer: func.TimerRequest) -> None:
        pass

    events: list[str] = []
    host = DevHost(app, port=0)
    queue = QueueRunnerStub(host.index.by_trigger("queueTrigger"), events)
    host.add_runner(queue)
    with caplog.at_level(logging.WARNING, logger="devhost"):
        async with host:
            assert queue.describe() == ["  on_job: queue jobs"]
            assert host.served_count == len(host.index.functions) - 1
            await queue.deliver("hello")
    assert received == ["hello"]
    assert events == ["queue start", "queue stop"]
    assert "hourly (timerTrigger)" in caplog.text
    async with host:
        with pytest.raises(RuntimeError, match="before the host starts"):
            host.add_runner(queue)


def _raw_exchange(base_url: str, request: bytes) -> bytes:
    """What the server answers to bytes no HTTP client would send."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/items/a\nb HTTP/1.1\r\nHost: x\r\n\r\n",  # a newline in the request line
        b"NOT HTTP\r\n\r\n",
        b"GET /api/items/new HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /api/items/new HTTP/1.1\r\nHost: x\r\n" + b"X-H: a\r\n" * 50_000 + b"\r\n",
    ],
    ids=["newline", "not-http", "huge-header", "many-headers"],
)
async def test_what_never_reaches_the_app_is_refused_as_a_problem(
    host: DevHost, request_bytes: bytes
) -> None:
    answer = await asyncio.to_thread(_raw_exchange, host.base_url, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].split(" ")[1] in ("400", "431"), lines[0]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"] == "application/problem+json"
    assert "server" not in headers
    problem = json.loads(body)
    assert problem["status"] == int(lines[0].split(" ")[1])
    assert "aaaa" not in problem["detail"]


async def test_a_newline_in_a_path_reaches_the_routes(host: DevHost, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{host.base_url}/api/items/a%0Ab") as response:
        assert response.status == 200
        assert (await response.json())["params"] == {"name": "a\nb"}
