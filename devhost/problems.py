"""RFC 9457 problem+json answers for devhost's own endpoints (uploads, webhooks): a cause, never a trace."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus

from aiohttp import web

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, detail: str, *, instance: str | None = None, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = problem_body(status, detail, instance=instance)
    return web.Response(status=status, body=body, content_type=PROBLEM_JSON, headers=headers)


def problem_body(status: int, detail: str, *, instance: str | None = None) -> bytes:
    body: dict[str, object] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    return json.dumps(body).encode()
