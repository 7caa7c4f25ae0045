"""The reconciler's timer: heals what events and queues can miss (shared/services/reconciler.py).

Every five minutes (NCRONTAB, UTC), not at startup: a scale-out or a restart must not add passes, and
the schedule monitor (on by default for schedules this long) makes a pass missed while the app was down
run when it comes back. Two instances running a pass at once is harmless: every change is an ETag write.
"""

# No `from __future__ import annotations`: the worker matches trigger parameters by their real types.
import logging

import azure.functions as func

from shared.http import blueprint
from shared.logs import log_context

bp = blueprint()
log = logging.getLogger(__name__)

RECONCILE_SCHEDULE = "0 */5 * * * *"


@bp.function_name("reconcile")
@bp.timer_trigger(schedule=RECONCILE_SCHEDULE, arg_name="timer", run_on_startup=False)
async def reconcile(timer: func.TimerRequest, context: func.Context) -> None:
    from shared.bootstrap import get_services  # noqa: PLC0415 - building services is lazy, by design

    with log_context(invocation=context.invocation_id):
        if timer.past_due:
            log.info("the reconciler's pass is late (the app was down or busy): running it now")
        await (await get_services()).reconciler.run()
