"""The HTTP edge: one decorator registers a function and describes it for OpenAPI, and one dispatcher
parses the request, authenticates the caller, calls the handler and maps every failure to problem+json.

Handlers receive an ApiRequest (caller, validated body and query, route parameters) and return an
ApiResponse; they never see `func.HttpRequest`, and no failure escapes as a stack trace.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import azure.functions as func

from shared.auth import Caller
from shared.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
    Unavailable,
    UpstreamFailed,
)
from shared.lazy import lazy_module
from shared.logs import log_context
from shared.ports import StoreUnavailable
from shared.secrets import SecretError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared import schemas as schemas  # noqa: PLC0414 - re-exported for the function modules
    from shared.bootstrap import Services
else:
    # Models are named, not imported: pydantic loads with the first request, not with function_app.
    schemas = lazy_module("shared.schemas")

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# The caller of an anonymous operation: an empty id, which no meeting ever lists.
NOBODY = Caller(user_id="")
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

BodyT = TypeVar("BodyT")
QueryT = TypeVar("QueryT")


class HttpError(Exception):
    """A failure that belongs to HTTP itself (size, media type, method), not to the domain."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


_STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Gone, 410),
    (PreconditionFailed, 412),
    (UpstreamFailed, 502),
    (Unavailable, 503),
)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Operation:
    """What OpenAPI says about one function: built from the very models the dispatcher validates with.

    Models are given by their name in `shared.schemas` and resolved at first use (see shared/lazy.py).
    """

    name: str
    method: str
    route: str
    summary: str
    tag: str
    body_schema: str | None
    query_schema: str | None
    ok_status: int
    ok_schema: str | None
    ok_description: str
    errors: tuple[int, ...]
    authenticated: bool
    response_headers: tuple[str, ...]
    request_headers: tuple[str, ...]
    ok_media_types: tuple[str, ...] = (JSON,)

    @property
    def body(self) -> type[BaseModel] | None:
        return None if self.body_schema is None else model_named(self.body_schema)

    @property
    def query(self) -> type[BaseModel] | None:
        return None if self.query_schema is None else model_named(self.query_schema)

    @property
    def ok_model(self) -> type[BaseModel] | None:
        return None if self.ok_schema is None else model_named(self.ok_schema)


def model_named(name: str) -> type[BaseModel]:
    model: type[BaseModel] = getattr(schemas, name)
    return model


@dataclass(frozen=True, slots=True)
class ApiRequest(Generic[BodyT, QueryT]):
    caller: Caller
    body: BodyT
    query: QueryT
    route: Mapping[str, str]
    headers: Mapping[str, str]
    url: str
    # None for anonymous operations: health and the OpenAPI document never build the services.
    services_or_none: Services | None

    @property
    def services(self) -> Services:
        assert self.services_or_none is not None, "an anonymous operation has no services"
        return self.services_or_none


@dataclass(slots=True)
class ApiResponse:
    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        return cls(status, model.model_dump_json(by_alias=True).encode(), JSON, dict(headers or {}))

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return cls(status, b"", None, dict(headers or {}))

    def to_http(self) -> func.HttpResponse:
        headers = dict(self.headers)
        if self.media_type is not None:
            headers["Content-Type"] = self.media_type
        return func.HttpResponse(
            body=self.body, status_code=self.status, headers=headers, mimetype=self.media_type
        )


Handler = Callable[[ApiRequest[Any, Any]], Awaitable[ApiResponse]]

# Every operation registered with `endpoint`, in registration order: the source of OpenAPI and of `Allow`.
OPERATIONS: list[Operation] = []


def blueprint() -> func.Blueprint:
    return func.Blueprint()  # type: ignore[no-untyped-call]


