"""Health, the OpenAPI document and the client configuration: anonymous, cheap, and free of service
construction."""

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


@endpoint(
    bp,
    name="client_config",
    method="GET",
    route="client-config",
    summary="What a browser client needs before it signs in: auth mode, Entra sign-in, calling, uploads",
    tag="system",
    ok=(200, "ClientConfig", "The client configuration (no secret; the same for every caller)"),
    authenticated=False,
    response_headers=("Cache-Control",),
)
async def client_config(req: ApiRequest[None, None]) -> ApiResponse:
    from shared.client_config import client_config as build  # noqa: PLC0415 - only this route needs it
    from shared.config import get_settings  # noqa: PLC0415 - Settings load with the first request

    # Public and short-lived: a browser or a CDN may keep it for 5 minutes, a settings change shows soon.
    headers = {"Cache-Control": "public, max-age=300"}
    return ApiResponse.json(build(get_settings(), __version__), headers=headers)
