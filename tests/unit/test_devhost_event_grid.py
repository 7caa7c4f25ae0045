"""EventGridRunner (publish, retries, dead-lettering) and the host's Event Grid webhook, with small apps."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest

from devhost.app_loader import index_app
from devhost.event_grid_runner import WEBHOOK_PATH, DeliveryPolicy, Event, EventGridRunner, InvalidEvent
from devhost.event_grid_webhook import EventGridWebhook
from devhost.host import DevHost
from tests.unit.test_devhost_blob_upload import send

FAST = DeliveryPolicy(max_attempts=3, retry_delays=(0.01,), response_timeout=5)
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def event(event_id: str = "e1", **overrides: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/acct",
        "subject": "/blobServices/default/containers/recordings/blobs/m1/r1/audio.webm",
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": "2026-12-01T10:00:00.1234567Z",
        "data": {"contentLength": 42, "url": "http://x/recordings/m1/r1/audio.webm"},
        "dataVersion": "",
        **overrides,
    }


def recording_app(seen: list[Any], *, fail_times: int = 0) -> func.FunctionApp:
    app = func.FunctionApp()
    calls = {"n": 0}

    @app.event_grid_trigger(arg_name="event")
    async def recording_uploaded(event: func.EventGridEvent, context: func.Context) -> None:
        calls["n"] += 1
        seen.append((event, context))
        if calls["n"] <= fail_times:
            raise RuntimeError(f"handler broke on call {calls['n']}")

    @app.event_grid_trigger(arg_name="ev")
    def audit(ev: func.EventGridEvent) -> None:  # a plain function: runs on a worker thread
        seen.append(("audit", ev.id))

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="S")
    def not_mine(msg: func.QueueMessage) -> None:
        raise AssertionError("an Event Grid event must not reach a queue function")

    return app


async def started(app: func.FunctionApp, policy: DeliveryPolicy = FAST) -> EventGridRunner:
    runner = EventGridRunner(index_app(app), policy=policy, stop_timeout=0.5)
    await runner.start()
    return runner


async def test_publish_invokes_every_event_grid_function_with_the_worker_event() -> None:
    seen: list[Any] = []
    runner = await started(recording_app(seen))
    assert runner.describe() == [
        f"  audit: eventGridTrigger (POST {WEBHOOK_PATH}?functionName=audit)",
        f"  recording_uploaded: eventGridTrigger (POST {WEBHOOK_PATH}?functionName=recording_uploaded)",
    ]
    await runner.publish([event(traceparent=f"00-{TRACE_ID}-b7ad6b7169203331-01")])
    await runner.join()
    await runner.stop()

    assert ("audit", "e1") in seen
    [(received, context)] = [s for s in seen if s[0] != "audit"]
    assert isinstance(received, func.EventGridEvent)
    assert received.id == "e1"
    assert received.event_type == "Microsoft.Storage.BlobCreated"
    assert received.subject == "/blobServices/default/containers/recordings/blobs/m1/r1/audio.webm"
    assert received.topic.endswith("/storageAccounts/acct")
    assert received.get_json() == {"contentLength": 42, "url": "http://x/recordings/m1/r1/audio.webm"}
    assert received.event_time == datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert received.data_version == ""
    assert context.function_name == "recording_uploaded"
    # The publisher's trace continues into the invocation.
    assert context.trace_context.trace_parent.startswith(f"00-{TRACE_ID}-")


async def test_each_function_gets_its_own_copy_of_the_data() -> None:
    app = func.FunctionApp()
    seen: list[Any] = []

    @app.event_grid_trigger(arg_name="event")
    async def first(event: func.EventGridEvent) -> None:
        event.get_json()["mutated"] = True

    @app.event_grid_trigger(arg_name="event")
    async def second(event: func.EventGridEvent) -> None:
        await asyncio.sleep(0.01)
        seen.append(event.get_json())

    runner = await started(app)
    await runner.publish([event()])
    await runner.join()
    await runner.stop()
    assert seen == [{"contentLength": 42, "url": "http://x/recordings/m1/r1/audio.webm"}]


async def test_a_failing_invocation_is_retried_then_dead_lettered(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []
    runner = await started(recording_app(seen, fail_times=99))
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.publish([event("evt-42")])
        await runner.join()
    await runner.stop()

    assert len([s for s in seen if s[0] != "audit"]) == 3
    assert len([s for s in seen if s[0] == "audit"]) == 1  # the other function succeeded at once
    assert "RuntimeError: handler broke on call 1" in caplog.text
    dead = [r for r in caplog.records if "dead-lettered" in r.getMessage()]
    assert len(dead) == 1
    assert dead[0].levelno == logging.ERROR
    assert "evt-42" in dead[0].getMessage()
    assert "recording_uploaded after 3 attempts" in dead[0].getMessage()
    assert "attempt=3 failed" in caplog.text


async def test_a_retry_can_succeed(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []
    runner = await started(recording_app(seen, fail_times=1))
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.publish([event()])
        await runner.join()
    await runner.stop()
    assert len([s for s in seen if s[0] != "audit"]) == 2
    assert "dead-lettered" not in caplog.text
    assert "attempt=2 succeeded" in caplog.text


async def test_no_answer_within_the_response_timeout_is_retried_while_the_first_runs_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = func.FunctionApp()
    running: list[int] = []
    finished: list[int] = []

    @app.event_grid_trigger(arg_name="event")
    async def slow_first(event: func.EventGridEvent) -> None:
        call = len(running) + 1
        running.append(call)
        await asyncio.sleep(0.2 if call == 1 else 0)
        finished.append(call)

    policy = DeliveryPolicy(max_attempts=2, retry_delays=(0.01,), response_timeout=0.05)
    runner = await started(app, policy)
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.publish([event()])
        await runner.join()
    await runner.stop()
    # Delivered twice (at least once), and the first invocation was not cancelled.
    assert running == [1, 2]
    assert sorted(finished) == [1, 2]
    assert "still running; retried" in caplog.text
    assert "after Event Grid stopped waiting: succeeded" in caplog.text
    assert "dead-lettered" not in caplog.text


async def test_an_invalid_batch_is_refused_whole_and_nothing_runs() -> None:
    seen: list[Any] = []
    runner = await started(recording_app(seen))
    missing_type = event("e2")
    del missing_type["eventType"]
    for batch, message in (
        ([event(), missing_type], "'eventType' must be a non-empty string"),
        ([event(eventTime="yesterday")], "e1"),
        (["not an object"], "must be a JSON object"),
        ([event(data={"when": datetime.now(UTC)})], "not JSON serializable"),
    ):
        with pytest.raises(InvalidEvent, match=message):
            await runner.publish(batch)
    await runner.join()
    await runner.stop()
    assert seen == []
    with pytest.raises(RuntimeError, match="not started"):
        await runner.publish([event()])


async def test_stop_ends_pending_retries_at_once(caplog: pytest.LogCaptureFixture) -> None:
    app = func.FunctionApp()
    failed = asyncio.Event()

    @app.event_grid_trigger(arg_name="event")
    async def recording_uploaded(event: func.EventGridEvent) -> None:
        failed.set()
        raise RuntimeError("down")

    runner = await started(app, DeliveryPolicy(max_attempts=5, retry_delays=(60.0,), response_timeout=5))
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.publish([event("e9")])
        await asyncio.wait_for(failed.wait(), 5)
        began = time.monotonic()
        await runner.stop()
    assert time.monotonic() - began < 1
    assert "Event e9 for recording_uploaded not delivered: devhost stopped before attempt 2" in caplog.text


def test_delivery_policy_schedule_and_bounds() -> None:
    policy = DeliveryPolicy()
    assert [policy.delay_after(n) for n in (1, 2, 3, 4, 5, 9)] == [10, 30, 60, 300, 300, 300]
    bad: list[dict[str, Any]] = [
        {"max_attempts": 0},
        {"retry_delays": ()},
        {"retry_delays": (-1.0,)},
        {"response_timeout": 0},
    ]
    for settings in bad:
        with pytest.raises(ValueError, match="must"):
            DeliveryPolicy(**settings)


def test_cloud_events_keep_their_schema() -> None:
    parsed = Event.parse(
        {"specversion": "1.0", "id": "c1", "source": "/x", "type": "Custom.Thing", "data": {"a": 1}}
    )
    assert (parsed.id, parsed.event_type, parsed.subject) == ("c1", "Custom.Thing", "")
    assert "dataVersion" not in json.loads(parsed.text)  # Event Grid stamps only its own schema
    with pytest.raises(InvalidEvent, match="'source'"):
        Event.parse({"specversion": "1.0", "id": "c1", "type": "Custom.Thing"})


# --- the webhook --------------------------------------------------------------------------------------


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, list[Any]]]:
    seen: list[Any] = []
    app = recording_app(seen, fail_times=0)

    @app.event_grid_trigger(arg_name="event")
    async def broken(event: func.EventGridEvent) -> None:
        raise ValueError("secret detail")

    host = DevHost(app, port=0)
    runner = EventGridRunner(host.index, policy=FAST)
    host.add_runner(runner)
    host.http.add_system_route(EventGridWebhook(runner).route())
    async with host:
        yield f"{host.base_url}{WEBHOOK_PATH}", seen


async def post(url: str, body: object, kind: str | None = "Notification", **query: str) -> tuple[int, Any]:
    headers = {"aeg-event-type": kind} if kind else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _headers, reply = await send("POST", url, data, headers, params=query)
    return status, reply


async def test_webhook_notification_runs_the_function_once_per_event(webhook: tuple[str, list[Any]]) -> None:
    url, seen = webhook
    status, body = await post(url, [event("a"), event("b")], functionName="recording_uploaded")
    assert (status, body) == (202, None)
    assert sorted(e.id for e, _context in seen) == ["a", "b"]  # only the named function ran


async def test_webhook_subscription_validation_echoes_the_code(webhook: tuple[str, list[Any]]) -> None:
    url, seen = webhook
    handshake = [
        event(eventType="Microsoft.EventGrid.SubscriptionValidationEvent", data={"validationCode": "abc-123"})
    ]
    status, body = await post(url, handshake, "SubscriptionValidation", functionName="audit")
    assert (status, body) == (200, {"validationResponse": "abc-123"})
    status, _ = await post(url, [event()], "SubscriptionValidation", functionName="audit")
    assert status == 400
    assert seen == []


async def test_webhook_refusals(webhook: tuple[str, list[Any]]) -> None:
    url, seen = webhook
    status, body = await post(url, [event()], functionName="nope")
    assert status == 404
    assert "'nope'" in body["detail"]
    assert "recording_uploaded" in body["detail"]
    assert (await post(url, [event()]))[0] == 404  # no functionName at all
    assert (await post(url, [event()], functionName="not_mine"))[0] == 404  # a queue function
    for body_sent in (b"{not json", b"\xff", b"42", json.dumps([event(), {"id": "x"}]).encode()):
        status, problem = await post(url, body_sent, functionName="recording_uploaded")
        assert status == 400, body_sent
        assert problem["status"] == 400
    status, problem = await post(url, [event()], None, functionName="recording_uploaded")
    assert status == 400
    assert "aeg-event-type" in problem["detail"]
    assert (await post(url, [event()], "Unsubscribe", functionName="recording_uploaded"))[0] == 202
    assert seen == []


async def test_webhook_failure_is_a_500_without_the_traceback(webhook: tuple[str, list[Any]]) -> None:
    url, _seen = webhook
    status, problem = await post(url, [event("boom-1")], functionName="broken")
    assert status == 500
    assert "boom-1" in problem["detail"]
    assert "secret detail" not in json.dumps(problem)
