"""The erasure job's queue triggers (shared/services/erasure.py does the work)."""

# No `from __future__ import annotations`: the worker matches trigger parameters by their real types.
import logging

import azure.functions as func

from functions.pipeline import JOBS_CONNECTION
from shared.http import blueprint
from shared.logs import log_context

bp = blueprint()
log = logging.getLogger(__name__)


@bp.function_name("erasure_job")
@bp.queue_trigger(arg_name="msg", queue_name="erasure-jobs", connection=JOBS_CONNECTION)
async def erasure_job(msg: func.QueueMessage, context: func.Context) -> None:
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design
    from shared.services.erasure import parse_job_message  # noqa: PLC0415

    with log_context(invocation=context.invocation_id):
        key = parse_job_message(msg.get_body().decode("utf-8", "replace"))
        if key is None:
            log.error("erasure-jobs message %s is not a job: dropped", msg.id)
            return
        await (await get_services()).erasure.run(key)


@bp.function_name("erasure_job_poisoned")
@bp.queue_trigger(arg_name="msg", queue_name="erasure-jobs-poison", connection=JOBS_CONNECTION)
async def erasure_job_poisoned(msg: func.QueueMessage, context: func.Context) -> None:
    # The job keeps its steps done and says `running`; DELETE /api/me again queues it anew and it resumes.
    with log_context(invocation=context.invocation_id):
        log.error(
            "an erasure job failed %s times and was set aside (message %s): "
            "the user's DELETE /api/me resumes it",
            msg.dequeue_count,
            msg.id,
        )
