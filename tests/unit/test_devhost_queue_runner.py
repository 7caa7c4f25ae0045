"""QueueTriggerRunner over a LocalQueueStore, with small FunctionApps built here."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from devhost.app_loader import index_app
from devhost.queue_runner import QueueOptions, QueueTriggerRunner, parse_timespan
from shared.adapters.local_queues import LocalQueueStore

FAST = 0.01  # poll interval: the tests do not wait on backoff


@pytest.fixture
async def queues(tmp_path: Path) -> AsyncIterator[LocalQueueStore]:
    store = LocalQueueStore(tmp_path / "queues.sqlite3")
    yield store
    await store.aclose()


def host_json(**queues: Any) -> dict[str, Any]:
    return {"version": "2.0", "extensions": {"queues": queues}}


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def drain(store: LocalQueueStore, queue: str) -> list[str]:
    """Every visible message's text (taken for a second, so a later receive does not see them)."""
    messages = await store.receive(queue, max_messages=32, visibility_timeout=timedelta(seconds=60))
    return [m.text for m in messages]


def runner_for(app: func.FunctionApp, store: LocalQueueStore, **kwargs: Any) -> QueueTriggerRunner:
    kwargs.setdefault("poll_interval", FAST)
    return QueueTriggerRunner(index_app(app), store, **kwargs)


