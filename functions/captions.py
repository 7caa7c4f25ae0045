"""Live captions of the meeting's call over HTTP: on and off (organizer, presenters).

Thin, like every function module. The captions themselves arrive at the captions service (captions/),
which ACS streams to; this app only connects ACS to the call and, when captions stop, makes the
transcript and queues the summary (shared/services/captions.py).
"""

from __future__ import annotations

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()

CAPTIONS = "meetings/{meetingId}/captions"


@endpoint(
    bp,
    name="start_captions",
    method="POST",
    route=f"{CAPTIONS}/start",
    summary="Turn live captions on for the meeting's call (organizer, presenters): ACS transcribes it in "
    "real time; everyone in the meeting's live channel gets `caption` events",
    tag="captions",
    body="StartCaptions",
    ok=(202, "RecordingOut", "The recording made for the captions (`live` set, status `recording`)"),
    errors=(403, 404, 409, 503),
)
async def start_captions(req: ApiRequest[schemas.StartCaptions, None]) -> ApiResponse:
    recording = await req.services.captions.start(
        req.caller.user_id, req.route["meetingId"], req.body.language
    )
    return ApiResponse.json(schemas.RecordingOut.of(recording), 202)


@endpoint(
    bp,
    name="stop_captions",
    method="POST",
    route=f"{CAPTIONS}/stop",
    summary="Turn live captions off (organizer, presenters): the final captions become the recording's "
    "transcript (`source: live`) and its summary is made at once",
    tag="captions",
    ok=(202, "RecordingOut", "The captions' recording, summarizing (or failed: nothing was captioned)"),
    errors=(403, 404, 409, 503),
)
async def stop_captions(req: ApiRequest[None, None]) -> ApiResponse:
    recording = await req.services.captions.stop(req.caller.user_id, req.route["meetingId"])
    return ApiResponse.json(schemas.RecordingOut.of(recording), 202)
