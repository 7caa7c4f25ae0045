"""Serves the app's HTTP triggers over aiohttp, answering the way the Functions host answers."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from devhost.app_loader import HTTP_TRIGGER, FunctionEntry, warn_unsupplied_bindings
from devhost.context import InvocationContext, TraceContext
from devhost.http_conversion import is_http_response, to_func_request, to_web_response
from devhost.invoker import invoke
from devhost.problems import PROBLEM_JSON, problem, problem_body
from devhost.routing import Route, RouteMatch, Router, RouteTemplate, join_prefix
from devhost.web_client import WebClientSite
from shared.cors import CorsPolicy

logger = logging.getLogger(__name__)

FUNCTION_KEY_ENV = "DEVHOST_FUNCTION_KEY"
# The host's default request body limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).
MAX_REQUEST_BODY = 100 * 1024 * 1024
# Admin level wants the master key in Azure; devhost has one key for both levels.
KEYED_AUTH_LEVELS = frozenset({"function", "admin"})
SHUTDOWN_TIMEOUT_SECONDS = 10.0

SystemHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ExpectHandler = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


@dataclass(frozen=True)
class SystemRoute:
    """An endpoint of the host itself, outside the app's routes (as the host's `/runtime/webhooks/...`).

    `path` is in aiohttp's route syntax. `expect_handler` answers `Expect: 100-continue` before the body
    is sent: a response from it is final (a refused upload then never transfers its bytes).
    """

    method: str
    path: str
    handler: SystemHandler
    name: str
    expect_handler: ExpectHandler | None = None


@dataclass(frozen=True)
class HttpEndpoint:
    entry: FunctionEntry
    template: RouteTemplate
    methods: frozenset[str] | None
    auth_level: str

    @classmethod
    def from_entry(cls, entry: FunctionEntry, route_prefix: str) -> HttpEndpoint:
        trigger = entry.trigger
        route = str(trigger.get("route") or entry.name)
        methods = trigger.get("methods")
        return cls(
            entry=entry,
            template=RouteTemplate.parse(join_prefix(route_prefix, route)),
            methods=frozenset(str(m).upper() for m in methods) if methods else None,
            auth_level=str(trigger.get("authLevel") or "function").lower(),
        )

    @property
    def needs_key(self) -> bool:
        return self.auth_level in KEYED_AUTH_LEVELS

    def describe(self, base_url: str) -> str:
        methods = ",".join(sorted(self.methods)) if self.methods else "ANY"
        return f"  {self.entry.name}: [{methods}] {base_url}/{self.template.text}"


async def _final_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Runs after aiohttp has filled in its defaults: no `Server` (it names aiohttp and its version, which
    only helps an attacker), and no Content-Type on an answer that has no body by definition (204, 304;
    func.HttpResponse gives every response one, text/plain)."""
    response.headers.popall("Server", None)
    if response.status in (204, 304) or response.status < 200:
        response.headers.popall("Content-Type", None)


@web.middleware
async def _problem_for_http_errors(request: web.Request, handler: SystemHandler) -> web.StreamResponse:
    """aiohttp's own refusals (a 405 from a devhost route, a body past the limit) as problem+json."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")}
        return problem(error.status, error.reason, instance=request.rel_url.raw_path, headers=headers)


class _ProblemRequestHandler(RequestHandler):
    """Answers what never reaches the app (a malformed request line, a newline in the path, headers past
    the limits: 400, 431) with problem+json, not aiohttp's text/plain; the connection still closes."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs it, refuses if a response began
        # aiohttp's message quotes the offending bytes: the title and a generic cause are enough.
        detail = "the request could not be read as HTTP" if status < 500 else "the server failed"
        response = _BareResponse(
            status=status,
            body=problem_body(status, detail),
            content_type=PROBLEM_JSON,
            headers={"X-Content-Type-Options": "nosniff"},
        )
        response.force_close()
        return response


