"""Joining a meeting's call: an ACS token for the meeting's room."""

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="join_meeting",
    method="POST",
    route="meetings/{meetingId}/join",
    summary="An ACS token (scope voip.join) for the meeting's room; calling again refreshes it (and starts "
    "live captions when the meeting has autoCaptions and they are off)",
    tag="meetings",
    ok=(200, "JoinOut", "What the calling SDK needs to join the room"),
    errors=(404, 409, 502, 503),
)
async def join_meeting(req: ApiRequest[None, None]) -> ApiResponse:
    joined = await req.services.join.join(req.caller.user_id, req.route["meetingId"])
    # A meeting with autoCaptions: the first one in starts them (never fails the join).
    await req.services.captions.auto_start(req.caller.user_id, req.route["meetingId"])
    body = schemas.JoinOut(
        acs_user_id=joined.acs_user_id,
        token=joined.token,
        expires_on=joined.expires_on,
        room_id=joined.room_id,
        role=joined.role,
        endpoint=joined.endpoint,
    )
    # A bearer credential: no cache anywhere may keep it.
    return ApiResponse.json(body, headers={"Cache-Control": "no-store"})
