"""How runners stop: what is in flight gets a grace period, then is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any


async def finish_or_cancel(tasks: Collection[asyncio.Task[Any]], grace: float) -> None:
    """Lets `tasks` run for up to `grace` seconds, cancels those still running, and waits for all."""
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
