"""The functions that turn a recording into notes: storage and ACS events, and the queued jobs.

The upload is noticed through Event Grid's `BlobCreated` event, not a blob trigger: a Python blob trigger
hands the worker the blob's bytes, and recordings are up to 4 GiB (DESIGN rule 4). The jobs run on queue
triggers; each poison queue's trigger fails the recording with the reason once the host gives up on a job.
"""

# No `from __future__ import annotations`: the Functions worker matches trigger parameters to bindings by
# their annotated types, which must be real objects (and only azure.functions types are named here, so
# evaluating them costs nothing at cold start).
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import TYPE_CHECKING

import azure.functions as func

from shared.http import blueprint
from shared.logs import log_context

if TYPE_CHECKING:
    from shared.bootstrap import Services
    from shared.services.jobs import Job

bp = blueprint()
log = logging.getLogger(__name__)

# The host's storage connection: the queues the app writes are the ones its triggers read.
JOBS_CONNECTION = "AzureWebJobsStorage"


@bp.function_name("recording_uploaded")
@bp.event_grid_trigger(arg_name="event")
async def recording_uploaded(event: func.EventGridEvent, context: func.Context) -> None:
    """A BlobCreated event for `recordings/...`: queue the transcription (Event Grid retries errors)."""
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design
    from shared.storage_events import blob_created  # noqa: PLC0415

    with log_context(invocation=context.invocation_id):
        blob = blob_created(event.event_type, event.subject, event.get_json())
        if blob is None or blob.container != "recordings":
            log.info(
                "event %s (%s, %s) is not a recording upload: ignored",
                event.id,
                event.event_type,
                event.subject,
            )
            return
        await (await get_services()).recordings.source_landed(blob.name, etag=blob.etag)


@bp.function_name("call_recording_ready")
@bp.event_grid_trigger(arg_name="event")
async def call_recording_ready(event: func.EventGridEvent, context: func.Context) -> None:
    """ACS's RecordingFileStatusUpdated: note the files and queue their fetch (Event Grid retries errors)."""
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


@bp.function_name("recording_fetch_job")
@bp.queue_trigger(arg_name="msg", queue_name="recording-fetch-jobs", connection=JOBS_CONNECTION)
async def recording_fetch_job(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(msg, context, "recording-fetch-jobs", lambda s, job: s.call_recording_fetch.run(job))


@bp.function_name("recording_fetch_job_poisoned")
@bp.queue_trigger(arg_name="msg", queue_name="recording-fetch-jobs-poison", connection=JOBS_CONNECTION)
async def recording_fetch_job_poisoned(msg: func.QueueMessage, context: func.Context) -> None:
    await _on_job(
        msg, context, "recording-fetch-jobs-poison", lambda s, job: s.call_recording_fetch.poisoned(job.ref)
    )


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
        inserted = msg.insertion_time
        if inserted is not None and inserted.tzinfo is None:
            inserted = inserted.replace(tzinfo=UTC)  # the host's times are UTC
        job = Job(ref, message_id=msg.id or "", dequeue_count=msg.dequeue_count or 0, enqueued_at=inserted)
        await act(await get_services(), job)
