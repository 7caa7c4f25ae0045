"""Recordings over HTTP, and the functions that turn an uploaded recording into a transcript.

Thin, like every function module: parse, call a service, map the result. The upload is noticed through
Event Grid's `BlobCreated` event, not a blob trigger: a Python blob trigger hands the worker the blob's
bytes, and recordings are up to 4 GiB (DESIGN rule 4). The jobs run on queue triggers; the poison queue's
trigger fails the recording with the reason once the host gives up on a job.
"""

# No `from __future__ import annotations`: the Functions worker matches trigger parameters to bindings
# by their annotated types, which must be real objects.
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

import azure.functions as func

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas
from shared.logs import log_context

if TYPE_CHECKING:
    from shared.bootstrap import Services
    from shared.services.jobs import Job

bp = blueprint()
log = logging.getLogger(__name__)

RECORDINGS = "meetings/{meetingId}/recordings"
RECORDING = "meetings/{meetingId}/recordings/{recordingId}"
TRANSCRIPT_MEDIA_TYPES = ("application/json", "text/vtt", "application/x-subrip", "text/plain")
SUMMARY_MEDIA_TYPES = ("application/json", "text/markdown")
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
    recording, upload = created.recording, created.upload
    body = schemas.CreatedRecording.model_validate(
        {
            **schemas.RecordingOut.of(recording).model_dump(),
            "upload": schemas.UploadOut(
                url=upload.url, method=upload.method, headers=upload.headers, expires_on=upload.expires_on
            ),
        }
    )
    location = f"{req.url.split('?', 1)[0].rstrip('/')}/{recording.id}"
    # The upload URL is a credential: no cache may keep it.
    return ApiResponse.json(body, 201, {"Location": location, "Cache-Control": "no-store"})


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
    ok=(200, None, "The transcript in the asked format"),
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
    ok=(200, None, "The summary as JSON or Markdown"),
    errors=(404, 409),
    ok_media_types=SUMMARY_MEDIA_TYPES,
)
async def get_summary(req: ApiRequest[None, schemas.SummaryQuery]) -> ApiResponse:
    summary = await req.services.recordings.summary(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"], req.query.format
    )
    return ApiResponse(200, summary.body, summary.media_type)


@endpoint(
    bp,
    name="regenerate_summary",
    method="POST",
    route=f"{RECORDING}/summary",
    summary="Summarize the transcript again (organizer), e.g. after changing the summarizer",
    tag="recordings",
    ok=(202, "RecordingOut", "The recording, summarizing"),
    errors=(403, 404, 409, 503),
)
async def regenerate_summary(req: ApiRequest[None, None]) -> ApiResponse:
    recording = await req.services.recordings.regenerate_summary(
        req.caller.user_id, req.route["meetingId"], req.route["recordingId"]
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


@bp.function_name("call_recording_ready")
@bp.event_grid_trigger(arg_name="event")
async def call_recording_ready(event: func.EventGridEvent, context: func.Context) -> None:
    """ACS's RecordingFileStatusUpdated: fetch the file into the recording (Event Grid retries failures)."""
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design
    from shared.call_events import MalformedEvent, recording_file  # noqa: PLC0415

    with log_context(invocation=context.invocation_id):
        try:
            delivered = recording_file(event.event_type, event.subject, event.get_json())
        except MalformedEvent as exc:
            log.error("event %s is a malformed %s: %s; dropped", event.id, event.event_type, exc)
            return
        if delivered is None:
            log.info("event %s (%s) is not a recording file: ignored", event.id, event.event_type)
            return
        await (await get_services()).call_recordings.file_ready(delivered)


# --- the pipeline's triggers -------------------------------------------------------------------------


@bp.function_name("recording_uploaded")
@bp.event_grid_trigger(arg_name="event")
async def recording_uploaded(event: func.EventGridEvent, context: func.Context) -> None:
    """A BlobCreated event for `recordings/...`: queue the transcription (Event Grid retries errors)."""
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design
    from shared.storage_events import blob_created  # noqa: PLC0415

    with log_context(invocation=context.invocation_id):
        blob = blob_created(event.event_type, event.subject)
        if blob is None or blob.container != "recordings":
            log.info(
                "event %s (%s, %s) is not a recording upload: ignored",
                event.id,
                event.event_type,
                event.subject,
            )
            return
        await (await get_services()).recordings.source_landed(blob.name)


@bp.function_name("transcription_job")
@bp.queue_trigger(arg_name="msg", queue_name="transcription-jobs", connection=JOBS_CONNECTION)
async def transcription_job(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(msg, context, "transcription-jobs", lambda s, job: s.transcription.run(job))


@bp.function_name("transcription_job_poisoned")
@bp.queue_trigger(arg_name="msg", queue_name="transcription-jobs-poison", connection=JOBS_CONNECTION)
async def transcription_job_poisoned(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(msg, context, "transcription-jobs-poison", lambda s, job: s.transcription.poisoned(job.ref))


@bp.function_name("summary_job")
@bp.queue_trigger(arg_name="msg", queue_name="summary-jobs", connection=JOBS_CONNECTION)
async def summary_job(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(msg, context, "summary-jobs", lambda s, job: s.summary.run(job))


@bp.function_name("summary_job_poisoned")
@bp.queue_trigger(arg_name="msg", queue_name="summary-jobs-poison", connection=JOBS_CONNECTION)
async def summary_job_poisoned(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(msg, context, "summary-jobs-poison", lambda s, job: s.summary.poisoned(job.ref))


async def _on_job(
    msg: func.QueueMessage,
    context: func.Context,
    queue: str,
    act: Callable[["Services", "Job"], Awaitable[object]],
) -> None:
    """Parses a job message and hands it to the services; a message that is no job is dropped, logged."""
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design
    from shared.domain.recording_paths import parse_job_message  # noqa: PLC0415
    from shared.services.jobs import Job  # noqa: PLC0415

    with log_context(invocation=context.invocation_id):
        ref = parse_job_message(msg.get_body().decode("utf-8", "replace"))
        if ref is None:
            log.error("%s message %s is not a job: dropped", queue, msg.id)
            return
        job = Job(ref, message_id=msg.id or "", dequeue_count=msg.dequeue_count or 0)
        await act(await get_services(), job)