async def test_a_message_is_delivered_as_a_queue_message_and_deleted(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    seen: list[func.QueueMessage] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage, context: func.Context) -> None:
        assert context.function_name == "on_job"
        seen.append(msg)

    @app.route(route="ignored")
    def http(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    runner = runner_for(app, queues, host_json=host_json())
    assert [e.name for e in runner.functions] == ["on_job"]
    assert runner.describe() == ["  on_job: queue jobs"]
    await queues.send("jobs", '{"id": "ü-1"}')
    await runner.start()
    try:
        await eventually(lambda: len(seen) == 1)
    finally:
        await runner.stop()
    msg = seen[0]
    assert msg.get_body() == '{"id": "ü-1"}'.encode()
    assert msg.get_json() == {"id": "ü-1"}
    assert msg.dequeue_count == 1
    assert msg.id
    assert msg.pop_receipt
    assert msg.insertion_time is not None
    assert msg.expiration_time is not None
    assert msg.expiration_time - msg.insertion_time == timedelta(days=7)
    assert msg.time_next_visible is not None
    assert await drain(queues, "jobs") == []


async def test_a_plain_function_runs_on_a_worker_thread(
    queues: LocalQueueStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = func.FunctionApp()
    threads: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    def on_job(msg: func.QueueMessage) -> None:
        threads.append(threading.current_thread().name)

    runner = runner_for(app, queues)
    await queues.send("jobs", "x")
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.start()
        try:
            await eventually(lambda: bool(threads))
        finally:
            await runner.stop()
    assert threads[0] != threading.main_thread().name
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("queue jobs")]
    assert len(lines) == 1
    assert "function=on_job" in lines[0]
    assert "dequeue_count=1 succeeded" in lines[0]


async def test_a_failing_message_is_retried_then_moved_to_the_poison_queue(
    queues: LocalQueueStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = func.FunctionApp()
    counts: list[int] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        assert msg.dequeue_count is not None
        counts.append(msg.dequeue_count)
        raise RuntimeError("boom")

    runner = runner_for(app, queues, host_json=host_json(maxDequeueCount=3))
    await queues.send("jobs", "bad job")
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.start()
        try:
            await eventually(lambda: len(counts) == 3 and "moved to jobs-poison" in caplog.text)
            await asyncio.sleep(0.1)  # no fourth attempt
        finally:
            await runner.stop()
    assert counts == [1, 2, 3]
    assert await drain(queues, "jobs") == []
    assert await drain(queues, "jobs-poison") == ["bad job"]
    outcomes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("queue jobs ")]
    assert [("retry in 0s" in o, "moved to jobs-poison" in o) for o in outcomes] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    assert "RuntimeError: boom" in caplog.text


async def test_visibility_timeout_delays_the_retry(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    attempts: list[float] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        attempts.append(time.monotonic())
        if msg.dequeue_count == 1:
            raise RuntimeError("first time fails")

    runner = runner_for(app, queues, host_json=host_json(visibilityTimeout="00:00:01"))
    await queues.send("jobs", "x")
    await runner.start()
    try:
        await eventually(lambda: len(attempts) == 2)
    finally:
        await runner.stop()
    # Whole seconds on a wall clock: the gap is at least most of a second.
    assert attempts[1] - attempts[0] >= 0.5
    assert await drain(queues, "jobs") == []


async def test_batch_size_bounds_concurrency(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    running = 0
    peak = 0
    done: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        done.append(msg.get_body().decode())

    runner = runner_for(app, queues, host_json=host_json(batchSize=2))
    for i in range(7):
        await queues.send("jobs", str(i))
    await runner.start()
    try:
        await eventually(lambda: len(done) == 7)
    finally:
        await runner.stop()
    assert peak == 2
    assert sorted(done) == [str(i) for i in range(7)]


async def test_each_function_polls_its_own_queue(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    got: list[tuple[str, str]] = []

    @app.queue_trigger(arg_name="msg", queue_name="alpha", connection="Storage")
    async def on_alpha(msg: func.QueueMessage) -> None:
        got.append(("alpha", msg.get_body().decode()))

    @app.queue_trigger(arg_name="msg", queue_name="beta", connection="Storage")
    async def on_beta(msg: func.QueueMessage) -> None:
        got.append(("beta", msg.get_body().decode()))

    runner = runner_for(app, queues)
    assert runner.describe() == ["  on_alpha: queue alpha", "  on_beta: queue beta"]
    await queues.send("alpha", "a")
    await queues.send("beta", "b")
    await runner.start()
    try:
        await eventually(lambda: len(got) == 2)
    finally:
        await runner.stop()
    assert sorted(got) == [("alpha", "a"), ("beta", "b")]


async def test_idle_backoff_grows_and_wake_polls_at_once(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    got: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        got.append(msg.get_body().decode())

    runner = runner_for(app, queues, host_json=host_json(maxPollingInterval="00:00:30"))
    await runner.start()
    try:
        await asyncio.sleep(0.5)  # backed off well past the fast interval by now
        await queues.send("jobs", "late")
        runner.wake("jobs")
        await eventually(lambda: got == ["late"], within=1.0)
    finally:
        await runner.stop()


async def test_stop_while_idle(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        pass

    runner = runner_for(app, queues, host_json=host_json(maxPollingInterval="00:01:00"))
    await runner.start()
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await runner.stop()
    assert time.monotonic() - started < 1.0
    await runner.stop()  # twice is fine
    await runner.start()  # and it starts again
    await runner.stop()


async def test_stop_lets_an_invocation_in_flight_finish(queues: LocalQueueStore) -> None:
    app = func.FunctionApp()
    entered = asyncio.Event()
    finished: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        entered.set()
        await asyncio.sleep(0.2)
        finished.append(msg.get_body().decode())

    runner = runner_for(app, queues, stop_timeout=5.0)
    await queues.send("jobs", "x")
    await runner.start()
    await asyncio.wait_for(entered.wait(), 5)
    await runner.stop()
    assert finished == ["x"]
    assert await drain(queues, "jobs") == []


async def test_stop_cancels_a_slow_invocation_and_the_message_comes_back(
    queues: LocalQueueStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = func.FunctionApp()
    entered = asyncio.Event()

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        entered.set()
        await asyncio.Event().wait()  # never finishes on its own

    runner = runner_for(app, queues, stop_timeout=0.1)
    await queues.send("jobs", "unfinished")
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.start()
        await asyncio.wait_for(entered.wait(), 5)
        await runner.stop()
    assert "cancelled, released" in caplog.text
    again = await queues.receive("jobs", max_messages=32, visibility_timeout=timedelta(seconds=60))
    assert [(m.text, m.dequeue_count) for m in again] == [("unfinished", 2)]


async def test_a_message_over_the_dequeue_limit_goes_to_poison_without_running(
    queues: LocalQueueStore,
) -> None:
    app = func.FunctionApp()
    ran: list[str] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="Storage")
    async def on_job(msg: func.QueueMessage) -> None:
        ran.append("ran")

    await queues.send("jobs", "crashed twice")
    for _ in range(2):  # two runs that died without settling the message
        (taken,) = await queues.receive("jobs", max_messages=1, visibility_timeout=timedelta(seconds=60))
        await queues.release("jobs", taken, delay=timedelta(0))
    runner = runner_for(app, queues, host_json=host_json(maxDequeueCount=2))
    await runner.start()
    try:
        deadline = time.monotonic() + 5
        poisoned: list[str] = []
        while not poisoned and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            poisoned = await drain(queues, "jobs-poison")
    finally:
        await runner.stop()
    assert poisoned == ["crashed twice"]
    assert ran == []
    assert await drain(queues, "jobs") == []


def test_host_json_options() -> None:
    assert QueueOptions.from_host_json({}) == QueueOptions(
        batch_size=16,
        max_dequeue_count=5,
        visibility_timeout=timedelta(0),
        max_polling_interval=timedelta(minutes=1),
    )
    options = QueueOptions.from_host_json(
        host_json(batchSize=8, maxDequeueCount=2, visibilityTimeout="00:00:02.5", maxPollingInterval=2000)
    )
    assert options.batch_size == 8
    assert options.max_dequeue_count == 2
    assert options.visibility_timeout == timedelta(seconds=2.5)
    assert options.retry_delay == timedelta(seconds=3)
    assert options.max_polling_interval == timedelta(seconds=2)
    assert parse_timespan("1.02:03:04", "x") == timedelta(days=1, hours=2, minutes=3, seconds=4)
    for bad in (host_json(batchSize=0), host_json(batchSize=33), host_json(maxDequeueCount=0)):
        with pytest.raises(ValueError, match=r"extensions\.queues"):
            QueueOptions.from_host_json(bad)
    with pytest.raises(ValueError, match="timespan"):
        QueueOptions.from_host_json(host_json(visibilityTimeout="30 seconds"))
    with pytest.raises(ValueError, match="maxPollingInterval"):
        QueueOptions.from_host_json(host_json(maxPollingInterval="00:00:00.050"))


def test_the_projects_host_json_polls_an_idle_queue_every_two_seconds_at_most() -> None:
    """In Azure nothing wakes the queue trigger: the longest idle poll interval is how long a queued job
    may wait before it starts (the host's default is a minute; the README states what 2 s costs)."""
    from devhost.host_json import read_host_json

    options = QueueOptions.from_host_json(read_host_json(Path(__file__).parents[2]))
    assert options.max_polling_interval <= timedelta(seconds=2)
