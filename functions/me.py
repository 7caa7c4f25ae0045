"""The caller's own data: its export and its erasure (a job: functions/erasure_jobs.py runs it)."""

from __future__ import annotations

from shared.http import JSON, ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="export_me",
    method="GET",
    route="me/export",
    summary="Everything the service holds about the caller, as one JSON document",
    tag="privacy",
    ok=(200, "ExportOut", "The caller's data"),
    errors=(503,),
)
async def export_me(req: ApiRequest[None, None]) -> ApiResponse:
    # Built piece by piece; joined here because the worker's HTTP streaming needs the FastAPI extension,
    # which would change every function of the app (see shared/services/export.py).
    pieces = [piece async for piece in req.services.export.export(req.caller.user_id)]
    return ApiResponse(
        200,
        b"".join(pieces),
        JSON,
        {"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@endpoint(
    bp,
    name="erase_me",
    method="DELETE",
    route="me",
    summary="Erases the caller: a job (memberships, ACS identity, their words and name in transcripts and "
    "summaries; meetings they organize handed over to `newOrganizer` or cancelled); again: resumes it",
    tag="privacy",
    query="ErasureQuery",
    ok=(202, "ErasureOut", "The job, queued (or under way); Location says where to follow it"),
    errors=(409, 503),
    response_headers=("Location",),
)
async def erase_me(req: ApiRequest[None, schemas.ErasureQuery]) -> ApiResponse:
    erasure = await req.services.erasure.request(req.caller.user_id, req.query.new_organizer)
    return ApiResponse.json(
        schemas.ErasureOut.of(erasure),
        status=202,
        headers={"Location": "/api/me/erasure", "Cache-Control": "no-store"},
    )


@endpoint(
    bp,
    name="get_my_erasure",
    method="GET",
    route="me/erasure",
    summary="How the caller's erasure went: its status and what it did (counts)",
    tag="privacy",
    ok=(200, "ErasureOut", "The job"),
    errors=(404, 503),
)
async def get_my_erasure(req: ApiRequest[None, None]) -> ApiResponse:
    erasure = await req.services.erasure.status(req.caller.user_id)
    return ApiResponse.json(schemas.ErasureOut.of(erasure), headers={"Cache-Control": "no-store"})
