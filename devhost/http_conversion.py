"""Turns aiohttp requests into `func.HttpRequest` and `func.HttpResponse` back, as host and worker do.

The Functions host hands the worker one string per header and per query key (ASP.NET's StringValues
joined with ","), drops empty query values, and keeps the path's `%2F` encoded. On the way back the
worker turns the response headers into a dict, so a repeated header keeps its last value, except
Set-Cookie, which travels as a list of cookies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

import azure.functions as func
from aiohttp import web
from azure.functions import _abc as func_abc
from azure.functions.http import HttpRequest as WorkerHttpRequest
from multidict import CIMultiDict

# aiohttp frames the body itself; a copied length or encoding would contradict it.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


def _join(values: Iterable[str]) -> str:
    """StringValues.ToString(): one value as is; several joined with "," leaving out empty ones."""
    listed = list(values)
    return listed[0] if len(listed) == 1 else ",".join(v for v in listed if v)


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Groups case-insensitively, keeping the first spelling of each name (ASP.NET's dictionaries)."""
    spelled: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        key = spelled.setdefault(name.lower(), name)
        grouped.setdefault(key, []).append(value)
    return grouped


def request_headers(request: web.BaseRequest) -> dict[str, str]:
    return {name.lower(): _join(values) for name, values in _group(request.headers.items()).items()}


def query_params(raw_query: str) -> dict[str, str]:
    grouped = _group(parse_qsl(raw_query, keep_blank_values=True))
    joined = {name: _join(values) for name, values in grouped.items()}
    return {name: value for name, value in joined.items() if value}


def request_url(request: web.BaseRequest) -> str:
    return f"{request.scheme}://{request.host}{request.rel_url.raw_path_qs}"


def to_func_request(
    request: web.BaseRequest, body: bytes, route_params: Mapping[str, str]
) -> func.HttpRequest:
    # The worker builds this subclass (body type "bytes": it asks the host for raw body bytes).
    return WorkerHttpRequest(
        method=request.method,
        url=request_url(request),
        headers=request_headers(request),
        params=query_params(request.rel_url.raw_query_string),
        route_params=dict(route_params),
        body_type="bytes",
        body=body,
    )


def is_http_response(value: object) -> bool:
    return isinstance(value, func_abc.HttpResponse)


def _content_type(response: func.HttpResponse) -> str:
    # Same default as the worker's HttpResponseConverter.
    mimetype, charset = str(response.mimetype), str(response.charset)
    return f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype


def to_web_response(response: func.HttpResponse) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in response.headers.items():
        lowered = name.lower()
        if lowered == "set-cookie":
            headers.add(name, value)
        elif lowered not in _FRAMING_HEADERS:
            headers[name] = value
    if "content-type" not in headers:
        headers["Content-Type"] = _content_type(response)
    return web.Response(status=int(response.status_code), body=response.get_body(), headers=headers)
