"""Feeds `queueTrigger` functions from a QueueStore, with the Functions host's queue semantics.

What it does, as the host does (settings from host.json `extensions.queues`):

- Each function's queue is polled on its own: up to `batchSize` (default 16, at most 32) invocations of
  a function run at once, and a new receive asks only for as many messages as there are free slots.
- An empty receive backs off, doubling from `poll_interval` (100 ms) up to `maxPollingInterval`
  (default 1 min); a receive that finds work, or `wake()`, polls fast again.
- A received message is leased (hidden) for `message_lease` (10 min, the default function timeout).
  The lease is not renewed: a function that runs longer sees its message delivered again.
- Success deletes the message. An exception releases it for `visibilityTimeout` (default 0: retry at
  once), and once its dequeue count reaches `maxDequeueCount` (default 5) the text goes to
  `<queue>-poison` and the original is deleted. A message received with a count already over the limit
  (a previous run died mid-invocation) is moved there without running the function.
- The function gets an `azure.functions.QueueMessage` with the decoded text as body, id, dequeue count,
  pop receipt, insertion, expiration and next-visible times, as the Python worker builds it; whatever
  the parameter's annotation (the worker accepts only QueueMessage for a queue trigger).

Stopping finishes the invocations in flight (for up to `stop_timeout`), then cancels the rest and
releases their messages, so they are delivered again; if even that fails, they reappear when the lease
ends. Nothing is lost: the queue is at-least-once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions.queue import QueueMessage as FuncQueueMessage

from devhost.app_loader import AppIndex, FunctionEntry, triggered_by, warn_unsupplied_bindings
from devhost.context import InvocationContext
from devhost.invoker import invoke
from devhost.tasks import finish_or_cancel
from shared.ports import MessageGone, QueueMessage, QueueStore

logger = logging.getLogger(__name__)

QUEUE_TRIGGER = "queueTrigger"
POISON_SUFFIX = "-poison"
MAX_BATCH_SIZE = 32  # the most one receive can take, and the host's upper bound on batchSize
MESSAGE_LEASE = timedelta(minutes=10)
MESSAGE_TIME_TO_LIVE = timedelta(days=7)  # Azure's default, which both queue adapters use
FAST_POLL_SECONDS = 0.1
STOP_TIMEOUT_SECONDS = 10.0

_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)")


def parse_timespan(value: Any, what: str) -> timedelta:
    """A host.json timespan: `[d.]hh:mm:ss[.fff]`, or a number of milliseconds."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a timespan like 00:00:30, got {value!r}")
    if isinstance(value, int | float):
        return timedelta(milliseconds=value)
    found = _TIMESPAN.fullmatch(str(value).strip())
    if not found:
        raise ValueError(f"{what}: expected a timespan like 00:00:30, got {value!r}")
    days, hours, minutes, seconds = found.groups()
    return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds))


@dataclass(frozen=True)
class QueueOptions:
    """host.json `extensions.queues`, with the host's defaults."""

    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    max_polling_interval: timedelta = timedelta(minutes=1)

    @classmethod
    def from_host_json(cls, host_json: Mapping[str, Any]) -> QueueOptions:
        queues = (host_json.get("extensions") or {}).get("queues") or {}
        defaults = cls()
        options = cls(
            batch_size=int(queues.get("batchSize", defaults.batch_size)),
            max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
            visibility_timeout=parse_timespan(
                queues.get("visibilityTimeout", "00:00:00"), "extensions.queues.visibilityTimeout"
            ),
            max_polling_interval=parse_timespan(
                queues.get("maxPollingInterval", "00:01:00"), "extensions.queues.maxPollingInterval"
            ),
        )
        if not 1 <= options.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(
                f"extensions.queues.batchSize must be 1-{MAX_BATCH_SIZE}, got {options.batch_size}"
            )
        if options.max_dequeue_count < 1:
            raise ValueError(
                f"extensions.queues.maxDequeueCount must be at least 1, got {options.max_dequeue_count}"
            )
        if options.visibility_timeout < timedelta(0):
            raise ValueError("extensions.queues.visibilityTimeout must not be negative")
        if options.max_polling_interval < timedelta(milliseconds=100):
            raise ValueError("extensions.queues.maxPollingInterval must be at least 00:00:00.100")
        return options

    @property
    def retry_delay(self) -> timedelta:
        """visibilityTimeout in the whole seconds a queue store takes, rounded up."""
        return timedelta(seconds=math.ceil(self.visibility_timeout.total_seconds()))


