"""Recordings over HTTP: uploaded ones, and recordings of the meeting's call that ACS makes.

Thin, like every function module: parse, call a service, map the result. The functions that turn a
recording into notes (events and queue jobs) are in functions/pipeline.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from shared.domain.recording_paths import SUMMARY_FILES
from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

if TYPE_CHECKING:
    pass

bp = blueprint()
log = logging.getLogger(__name__)

RECORDINGS = "meetings/{meetingId}/recordings"
RECORDING = "meetings/{meetingId}/recordings/{recordingId}"
TRANSCRIPT_MEDIA_TYPES = ("application/json", "text/vtt", "application/x-subrip", "text/plain")
SUMMARY_MEDIA_TYPES = ("application/json", "text/markdown")
# On a summary: whether it is the previous one, served while a new one is made (the JSON says it too).
REGENERATING_HEADER = "X-Summary-Regenerating"
# The host's storage connection: the queues the app writes are the ones its triggers read.
JOBS_CONNECTION = "AzureWebJobsStorage"


@endpoint(
    bp,
    name="create_recording",
    method="POST",
    route=RECORDINGS,
    summary="Add a recording (organizer, presenters): returns where to PUT its bytes",
    tag="recordings",
    body="CreateRecording",
    ok=(201, "CreatedRecording", "The recording, awaiting its upload, and the upload URL"),
    errors=(403, 404, 409, 503),
    response_headers=("Location",),
)
async def create_recording(req: ApiRequest[schemas.CreateRecording, None]) -> ApiResponse:
    created = await req.services.recordings.create(req.caller.user_id, req.route["meetingId"], req.body)
    location = f"{req.url.split('?', 1)[0].rstrip('/')}/{created.recording.id}"
    # The upload URL is a credential: no cache may keep it.
    return ApiResponse.json(
        schemas.CreatedRecording.with_upload(created.recording, created.upload),
        201,
        {"Location": location, "Cache-Control": "no-store"},
    )


@endpoint(
    bp,
    name="renew_upload",
    method="POST",
    route=f"{RECORDING}/upload",
    summary="A fresh upload URL (organizer, presenters) for a recording awaiting its upload, or one that "
    "failed (its new file starts it over)",
    tag="recordings",
    ok=(200, "CreatedRecording", "The recording and a new upload URL"),
    errors=(403, 404, 409, 503),
)
async def renew_upload(req: ApiRequest[None, None]) -> ApiResponse:
    renewed = await req.services.recordings.renew_upload(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"]
    )
    return ApiResponse.json(
        schemas.CreatedRecording.with_upload(renewed.recording, renewed.upload),
        headers={"Cache-Control": "no-store"},
    )


@endpoint(
    bp,
    name="get_recording_media",
    method="GET",
    route=f"{RECORDING}/media",
    summary="A short-lived, read-only URL of the recording's file, for a player (HTTP Range requests work); "
    "410 with the code `source_deleted` once retention deleted it",
    tag="recordings",
    ok=(200, "MediaOut", "Where to read the recording's file, until when"),
    errors=(404, 409, 410, 503),
)
async def get_recording_media(req: ApiRequest[None, None]) -> ApiResponse:
    target = await req.services.recordings.media(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"]
    )
    # A read credential, however short-lived: no cache may keep it.
    return ApiResponse.json(
        schemas.MediaOut(url=target.url, expires_on=target.expires_on), headers={"Cache-Control": "no-store"}
    )


@endpoint(
    bp,
    name="list_recordings",
    method="GET",
    route=RECORDINGS,
    summary="The meeting's recordings, oldest first",
    tag="recordings",
    ok=(200, "RecordingList", "The recordings"),
    errors=(404,),
)
async def list_recordings(req: ApiRequest[None, None]) -> ApiResponse:
    items = await req.services.recordings.list(req.caller.user_id, req.route["meetingId"])
    return ApiResponse.json(schemas.RecordingList(items=[schemas.RecordingOut.of(r) for r in items]))


@endpoint(
    bp,
    name="get_recording",
    method="GET",
    route=RECORDING,
    summary="A recording: its status, stage, progress and error",
    tag="recordings",
    ok=(200, "RecordingOut", "The recording"),
    errors=(404,),
)
async def get_recording(req: ApiRequest[None, None]) -> ApiResponse:
    recording = await req.services.recordings.get(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"]
    )
    return ApiResponse.json(schemas.RecordingOut.of(recording))


@endpoint(
    bp,
    name="get_transcript",
    method="GET",
    route=f"{RECORDING}/transcript",
    summary="The recording's transcript as JSON, WebVTT, SRT or plain text",
    tag="recordings",
    query="TranscriptQuery",
    ok=(200, "TranscriptOut", "The transcript in the asked format (the schema is the JSON one's)"),
    errors=(404, 409),
    ok_media_types=TRANSCRIPT_MEDIA_TYPES,
)
async def get_transcript(req: ApiRequest[None, schemas.TranscriptQuery]) -> ApiResponse:
    transcript = await req.services.recordings.transcript(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"], req.query.format
    )
    return ApiResponse(200, transcript.body, transcript.media_type)


@endpoint(
    bp,
    name="get_summary",
    method="GET",
    route=f"{RECORDING}/summary",
    summary="The recording's summary: overview, key points, decisions, action items, chapters",
    tag="recordings",
    query="SummaryQuery",
    ok=(200, "SummaryOut", "The summary as JSON or Markdown (the schema is the JSON one's)"),
    errors=(404, 409),
    ok_media_types=SUMMARY_MEDIA_TYPES,
    response_headers=("ETag", REGENERATING_HEADER),
)
async def get_summary(req: ApiRequest[None, schemas.SummaryQuery]) -> ApiResponse:
    notes, args = req.services.notes, (req.caller.user_id, req.route["meetingId"], req.route["recordingId"])
    current = await notes.summary(*args)
    # While a new summary is made, this is the previous one: said in the header (every format) and the JSON.
    headers = {"ETag": current.etag, REGENERATING_HEADER: "true" if current.regenerating else "false"}
    if req.query.format == "md":
        markdown = await notes.markdown(*args)
        return ApiResponse(200, markdown.encode(), SUMMARY_FILES["md"][1], headers)
    body = schemas.SummaryOut.model_validate(
        {**current.summary.model_dump(), "regenerating": current.regenerating}
    )
    return ApiResponse.json(body, headers=headers)


@endpoint(
    bp,
    name="regenerate_summary",
    method="POST",
    route=f"{RECORDING}/summary",
    summary="Summarize the transcript again (organizer), e.g. after changing the summarizer; a summary "
    "a person edited or approved needs `force=true` (every version is kept)",
    tag="recordings",
    query="RegenerateQuery",
    ok=(202, "RecordingOut", "The recording, summarizing"),
    errors=(403, 404, 409, 503),
)
async def regenerate_summary(req: ApiRequest[None, schemas.RegenerateQuery]) -> ApiResponse:
    recording = await req.services.recordings.regenerate_summary(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"], force=req.query.force
    )
    return ApiResponse.json(schemas.RecordingOut.of(recording), 202)


@endpoint(
    bp,
    name="delete_recording",
    method="DELETE",
    route=RECORDING,
    summary="Delete a recording (organizer): its upload and every artifact",
    tag="recordings",
    ok=(204, None, "Deleted"),
    errors=(403, 404, 503),
)
async def delete_recording(req: ApiRequest[None, None]) -> ApiResponse:
    await req.services.recordings.delete(req.caller.user_id, req.route["meetingId"], req.route["recordingId"])
    return ApiResponse.empty()


# --- recording the meeting's call ----------------------------------------------------------------------

CALL_RECORDING = "meetings/{meetingId}/recording"


@endpoint(
    bp,
    name="start_call_recording",
    method="POST",
    route=f"{CALL_RECORDING}/start",
    summary="Start recording the meeting's call with ACS (organizer, presenters)",
    tag="call recording",
    body="StartCallRecording",
    ok=(202, "RecordingOut", "The recording, status `recording`"),
    errors=(403, 404, 409, 502, 503),
)
async def start_call_recording(req: ApiRequest[schemas.StartCallRecording, None]) -> ApiResponse:
    recording = await req.services.call_recordings.start(req.caller.user_id, req.route["meetingId"], req.body)
    return ApiResponse.json(schemas.RecordingOut.of(recording), 202)


def _control(action: Literal["pause", "resume", "stop"], summary: str) -> None:
    async def control(req: ApiRequest[None, schemas.CallRecordingQuery]) -> ApiResponse:
        recording = await req.services.call_recordings.control(
            req.caller.user_id, req.route["meetingId"], action, req.query.recording_id
        )
        return ApiResponse.json(schemas.RecordingOut.of(recording), 202)

    endpoint(
        bp,
        name=f"{action}_call_recording",
        method="POST",
        route=f"{CALL_RECORDING}/{action}",
        summary=summary,
        tag="call recording",
        query="CallRecordingQuery",
        ok=(202, "RecordingOut", "The recording"),
        errors=(403, 404, 409, 502, 503),
    )(control)


_control("pause", "Pause recording the meeting's call (organizer, presenters)")
_control("resume", "Resume recording the meeting's call (organizer, presenters)")
_control("stop", "Stop recording the meeting's call: ACS then delivers the file (organizer, presenters)")
