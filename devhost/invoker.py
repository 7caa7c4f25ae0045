"""Calls a user function the way the Python worker does, whatever the trigger."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from devhost.app_loader import FunctionEntry
from devhost.context import InvocationContext


async def invoke(entry: FunctionEntry, trigger_value: Any, context: InvocationContext) -> Any:
    """Passes the trigger under its binding name, and `context` when the function declares it.

    Coroutine functions run on the event loop; plain functions run in a worker thread (as the
    worker's thread pool does), so a blocking handler does not stall other requests.
    """
    kwargs: dict[str, Any] = {entry.binding_name: trigger_value}
    if entry.requires_context:
        kwargs["context"] = context
    fn = entry.user_function
    if inspect.iscoroutinefunction(fn):
        context.thread_local_storage.invocation_id = context.invocation_id
        return await fn(**kwargs)

    def run() -> Any:
        context.thread_local_storage.invocation_id = context.invocation_id
        return fn(**kwargs)

    return await asyncio.to_thread(run)
