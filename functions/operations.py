"""What operators do over HTTP: failed and stuck recordings across meetings, and a retry
(shared/services/operators.py). Callers holding the Operator app role (ADMIN_USERS in dev mode); 403 for
anyone else.

Under `operations/`, not `admin/`: the Functions host reserves routes beginning with `admin` for its own
API and refuses to load a function that claims one.
"""

from __future__ import annotations

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()

OPERATOR_RECORDINGS = "operations/recordings"


@endpoint(
    bp,
    name="operator_recordings",
    method="GET",
    route=OPERATOR_RECORDINGS,
    summary="Failed or stuck recordings across every meeting, with their error (operators)",
    tag="operations",
    query="OperatorRecordingsQuery",
    ok=(200, "OperatorRecordingList", "A page of recordings, oldest update first"),
    errors=(403, 503),
)
async def operator_recordings(req: ApiRequest[None, schemas.OperatorRecordingsQuery]) -> ApiResponse:
    page = await req.services.operators.list(
        req.caller, req.query.status, limit=req.query.limit, continuation=req.query.continuation_token
    )
    items = [schemas.OperatorRecordingOut.of(r) for r in page.items]
    return ApiResponse.json(
        schemas.OperatorRecordingList(items=items, continuation_token=page.continuation_token)
    )


@endpoint(
    bp,
    name="operator_retry",
    method="POST",
    route=f"{OPERATOR_RECORDINGS}/{{meetingId}}/{{recordingId}}/retry",
    summary="Start a failed or stuck recording again (operators): its summary, its transcription from the "
    "stored file, or its stuck job",
    tag="operations",
    ok=(202, "OperatorRecordingOut", "The recording, its job queued"),
    errors=(403, 404, 409, 503),
)
async def operator_retry(req: ApiRequest[None, None]) -> ApiResponse:
    recording = await req.services.operators.retry(
        req.caller, req.route["meetingId"], req.route["recordingId"]
    )
    return ApiResponse.json(schemas.OperatorRecordingOut.of(recording), 202)