class _BareResponse(web.Response):
    """A response that never passes the app's on_response_prepare (a request aiohttp could not read):
    it drops aiohttp's Server header itself."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.popall("Server", None)


class _ProblemServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class _ProblemAppRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _ProblemServer  # the one aiohttp built, its handlers made by ours
        return server


def _has_key(request: web.BaseRequest, key: str) -> bool:
    # The host looks at the header first, then at the `code` query parameter.
    supplied = request.headers.get("x-functions-key") or request.query.get("code") or ""
    return hmac.compare_digest(supplied.encode(), key.encode())


class HttpRunner:
    """The HTTP trigger runner: one aiohttp server routing to every `httpTrigger` function."""

    trigger_types = frozenset({HTTP_TRIGGER})

    def __init__(
        self,
        functions: Sequence[FunctionEntry],
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        route_prefix: str = "api",
        function_key: str | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        self.endpoints = [HttpEndpoint.from_entry(f, route_prefix) for f in functions]
        self.router = Router(Route(e.template, e.methods, e) for e in self.endpoints)
        self.route_prefix = route_prefix.strip("/")
        configured_key = function_key or os.environ.get(FUNCTION_KEY_ENV)
        self._generated_key = not configured_key
        self.function_key = configured_key or secrets.token_urlsafe(24)
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._system_routes: list[SystemRoute] = []
        self.cors = cors or CorsPolicy()
        self._site: WebClientSite | None = None
        self._site_route = SystemRoute("GET", "/", self._serve_site, "web-client")

    @property
    def system_routes(self) -> tuple[SystemRoute, ...]:
        return tuple(self._system_routes)

    def add_system_route(self, route: SystemRoute) -> None:
        """Serves `route` ahead of the app's functions; before start, like a runner."""
        if self._runner is not None:
            raise RuntimeError("add system routes before the HTTP runner starts")
        self._system_routes.append(route)

    def set_cors(self, policy: CorsPolicy) -> None:
        """The origins allowed to call from another origin; before start (the default allows none)."""
        if self._runner is not None:
            raise RuntimeError("set CORS before the HTTP runner starts")
        self.cors = policy

    def serve_site(self, site: WebClientSite) -> None:
        """Serves the web client at `/` (GET and HEAD outside the API and devhost's routes); before start."""
        if self._runner is not None:
            raise RuntimeError("add the site before the HTTP runner starts")
        if not self.route_prefix:
            # With no prefix the app's routes are at the root: the site would shadow them.
            raise ValueError("the web client needs the API under a route prefix (host.json routePrefix)")
        self._site = site

    @property
    def site(self) -> WebClientSite | None:
        return self._site

    @property
    def requested_host(self) -> str:
        return self._host

    @property
    def requested_port(self) -> int:
        """The port asked for (0: any free one); `port` is the one bound."""
        return self._port

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("the HTTP runner is not started")
        return self._bound_port

    @property
    def base_url(self) -> str:
        """Server root, without the route prefix (tests join their own paths)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/{self.route_prefix}" if self.route_prefix else self.base_url

    def describe(self) -> list[str]:
        ordered = sorted(self.endpoints, key=lambda e: e.template.text.lower())
        return [e.describe(self.base_url) for e in ordered]

    async def start(self) -> None:
        for endpoint in self.endpoints:
            if endpoint.template.unchecked_constraints:
                logger.warning(
                    "%s: devhost does not check route constraints %s and accepts any value there",
                    endpoint.entry.name,
                    ", ".join(endpoint.template.unchecked_constraints),
                )
        warn_unsupplied_bindings(e.entry for e in self.endpoints)
        app = web.Application(
            client_max_size=MAX_REQUEST_BODY, middlewares=[_problem_for_http_errors, self._preflight]
        )
        # On prepare, not in a middleware: every response gets them, the ones an expect handler or an
        # exception makes too, after the handler has set its own Vary (FileResponse does, for encodings).
        app.on_response_prepare.append(self._cors_headers)
        app.on_response_prepare.append(_final_headers)
        # Before the catch-all, which would otherwise take them to the app's routes.
        for route in self._system_routes:
            app.router.add_route(
                route.method, route.path, self._logged(route), expect_handler=self._logged_expect(route)
            )
        # Any path, newlines (%0A) included: `.` would leave those to aiohttp's text/plain 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)
        runner = _ProblemAppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])
        if self._generated_key and any(e.needs_key for e in self.endpoints):
            logger.info("Function key (?code= or x-functions-key header): %s", self.function_key)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @staticmethod
    def _log(request: web.Request, status: int, started: float, route: SystemRoute) -> None:
        # The path only: a query may carry a signature or a key.
        elapsed = (time.perf_counter() - started) * 1000
        path = request.rel_url.raw_path
        logger.info("%s %s %d %.1fms %s", request.method, path, status, elapsed, route.name)

    def _logged(self, route: SystemRoute) -> SystemHandler:
        async def handle(request: web.Request) -> web.StreamResponse:
            started, status = time.perf_counter(), 500
            try:
                response = await route.handler(request)
                status = response.status
            finally:
                self._log(request, status, started, route)
            return response

        return handle

    def _logged_expect(self, route: SystemRoute) -> ExpectHandler | None:
        """The route's answer to `Expect: 100-continue`, logged when it refuses (the handler never runs)."""
        expect = route.expect_handler
        if expect is None:
            return None

        async def handle(request: web.Request) -> web.StreamResponse | None:
            started = time.perf_counter()
            response = await expect(request)
            if response is not None:
                self._log(request, response.status, started, route)
            return response

        return handle

    @web.middleware
    async def _preflight(self, request: web.Request, handler: SystemHandler) -> web.StreamResponse:
        """CORS preflights, on every path, before any route: 204 with the grants for an allowed origin;
        403 for any other, without CORS headers, so the browser refuses and the log says why."""
        if not CorsPolicy.is_preflight(request.method, request.headers):
            return await handler(request)
        started = time.perf_counter()
        origin = request.headers.get("Origin")
        grants = self.cors.preflight_headers(origin)
        if grants is not None:
            response: web.StreamResponse = web.Response(status=204, headers=grants)
        else:
            detail = f"origin {origin!r} is not allowed to call this host (ALLOWED_ORIGINS)"
            response = problem(403, detail, instance=request.rel_url.raw_path)
        logger.info(
            "OPTIONS %s %d %.1fms cors-preflight origin=%s",
            request.rel_url.raw_path,
            response.status,
            (time.perf_counter() - started) * 1000,
            origin,
        )
        return response

    async def _cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if CorsPolicy.is_preflight(request.method, request.headers):
            return
        response.headers.update(self.cors.response_headers(request.headers.get("Origin"), response.headers))

    async def _serve_site(self, request: web.Request) -> web.StreamResponse:
        assert self._site is not None
        return await self._site.handle(request)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._site is not None and self._site.claims(request.method, request.rel_url.raw_path):
            return await self._logged(self._site_route)(request)
        started = time.perf_counter()
        match = self.router.resolve(request.method, request.rel_url.raw_path)
        context: InvocationContext | None = None
        # Should anything escape below, aiohttp answers 500, and the log line must say so too.
        response = web.Response(status=500)
        try:
            if match is None:
                response = web.Response(status=404)
            elif match.target.needs_key and not _has_key(request, self.function_key):
                response = web.Response(status=401)
            else:
                context = InvocationContext(
                    match.target.entry.name,
                    match.target.entry.directory,
                    trace_context=TraceContext.child_of(
                        request.headers.get("traceparent"), request.headers.get("tracestate")
                    ),
                )
                response = await self._invoke(request, match, context)
        finally:
            logger.info(
                "%s %s %d %.1fms function=%s invocation=%s",
                request.method,
                request.rel_url.raw_path,
                response.status,
                (time.perf_counter() - started) * 1000,
                match.target.entry.name if match else "-",
                context.invocation_id if context else "-",
            )
        return response

    async def _invoke(
        self, request: web.Request, match: RouteMatch[HttpEndpoint], context: InvocationContext
    ) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as too_large:
            return web.Response(status=too_large.status)
        entry = match.target.entry
        try:
            result = await invoke(entry, to_func_request(request, body, match.route_params), context)
            if not is_http_response(result):
                raise TypeError(f"expected func.HttpResponse, the function returned {type(result).__name__}")
            return to_web_response(result)
        except Exception:
            # Like the host: the caller gets a bare 500, the details stay in the server log.
            logger.exception("Function %s failed (invocation %s)", entry.name, context.invocation_id)
            return web.Response(status=500)
