"""Health and the OpenAPI document: anonymous, cheap, and free of service construction."""

import json

from shared import __version__
from shared.http import OPERATIONS, ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="health",
    method="GET",
    route="health",
    summary="Liveness: the app is loaded and answering",
    tag="system",
    ok=(200, "Health", "Alive"),
    authenticated=False,
)
async def health(req: ApiRequest[None, None]) -> ApiResponse:
    return ApiResponse.json(schemas.Health(status="ok", version=__version__))


_document: bytes | None = None


@endpoint(
    bp,
    name="openapi",
    method="GET",
    route="openapi.json",
    summary="This API's OpenAPI 3.1 document",
    tag="system",
    ok=(200, None, "The OpenAPI document"),
    authenticated=False,
)
async def openapi(req: ApiRequest[None, None]) -> ApiResponse:
    global _document  # noqa: PLW0603 - built once per worker, on first request
    if _document is None:
        from shared.openapi import build_openapi  # noqa: PLC0415 - only this route needs it

        _document = json.dumps(build_openapi(OPERATIONS, __version__)).encode()
    return ApiResponse(200, _document, "application/json")
