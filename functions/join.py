"""Joining a meeting's call: an ACS token for the meeting's room, and the answer to its recording notice."""

from __future__ import annotations

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
    # A meeting with autoCaptions: the first one in starts them (never fails the join). Others cost nothing.
    if joined.meeting.auto_captions:
        await req.services.captions.auto_start(req.caller.user_id, joined.meeting)
    body = schemas.JoinOut(
        acs_user_id=joined.acs_user_id,
        token=joined.token,
        expires_on=joined.expires_on,
        room_id=joined.room_id,
        role=joined.role,
        endpoint=joined.endpoint,
        consent=schemas.ConsentOut(
            required=joined.consent.required, notice=joined.consent.notice, accepted=joined.consent.accepted
        ),
    )
    # A bearer credential: no cache anywhere may keep it.
    return ApiResponse.json(body, headers={"Cache-Control": "no-store"})


@endpoint(
    bp,
    name="recording_consent",
    method="POST",
    route="meetings/{meetingId}/consent",
    summary="The caller accepts or declines being recorded in this meeting (its recording notice)",
    tag="meetings",
    body="ConsentIn",
    ok=(200, "ConsentOut", "The notice and the caller's answer, as stored"),
    errors=(404, 409, 503),
)
async def recording_consent(req: ApiRequest[schemas.ConsentIn, None]) -> ApiResponse:
    from shared.services.join import Consent  # noqa: PLC0415 - services load with the first request

    meeting = await req.services.meetings.consent(
        req.caller.user_id, req.route["meetingId"], req.body.accepted
    )
    consent = Consent.of(meeting, req.caller.user_id)
    return ApiResponse.json(
        schemas.ConsentOut(required=consent.required, notice=consent.notice, accepted=consent.accepted)
    )
