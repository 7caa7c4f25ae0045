"""Feeds `eventGridTrigger` functions the way Event Grid delivers to a Functions app.

Two ways in:

- `await runner.publish(events)`: devhost playing Event Grid. Each event goes to every Event Grid function
  (devhost has no event subscriptions, hence no subscription filters: a function sees every event
  published and checks `event_type` and `subject` itself). Delivery is Event Grid's: at least once; an
  invocation that raises, or that has not finished within `response_timeout` (Event Grid waits 30 s for
  the host's answer, then schedules a retry while the first invocation runs on), is tried again after
  `retry_delays`, up to `max_attempts` in all; then the event is logged as dead-lettered, with its id.
  `publish` only schedules and returns; `join()` waits; `stop()` cancels what is still running.
- `await runner.run_once(name, event)`: one invocation, its exception raised to the caller. That is what
  the host's webhook does for each event posted to it (devhost/event_grid_webhook.py); retrying is then
  the poster's business.

What the function gets: the Python worker's own conversion of the event's JSON, so an
`azure.functions.EventGridEvent` (id, topic, subject, event_type, event_time, data_version, and `data`
from get_json()); or a `func.CloudEvent` for an event in the CloudEvents schema (one with `specversion`).
An event carrying `traceparent` (Event Grid's distributed-tracing extension) makes the invocation a span
of the publisher's trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from devhost.app_loader import AppIndex, FunctionEntry, triggered_by, warn_unsupplied_bindings
from devhost.context import InvocationContext, TraceContext
from devhost.invoker import invoke
from devhost.tasks import finish_or_cancel

logger = logging.getLogger(__name__)

EVENT_GRID_TRIGGER = "eventGridTrigger"
WEBHOOK_PATH = "/runtime/webhooks/EventGrid"
STOP_TIMEOUT_SECONDS = 10.0

# Required by Event Grid's publishing API for each schema; it refuses the whole batch otherwise.
_EVENT_GRID_REQUIRED = ("id", "subject", "eventType", "eventTime")
_CLOUD_EVENT_REQUIRED = ("id", "source", "type", "specversion")


class InvalidEvent(ValueError):
    """Not an event Event Grid would accept or deliver."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """Event Grid's retry policy, cut down for a laptop.

    Event Grid's defaults (30 attempts over 24 hours) would keep a broken handler failing all day; devhost
    keeps the start of its schedule (10 s, 30 s, 1 min, 5 min), without the jitter, and 5 attempts.
    """

    max_attempts: int = 5
    retry_delays: tuple[float, ...] = (10.0, 30.0, 60.0, 300.0)
    response_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.retry_delays or min(self.retry_delays) < 0:
            raise ValueError("retry_delays must be one or more non-negative delays")
        if self.response_timeout <= 0:
            raise ValueError("response_timeout must be positive")

    def delay_after(self, attempt: int) -> float:
        """Seconds between failed attempt `attempt` (from 1) and the next; the last delay repeats."""
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]


@dataclass(frozen=True)
class Event:
    """One event as Event Grid delivers it: its JSON text, and what log lines name it by."""

    text: str
    id: str
    event_type: str
    subject: str
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def parse(cls, value: object) -> Event:
        """`value` checked as Event Grid checks what is published; InvalidEvent says what is wrong."""
        if not isinstance(value, Mapping):
            raise InvalidEvent(f"an event must be a JSON object, not {type(value).__name__}")
        cloud = "specversion" in value
        for key in _CLOUD_EVENT_REQUIRED if cloud else _EVENT_GRID_REQUIRED:
            if not isinstance(value.get(key), str) or not value[key]:
                raise InvalidEvent(f"event {value.get('id')!r}: {key!r} must be a non-empty string")
        # Event Grid stamps these on an Event Grid schema event published without them.
        stamped = dict(value) if cloud else {"dataVersion": "", "metadataVersion": "1", **value}
        try:
            text = json.dumps(stamped)
            decode(text)  # a time the worker cannot parse would fail every invocation: refuse it now
        except (TypeError, ValueError) as error:
            raise InvalidEvent(f"event {value['id']!r}: {error}") from None
        trace = {k: v for k in ("traceparent", "tracestate") if isinstance(v := value.get(k), str)}
        return cls(
            text=text,
            id=str(value["id"]),
            event_type=str(value["type" if cloud else "eventType"]),
            subject=str(value.get("subject") or ""),
            **trace,
        )


def decode(text: str) -> Any:
    """What the Python worker hands the function: its own converter, fed the JSON the host sends it."""
    return EventGridEventInConverter.decode(meta.Datum(text, "json"), trigger_metadata={})


class EventGridRunner:
    """The Event Grid trigger runner over the app index (or its entries): see the module docstring."""

    trigger_types = frozenset({EVENT_GRID_TRIGGER})

    def __init__(
        self,
        functions: AppIndex | Iterable[FunctionEntry],
        *,
        policy: DeliveryPolicy | None = None,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self._functions = {e.name: e for e in triggered_by(functions, EVENT_GRID_TRIGGER)}
        self.policy = policy or DeliveryPolicy()
        self._stop_timeout = stop_timeout
        # Deliveries, and invocations Event Grid stopped waiting for: `join` and `stop` cover both.
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()
        self._started = False

    @property
    def functions(self) -> tuple[FunctionEntry, ...]:
        return tuple(self._functions.values())

    def function(self, name: str) -> FunctionEntry | None:
        """The Event Grid function of that name (exactly: the host's lookup is case-sensitive)."""
        return self._functions.get(name)

    def describe(self) -> list[str]:
        return [
            f"  {name}: eventGridTrigger (POST {WEBHOOK_PATH}?functionName={name})"
            for name in sorted(self._functions)
        ]

    async def start(self) -> None:
        warn_unsupplied_bindings(self.functions)
        self._stopping = asyncio.Event()
        self._started = True

    async def stop(self) -> None:
        """Stops taking events. Retries waiting for their turn give up at once; invocations in flight get
        `stop_timeout` to finish, then are cancelled (Event Grid would redeliver those; devhost cannot)."""
        self._started = False
        self._stopping.set()
        await finish_or_cancel(set(self._tasks), self._stop_timeout)

    async def publish(self, events: Iterable[object]) -> None:
        """Schedules every event for every Event Grid function (see `join`). One invalid event refuses the
        batch with InvalidEvent before anything is scheduled, as Event Grid answers 400 for all of it."""
        if not self._started:
            raise RuntimeError("the Event Grid runner is not started")
        parsed = [Event.parse(e) for e in events]
        for event in parsed:
            for entry in self._functions.values():
                self._track(asyncio.create_task(self._deliver(entry, event)))

    async def join(self) -> None:
        """Waits until every delivery scheduled so far (retries included) is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run_once(self, name: str, event: Event) -> None:
        """One invocation of function `name` with `event`; whatever it raises propagates."""
        if not self._started:
            raise RuntimeError("the Event Grid runner is not started")
        entry = self._functions[name]
        context = self._context(entry, event)
        started, outcome = time.perf_counter(), "cancelled"
        try:
            await invoke(entry, decode(event.text), context)
            outcome = "succeeded"
        except Exception:
            logger.exception(
                "Function %s failed on event %s (invocation %s)", entry.name, event.id, context.invocation_id
            )
            outcome = "failed"
            raise
        finally:
            self._log(entry, event, context, attempt=1, outcome=outcome, started=started)

    # --- delivery --------------------------------------------------------------------------------------

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, entry: FunctionEntry, event: Event) -> None:
        attempts = self.policy.max_attempts
        for attempt in range(1, attempts + 1):
            if await self._attempt(entry, event, attempt):
                return
            if attempt < attempts and not await self._wait_to_retry(attempt):
                logger.warning(
                    "Event %s for %s not delivered: devhost stopped before attempt %d",
                    event.id,
                    entry.name,
                    attempt + 1,
                )
                return
        logger.error(
            "Event %s (%s, subject %s) dead-lettered for function %s after %d attempts: "
            "MaxDeliveryAttemptsExceeded",
            event.id,
            event.event_type,
            event.subject,
            entry.name,
            attempts,
        )

    async def _wait_to_retry(self, attempt: int) -> bool:
        """Sleeps until the next attempt is due: False when the runner stops meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), self.policy.delay_after(attempt))
        except TimeoutError:
            return True
        return False

    async def _attempt(self, entry: FunctionEntry, event: Event, attempt: int) -> bool:
        """One delivery attempt: True when the function succeeded within the response timeout."""
        context = self._context(entry, event)
        started, outcome = time.perf_counter(), "cancelled"
        invocation = asyncio.create_task(invoke(entry, decode(event.text), context))
        try:
            done, _ = await asyncio.wait({invocation}, timeout=self.policy.response_timeout)
            if not done:
                # Event Grid gives up waiting and retries; the host lets this invocation run on.
                self._track(invocation)
                invocation.add_done_callback(lambda task: self._finished_late(entry, event, context, task))
                outcome = f"no answer within {self.policy.response_timeout:g}s (still running; retried)"
                return False
            error = invocation.exception()
            if error is not None:
                logger.error(
                    "Function %s failed on event %s (attempt %d of %d, invocation %s)",
                    entry.name,
                    event.id,
                    attempt,
                    self.policy.max_attempts,
                    context.invocation_id,
                    exc_info=error,
                )
                outcome = "failed"
                return False
            outcome = "succeeded"
            return True
        except asyncio.CancelledError:
            invocation.cancel()
            raise
        finally:
            self._log(entry, event, context, attempt=attempt, outcome=outcome, started=started)

    @staticmethod
    def _finished_late(
        entry: FunctionEntry, event: Event, context: InvocationContext, task: asyncio.Task[Any]
    ) -> None:
        error = None if task.cancelled() else task.exception()  # retrieved, so asyncio does not warn
        logger.warning(
            "Function %s finished event %s after Event Grid stopped waiting: %s (invocation %s)",
            entry.name,
            event.id,
            "cancelled" if task.cancelled() else f"failed: {error!r}" if error else "succeeded",
            context.invocation_id,
        )

    @staticmethod
    def _context(entry: FunctionEntry, event: Event) -> InvocationContext:
        trace = TraceContext.child_of(event.traceparent, event.tracestate)
        return InvocationContext(entry.name, entry.directory, trace_context=trace)

    @staticmethod
    def _log(
        entry: FunctionEntry,
        event: Event,
        context: InvocationContext,
        *,
        attempt: int,
        outcome: str,
        started: float,
    ) -> None:
        logger.info(
            "eventgrid function=%s event=%s type=%s subject=%s attempt=%d %s %.1fms invocation=%s",
            entry.name,
            event.id,
            event.event_type,
            event.subject,
            attempt,
            outcome,
            (time.perf_counter() - started) * 1000,
            context.invocation_id,
        )
