"""Timer triggers, as the Functions host runs them: each `timerTrigger` function fires on its NCRONTAB
schedule (six fields, `second minute hour day month day-of-week`, in UTC), and once at start when it
says `runOnStartup`. `%NAME%` schedules are read from the environment, as the host reads app settings.

The fields take what the app's schedules use: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and
lists of those (no month or day names). A restricted day and day-of-week must both match. Invocations of
one function never overlap (the host's singleton lock): a run still going when its next time comes makes
that time be skipped, as a past-due run in Azure is run once, late. A failing invocation is logged and
the schedule goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from devhost.app_loader import AppIndex, FunctionEntry, triggered_by
from devhost.context import InvocationContext
from devhost.invoker import invoke

logger = logging.getLogger(__name__)

TIMER_TRIGGER = "timerTrigger"
# (low, high) of each field: second, minute, hour, day of month, month, day of week (0 = Sunday).
_FIELDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_SEARCH_DAYS = 366 * 5  # far enough for any date a valid schedule names (29 February included)


class Schedule:
    """An NCRONTAB expression: `Schedule.parse("0 */5 * * * *").next_after(now)`."""

    def __init__(self, text: str, allowed: tuple[frozenset[int], ...]) -> None:
        self.text = text
        self._seconds, self._minutes, self._hours, self._days, self._months, self._weekdays = allowed

    @classmethod
    def parse(cls, text: str) -> Schedule:
        fields = text.split()
        if len(fields) != len(_FIELDS):
            raise ValueError(f"NCRONTAB {text!r} needs 6 fields (second minute hour day month day-of-week)")
        return cls(text, tuple(_field(f, low, high) for f, (low, high) in zip(fields, _FIELDS, strict=True)))

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after `moment` (aware; the result in UTC) the schedule fires."""
        start = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        day = start.replace(hour=0, minute=0, second=0)
        for _ in range(_SEARCH_DAYS):
            if (
                day.month in self._months
                and day.day in self._days
                and (day.isoweekday() % 7) in self._weekdays
            ):
                for hour in sorted(self._hours):
                    for minute in sorted(self._minutes):
                        for second in sorted(self._seconds):
                            candidate = day.replace(hour=hour, minute=minute, second=second)
                            if candidate >= start:
                                return candidate
            day += timedelta(days=1)
        raise ValueError(f"NCRONTAB {self.text!r} never fires")


def _field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first_text, _, last_text = span.partition("-")
            first, last = int(first_text), int(last_text)
        else:
            first = last = int(span)
            if step_text:
                last = high  # `5/15`: from 5, every 15
        step = int(step_text) if step_text else 1
        if not (low <= first <= last <= high) or step < 1:
            raise ValueError(f"NCRONTAB field {text!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def schedule_of(entry: FunctionEntry) -> Schedule:
    text = str(entry.trigger.get("schedule") or "")
    if text.startswith("%") and text.endswith("%") and len(text) > 2:
        setting = text[1:-1]
        text = os.environ.get(setting, "")
        if not text:
            raise ValueError(f"{entry.name}: its schedule setting {setting} is not set")
    return Schedule.parse(text)


class TimerRunner:
    """Runs every `timerTrigger` function of the app on its schedule, from start to stop."""

    trigger_types = frozenset({TIMER_TRIGGER})

    def __init__(self, functions: AppIndex | Iterable[FunctionEntry]) -> None:
        entries = triggered_by(functions, TIMER_TRIGGER)
        # Parsed now: a bad schedule fails the start, as the host refuses to index the function.
        self._timers = [(entry, schedule_of(entry)) for entry in entries]
        self._tasks: list[asyncio.Task[None]] = []

    def describe(self) -> list[str]:
        return [f"  {entry.name}: timerTrigger ({schedule.text}, UTC)" for entry, schedule in self._timers]

    async def start(self) -> None:
        for entry, schedule in self._timers:
            on_startup = bool(entry.trigger.get("runOnStartup"))
            self._tasks.append(asyncio.create_task(self._run(entry, schedule, on_startup), name=entry.name))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, entry: FunctionEntry, schedule: Schedule, on_startup: bool) -> None:
        if on_startup:
            await self.fire(entry, past_due=False)
        due = schedule.next_after(datetime.now(UTC))
        while True:
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            now = datetime.now(UTC)
            await self.fire(entry, past_due=now - due > timedelta(seconds=1))
            due = schedule.next_after(max(due, datetime.now(UTC)))  # times passed while it ran: skipped

    async def fire(self, entry: FunctionEntry, *, past_due: bool) -> None:
        """One invocation, now (what the schedule does, and what a test can do without waiting)."""
        context = InvocationContext(entry.name, entry.directory)
        started = time.perf_counter()
        outcome = "succeeded"
        try:
            await invoke(entry, TimerRequest(past_due=past_due), context)
        except Exception:
            outcome = "failed"
            logger.exception("Timer function %s failed (invocation %s)", entry.name, context.invocation_id)
        logger.info(
            "timer function=%s %s %.1fms invocation=%s",
            entry.name,
            outcome,
            (time.perf_counter() - started) * 1000,
            context.invocation_id,
        )
