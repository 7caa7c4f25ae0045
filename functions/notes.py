"""Correcting the notes over HTTP: editing and approving a summary, its versions, naming speakers.

Thin: parse, call shared/services/notes.py, map the result.
"""

from __future__ import annotations

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()

RECORDING = "meetings/{meetingId}/recordings/{recordingId}"


@endpoint(
    bp,
    name="edit_summary",
    method="PUT",
    route=f"{RECORDING}/summary",
    summary="Correct the summary (organizer): a new version; evidence that no longer checks out is kept "
    "and its item marked unverified; an approval is cleared",
    tag="notes",
    body="SummaryEdit",
    ok=(200, "SummaryOut", "The new version"),
    errors=(403, 404, 409, 412),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def edit_summary(req: ApiRequest[schemas.SummaryEdit, None]) -> ApiResponse:
    current = await req.services.notes.edit(
        req.caller.user_id,
        req.route["meetingId"],
        req.route["recordingId"],
        req.body,
        req.headers.get("if-match"),
    )
    return ApiResponse.json(current.summary, headers={"ETag": current.etag})


@endpoint(
    bp,
    name="approve_summary",
    method="POST",
    route=f"{RECORDING}/summary/approve",
    summary="Approve the current summary (organizer): a new version with `approvedBy` and `approvedAt`",
    tag="notes",
    ok=(200, "SummaryOut", "The approved version"),
    errors=(403, 404, 409, 412),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def approve_summary(req: ApiRequest[None, None]) -> ApiResponse:
    current = await req.services.notes.approve(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"], req.headers.get("if-match")
    )
    return ApiResponse.json(current.summary, headers={"ETag": current.etag})


@endpoint(
    bp,
    name="list_summary_versions",
    method="GET",
    route=f"{RECORDING}/summary/versions",
    summary="Every version of the summary: who made it and when (participants see approved ones only "
    "when SUMMARY_VISIBILITY=approved)",
    tag="notes",
    ok=(200, "SummaryVersionList", "The versions, oldest first"),
    errors=(404,),
)
async def list_summary_versions(req: ApiRequest[None, None]) -> ApiResponse:
    versions = await req.services.notes.versions(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"]
    )
    items = [schemas.SummaryVersionOut.model_validate(v.model_dump(exclude={"blob"})) for v in versions]
    return ApiResponse.json(schemas.SummaryVersionList(items=items))


@endpoint(
    bp,
    name="name_speaker",
    method="PUT",
    route=f"{RECORDING}/transcript/speakers/{{speakerId}}",
    summary="Name a transcript's speaker (organizer): a participant or a name; the transcript and the "
    "summary's owners and evidence are rendered again, no provider is asked",
    tag="notes",
    body="NameSpeaker",
    ok=(200, "TranscriptOut", "The transcript with the speaker named"),
    errors=(400, 403, 404, 409),
)
async def name_speaker(req: ApiRequest[schemas.NameSpeaker, None]) -> ApiResponse:
    transcript = await req.services.notes.name_speaker(
        req.caller.user_id,
        req.route["meetingId"],
        req.route["recordingId"],
        req.route["speakerId"],
        user_id=req.body.user_id,
        display_name=req.body.display_name,
    )
    return ApiResponse.json(transcript)
