"""Meetings and participants over HTTP. Thin: parse (done by `endpoint`), call the service, map the result."""

from __future__ import annotations

from typing import Any

from shared.domain.errors import InvalidInput
from shared.domain.ids import is_valid_user_id
from shared.http import JSON, ApiRequest, ApiResponse, blueprint, endpoint, quoted_etag, schemas

bp = blueprint()

MEETING = "meetings/{meetingId}"
PARTICIPANT = "meetings/{meetingId}/participants/{userId}"


@endpoint(
    bp,
    name="create_meeting",
    method="POST",
    route="meetings",
    summary="Schedule a meeting (the caller organizes it) and create its ACS room",
    tag="meetings",
    body="CreateMeeting",
    ok=(201, "MeetingOut", "The meeting"),
    errors=(502, 503),
    response_headers=("Location", "ETag"),
)
async def create_meeting(req: ApiRequest[schemas.CreateMeeting, None]) -> ApiResponse:
    stored = await req.services.meetings.create(req.caller.user_id, req.body)
    location = f"{req.url.split('?', 1)[0].rstrip('/')}/{stored.value.id}"
    return ApiResponse.json(
        schemas.MeetingOut.of(stored.value), 201, {"Location": location, "ETag": quoted_etag(stored.etag)}
    )


@endpoint(
    bp,
    name="list_meetings",
    method="GET",
    route="meetings",
    summary="The meetings the caller organizes or is invited to, by start time",
    tag="meetings",
    query="ListMeetingsQuery",
    ok=(200, "MeetingList", "One page of meetings"),
)
async def list_meetings(req: ApiRequest[None, schemas.ListMeetingsQuery]) -> ApiResponse:
    page = await req.services.meetings.list(req.caller.user_id, req.query)
    return ApiResponse(200, schemas.MeetingList.render(page.items, page.continuation_token), JSON)


@endpoint(
    bp,
    name="get_meeting",
    method="GET",
    route=MEETING,
    summary="A meeting, for its organizer and participants",
    tag="meetings",
    ok=(200, "MeetingOut", "The meeting"),
    errors=(404,),
    response_headers=("ETag",),
)
async def get_meeting(req: ApiRequest[None, None]) -> ApiResponse:
    stored = await req.services.meetings.get(req.caller.user_id, req.route["meetingId"])
    return ApiResponse.json(schemas.MeetingOut.of(stored.value), headers={"ETag": quoted_etag(stored.etag)})


@endpoint(
    bp,
    name="update_meeting",
    method="PATCH",
    route=MEETING,
    summary="Change a meeting (organizer); the ACS room's window and members follow",
    tag="meetings",
    body="UpdateMeeting",
    ok=(200, "MeetingOut", "The changed meeting"),
    errors=(403, 404, 409, 412, 502, 503),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def update_meeting(req: ApiRequest[schemas.UpdateMeeting, None]) -> ApiResponse:
    stored = await req.services.meetings.update(
        req.caller.user_id, req.route["meetingId"], req.body, req.headers.get("if-match")
    )
    return ApiResponse.json(schemas.MeetingOut.of(stored.value), headers={"ETag": quoted_etag(stored.etag)})


@endpoint(
    bp,
    name="cancel_meeting",
    method="DELETE",
    route=MEETING,
    summary="Cancel a meeting (organizer): its room is deleted and its participants' ACS tokens revoked",
    tag="meetings",
    ok=(204, None, "Cancelled"),
    errors=(403, 404, 409, 412, 502, 503),
    request_headers=("If-Match",),
)
async def cancel_meeting(req: ApiRequest[None, None]) -> ApiResponse:
    await req.services.meetings.cancel(
        req.caller.user_id, req.route["meetingId"], req.headers.get("if-match")
    )
    return ApiResponse.empty()


@endpoint(
    bp,
    name="put_participant",
    method="PUT",
    route=PARTICIPANT,
    summary="Invite a user or change their role (organizer)",
    tag="participants",
    body="PutParticipant",
    ok=(200, "ParticipantOut", "The participant"),
    errors=(403, 404, 409, 502, 503),
)
async def put_participant(req: ApiRequest[schemas.PutParticipant, None]) -> ApiResponse:
    participant = await req.services.meetings.put_participant(
        req.caller.user_id,
        req.route["meetingId"],
        _user_id(req),
        req.body.role,
        display_name=req.body.display_name,
        set_name="display_name" in req.body.model_fields_set,
    )
    return ApiResponse.json(schemas.ParticipantOut.model_validate(participant.model_dump()))


@endpoint(
    bp,
    name="rename_participant",
    method="PATCH",
    route=PARTICIPANT,
    summary="Set a participant's display name: the organizer anyone's, a participant their own",
    tag="participants",
    body="PatchParticipant",
    ok=(200, "ParticipantOut", "The participant"),
    errors=(403, 404, 409, 412, 503),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def rename_participant(req: ApiRequest[schemas.PatchParticipant, None]) -> ApiResponse:
    stored = await req.services.meetings.rename_participant(
        req.caller.user_id,
        req.route["meetingId"],
        _user_id(req),
        req.body.display_name,
        req.headers.get("if-match"),
    )
    return ApiResponse.json(
        schemas.ParticipantOut.model_validate(stored.value.model_dump()),
        headers={"ETag": quoted_etag(stored.etag)},
    )


@endpoint(
    bp,
    name="remove_participant",
    method="DELETE",
    route=PARTICIPANT,
    summary="Remove a participant (organizer): they leave the room and their ACS tokens are revoked",
    tag="participants",
    ok=(204, None, "Removed (or was not a participant)"),
    errors=(403, 404, 409, 502, 503),
)
async def remove_participant(req: ApiRequest[None, None]) -> ApiResponse:
    await req.services.meetings.remove_participant(req.caller.user_id, req.route["meetingId"], _user_id(req))
    return ApiResponse.empty()


def _user_id(req: ApiRequest[Any, Any]) -> str:
    user_id = req.route["userId"]
    if not is_valid_user_id(user_id):
        raise InvalidInput("userId must be 1-128 of letters, digits and .@_+-")
    return user_id