def endpoint(
    bp: func.Blueprint,
    *,
    name: str,
    method: str,
    route: str,
    summary: str,
    tag: str,
    ok: tuple[int, str | None, str],
    errors: Sequence[int] = (),
    body: str | None = None,
    query: str | None = None,
    authenticated: bool = True,
    response_headers: Sequence[str] = (),
    request_headers: Sequence[str] = (),
    ok_media_types: Sequence[str] = (JSON,),
) -> Callable[[Handler], Handler]:
    """Registers `handler` as an anonymous-level HTTP function (the app authenticates callers itself).

    `body`, `query` and the model in `ok` name classes of `shared.schemas`.
    """
    status, model, description = ok
    implied = {500}
    if authenticated:
        implied.add(401)
    if body is not None:
        implied |= {400, 413, 415}
    if query is not None or "{userId}" in route:
        implied.add(400)  # a userId in the path is checked (USER_ID_PATTERN) before anything else
    operation = Operation(
        name=name,
        method=method.upper(),
        route=route,
        summary=summary,
        tag=tag,
        body_schema=body,
        query_schema=query,
        ok_status=status,
        ok_schema=model,
        ok_description=description,
        errors=tuple(sorted(implied | set(errors))),
        authenticated=authenticated,
        response_headers=tuple(response_headers),
        request_headers=tuple(request_headers),
        ok_media_types=tuple(ok_media_types),
    )

    def register(handler: Handler) -> Handler:
        async def function(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
            return await dispatch(operation, handler, req, context.invocation_id)

        function.__name__ = function.__qualname__ = name
        # Real objects, not the strings this module's `from __future__ import annotations` would leave:
        # the Functions worker matches parameters to bindings by their annotated types.
        function.__annotations__ = {
            "req": func.HttpRequest,
            "context": func.Context,
            "return": func.HttpResponse,
        }
        function.__operation__ = operation  # type: ignore[attr-defined]
        routed = bp.route(route=route, methods=[operation.method], auth_level=func.AuthLevel.ANONYMOUS)
        bp.function_name(name=name)(routed(function))
        OPERATIONS.append(operation)
        return handler

    return register


async def dispatch(
    operation: Operation, handler: Handler, req: func.HttpRequest, invocation_id: str
) -> func.HttpResponse:
    with log_context(invocation=invocation_id):
        try:
            response = await handler(await _parse(operation, req))
        except Exception as exc:
            response = problem_for(exc, req, invocation_id)
        _harden(response, operation)
        return response.to_http()


def _harden(response: ApiResponse, operation: Operation) -> None:
    # A browser must never guess a type (a transcript served as text/plain is not HTML), and no cache,
    # shared or private, may keep what was answered to one caller: their meetings, tokens, upload URLs.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if operation.authenticated:
        response.headers["Cache-Control"] = "no-store"


async def _parse(operation: Operation, req: func.HttpRequest) -> ApiRequest[Any, Any]:
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design

    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
    services, caller = None, NOBODY
    if operation.authenticated:
        services = await get_services()
        # Authenticate before the body is read: an anonymous caller learns nothing about the API's rules.
        caller = await services.authenticator.authenticate(req.headers)
    query = _validate(operation.query, dict(req.params), "query") if operation.query else None
    body = _parse_body(operation.body, raw, req.headers.get("content-type")) if operation.body else None
    return ApiRequest(
        caller=caller,
        body=body,
        query=query,
        route=dict(req.route_params),
        headers=req.headers,
        url=req.url,
        services_or_none=services,
    )


def _parse_body(model: type[BaseModel], raw: bytes, content_type: str | None) -> BaseModel:
    if not raw.strip():
        raise InvalidInput("a JSON body is required")
    if not is_json_media_type(content_type):
        raise HttpError(415, f"the body must be {JSON}, not {content_type or 'unspecified'}")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
        return _validate(model, data, "body")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {_json_error(exc)}") from exc
    except RecursionError:
        # A few kilobytes of `[[[[…` exhaust the parser's (or the validator's) stack: no API body nests
        # that deep, so it is bad input, not a server error.
        raise InvalidInput("the body nests too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    from pydantic import ValidationError  # noqa: PLC0415 - loaded with the models, not at cold start

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]) or where, "message": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        raise InvalidInput(f"invalid {where}: {first['field']}: {first['message']}", errors) from None


_MEDIA = re.compile(r"^\s*application/([a-z0-9.+-]+\+)?json\s*(;.*)?$", re.IGNORECASE)


def is_json_media_type(content_type: str | None) -> bool:
    return bool(content_type and _MEDIA.match(content_type))


def problem_for(exc: BaseException, req: func.HttpRequest, invocation_id: str | None) -> ApiResponse:
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, HttpError):
        status, detail = exc.status, exc.detail
        headers.update(exc.headers)
    elif isinstance(exc, DomainError):
        status = next(code for kind, code in _STATUS_OF if isinstance(exc, kind)) if _known(exc) else 500
        detail = exc.detail
        if isinstance(exc, InvalidInput) and exc.errors:
            extra["errors"] = exc.errors
        if exc.code is not None:
            extra["code"] = exc.code
        if isinstance(exc, Unavailable) and exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, SecretError):
        # A Key Vault reference could not be read: a deployment problem, and visible as one.
        status, detail = 503, "a secret this app needs could not be read from Key Vault"
        log.error("secret unavailable: %s", exc)
    elif isinstance(exc, StoreUnavailable):
        # The database throttled past its retries or is down: the caller may simply try again.
        status, detail = 503, "the database is busy or unavailable: try again"
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        log.warning("store unavailable: %s", exc)
    else:
        log.exception("unhandled error")
        status, detail = 500, "an unexpected error occurred; the invocation id identifies it in the logs"
    if status < 500:
        log.info("%s %s answered %s: %s", req.method, _path(req.url), status, detail)
    elif isinstance(exc, DomainError):
        log.warning("%s %s answered %s: %s", req.method, _path(req.url), status, detail)
    return problem(
        status, detail, instance=_path(req.url), invocation_id=invocation_id, headers=headers, **extra
    )


def _known(exc: DomainError) -> bool:
    return any(isinstance(exc, kind) for kind, _ in _STATUS_OF)


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    invocation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ApiResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if invocation_id is not None:
        body["invocationId"] = invocation_id
    body.update(extra)
    # An error is about one request: never cached, never sniffed (the fallback's 404/405 come here too).
    hardened = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", **(headers or {})}
    return ApiResponse(status, json.dumps(body).encode(), PROBLEM_JSON, hardened)


def _path(url: str) -> str:
    from urllib.parse import urlsplit  # noqa: PLC0415 - only on the error path

    return urlsplit(url).path


def quoted_etag(etag: str) -> str:
    return etag if etag.startswith(('"', 'W/"')) else f'"{etag}"'


# --- route templates (for `Allow` on a wrong method) --------------------------------------------------

_PARAM = re.compile(r"^\{[^}]+\}$")


def route_matches(template: str, path: str) -> bool:
    """Whether a path fits a route template of this app (literal and `{param}` segments only)."""
    want = [s for s in template.strip("/").split("/") if s]
    got = [s for s in path.strip("/").split("/") if s]
    if len(want) != len(got):
        return False
    return all(_PARAM.match(w) or w.lower() == g.lower() for w, g in zip(want, got, strict=True))