@dataclass(eq=False)
class _QueueFunction:
    entry: FunctionEntry
    queue: str
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)


class QueueTriggerRunner:
    """The queue trigger runner: one poll loop per `queueTrigger` function over `queues`.

    `functions` is the app index (or its queue-trigger entries); `host_json` the app's host.json.
    """

    trigger_types = frozenset({QUEUE_TRIGGER})

    def __init__(
        self,
        functions: AppIndex | Iterable[FunctionEntry],
        queues: QueueStore,
        *,
        host_json: Mapping[str, Any] | None = None,
        poll_interval: float = FAST_POLL_SECONDS,
        message_lease: timedelta = MESSAGE_LEASE,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.options = QueueOptions.from_host_json(host_json or {})
        self.queues = queues
        self._functions = [
            _QueueFunction(entry, str(entry.trigger["queueName"]))
            for entry in triggered_by(functions, QUEUE_TRIGGER)
        ]
        self._poll_interval = min(poll_interval, self.options.max_polling_interval.total_seconds())
        self._lease = message_lease
        self._stop_timeout = stop_timeout
        self._pollers: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def functions(self) -> tuple[FunctionEntry, ...]:
        return tuple(f.entry for f in self._functions)

    def describe(self) -> list[str]:
        return [
            f"  {f.entry.name}: queue {f.queue}" for f in sorted(self._functions, key=lambda f: f.entry.name)
        ]

    def wake(self, queue: str | None = None) -> None:
        """Polls `queue` (or every queue) now, instead of when the backoff ends: say after a send."""
        for function in self._functions:
            if queue is None or function.queue == queue:
                function.wakeup.set()

    async def start(self) -> None:
        if self._pollers:
            raise RuntimeError("the queue runner is already started")
        self._stopping = False
        warn_unsupplied_bindings(self.functions)
        for function in self._functions:
            function.wakeup = asyncio.Event()
            self._pollers.append(
                asyncio.create_task(self._poll(function), name=f"queue:{function.entry.name}")
            )

    async def stop(self) -> None:
        """Stops polling, lets invocations in flight finish for up to `stop_timeout`, cancels the rest."""
        pollers, self._pollers = self._pollers, []
        if not pollers:
            return
        self._stopping = True
        self.wake()
        await finish_or_cancel(pollers, self._stop_timeout)
        await finish_or_cancel({task for f in self._functions for task in f.in_flight}, self._stop_timeout)

    # --- polling --------------------------------------------------------------------------------------

    async def _pause(self, function: _QueueFunction, seconds: float | None) -> None:
        """Until woken (a free slot, `wake`, stop) or `seconds` pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(function.wakeup.wait(), seconds)
        function.wakeup.clear()

    async def _poll(self, function: _QueueFunction) -> None:
        batch_size = self.options.batch_size
        max_interval = self.options.max_polling_interval.total_seconds()
        interval = self._poll_interval
        while not self._stopping:
            free = batch_size - len(function.in_flight)
            if free <= 0:
                await self._pause(function, None)
                continue
            try:
                messages = await self.queues.receive(
                    function.queue, max_messages=free, visibility_timeout=self._lease
                )
            except Exception:
                logger.exception("Receiving from queue %s for %s failed", function.queue, function.entry.name)
                messages = []
            if self._stopping:
                await self._release_all(function.queue, messages)
                return
            if messages:
                interval = self._poll_interval
                for message in messages:
                    task = asyncio.create_task(self._process(function, message))
                    function.in_flight.add(task)
                    task.add_done_callback(functools.partial(self._finished, function))
                continue
            await self._pause(function, interval)
            interval = min(interval * 2, max_interval)

    @staticmethod
    def _finished(function: _QueueFunction, task: asyncio.Task[None]) -> None:
        function.in_flight.discard(task)
        function.wakeup.set()

    async def _release_all(self, queue: str, messages: list[QueueMessage]) -> None:
        for message in messages:
            try:
                await self.queues.release(queue, message, delay=timedelta(0))
            except Exception:
                logger.warning(
                    "Could not release message %s in %s: visible again in %s", message.id, queue, self._lease
                )

    # --- one message ----------------------------------------------------------------------------------

    def _func_message(self, message: QueueMessage) -> FuncQueueMessage:
        return FuncQueueMessage(  # type: ignore[no-untyped-call]
            id=message.id,
            body=message.text.encode(),
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.inserted_on + MESSAGE_TIME_TO_LIVE,
            time_next_visible=datetime.now(UTC) + self._lease,
            pop_receipt=message.pop_receipt,
        )

    async def _process(self, function: _QueueFunction, message: QueueMessage) -> None:
        started = time.perf_counter()
        entry, queue = function.entry, function.queue
        context = InvocationContext(entry.name, entry.directory)
        outcome = "cancelled"
        try:
            if message.dequeue_count > self.options.max_dequeue_count:
                outcome = "not run: dequeue count over maxDequeueCount, " + await self._poison(queue, message)
                return
            try:
                await invoke(entry, self._func_message(message), context)
            except Exception:
                logger.exception(
                    "Function %s failed (queue %s, message %s, invocation %s)",
                    entry.name,
                    queue,
                    message.id,
                    context.invocation_id,
                )
                outcome = "failed, " + await self._after_failure(queue, message)
            else:
                outcome = "succeeded" + await self._settle(queue, message, None)
        except asyncio.CancelledError:
            await self._release_all(queue, [message])
            outcome = "cancelled, released"
            raise
        finally:
            logger.info(
                "queue %s function=%s message=%s dequeue_count=%d %s %.1fms invocation=%s",
                queue,
                entry.name,
                message.id,
                message.dequeue_count,
                outcome,
                (time.perf_counter() - started) * 1000,
                context.invocation_id,
            )

    async def _after_failure(self, queue: str, message: QueueMessage) -> str:
        if message.dequeue_count >= self.options.max_dequeue_count:
            return await self._poison(queue, message)
        delay = self.options.retry_delay
        return f"retry in {delay.total_seconds():g}s" + await self._settle(queue, message, delay)

    async def _poison(self, queue: str, message: QueueMessage) -> str:
        poison = queue + POISON_SUFFIX
        try:
            await self.queues.send(poison, message.text)
        except Exception:
            logger.exception("Could not move message %s to %s", message.id, poison)
            return f"poison move failed (visible again in {self._lease})"
        logger.warning("Message %s moved to %s after %d dequeues", message.id, poison, message.dequeue_count)
        return f"moved to {poison}" + await self._settle(queue, message, None)

    async def _settle(self, queue: str, message: QueueMessage, release_after: timedelta | None) -> str:
        """Deletes the message (None) or releases it; a note for the log line when that fails."""
        try:
            if release_after is None:
                await self.queues.delete(queue, message)
            else:
                await self.queues.release(queue, message, delay=release_after)
        except MessageGone:
            logger.warning(
                "Message %s in %s: lease lost (pop receipt stale), it may run again", message.id, queue
            )
            return " (lease lost)"
        except Exception:
            logger.exception("Settling message %s in %s failed", message.id, queue)
            return f" (settling failed: visible again in {self._lease})"
        return ""
