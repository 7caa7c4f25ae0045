"""The host's Event Grid webhook: `POST /runtime/webhooks/EventGrid?functionName=<name>`, as Core Tools
serve it, so that what is posted to `func start` (by hand, or by a tunnelled Event Grid subscription)
can be posted to devhost.

It answers as the Event Grid extension of the Functions host does:

- `functionName` missing, or not an Event Grid function: 404.
- `aeg-event-type: SubscriptionValidation`: 200 `{"validationResponse": <the validationCode>}`, taken from
  the first event's `data` (or a CloudEvent's, JSON-encoded there).
- `aeg-event-type: Notification`: the body is a JSON array of events (Event Grid schema) or one CloudEvent
  object. The function runs once for each event, all at once, and the answer waits for them: 202 when
  every invocation succeeded, 500 when any failed (Event Grid then redelivers the batch; devhost does not
  retry here: that is the poster's business).
- `aeg-event-type: Unsubscribe`: 202. Any other or no `aeg-event-type`: 400.

Where the extension would fail on a malformed body (a 500), devhost answers 400 saying what is wrong; its
errors are problem+json. Like Core Tools, and unlike Azure (which wants the `eventgrid_extension` system
key in `code`), no key is asked for.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from devhost.event_grid_runner import WEBHOOK_PATH, Event, EventGridRunner, InvalidEvent
from devhost.http_host import SystemRoute
from devhost.problems import problem

EVENT_TYPE_HEADER = "aeg-event-type"


def validation_code(body: Any) -> str:
    """The code a SubscriptionValidation request asks to be echoed; InvalidEvent if it has none."""
    first = body[0] if isinstance(body, list) and body else body
    data = first.get("data") if isinstance(first, dict) else None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    code = data.get("validationCode") if isinstance(data, dict) else None
    if not isinstance(code, str) or not code:
        raise InvalidEvent("a SubscriptionValidation event needs data.validationCode")
    return code


def notification_events(body: Any) -> list[Event]:
    """The events a Notification request carries; InvalidEvent for anything else."""
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise InvalidEvent("expected a JSON array of events, or one CloudEvent object")
    return [Event.parse(item) for item in body]


class EventGridWebhook:
    def __init__(self, runner: EventGridRunner) -> None:
        self.runner = runner

    def route(self) -> SystemRoute:
        return SystemRoute("POST", WEBHOOK_PATH, self.handle, name="eventgrid-webhook")

    async def handle(self, request: web.Request) -> web.Response:
        instance = request.rel_url.raw_path
        name = request.query.get("functionName", "")
        if self.runner.function(name) is None:
            known = ", ".join(sorted(e.name for e in self.runner.functions)) or "none"
            return problem(
                404, f"cannot find function {name!r}; Event Grid functions: {known}", instance=instance
            )
        kind = request.headers.get(EVENT_TYPE_HEADER, "").strip().lower()
        if kind == "unsubscribe":
            return web.Response(status=202)
        if kind not in ("notification", "subscriptionvalidation"):
            detail = f"{EVENT_TYPE_HEADER} must be Notification, SubscriptionValidation or Unsubscribe"
            return problem(400, detail, instance=instance)
        try:
            body = json.loads(await request.read())
            if kind == "subscriptionvalidation":
                return web.json_response({"validationResponse": validation_code(body)})
            events = notification_events(body)
        except web.HTTPRequestEntityTooLarge as too_large:
            return problem(too_large.status, "the body is larger than the host accepts", instance=instance)
        except InvalidEvent as invalid:
            return problem(400, str(invalid), instance=instance)
        except ValueError:
            return problem(400, "the body is not JSON", instance=instance)
        results = await asyncio.gather(
            *(self.runner.run_once(name, event) for event in events), return_exceptions=True
        )
        failed = [event.id for event, result in zip(events, results, strict=True) if result is not None]
        if failed:
            # The details (the traceback) are in the log, as the host keeps them; Event Grid would retry.
            detail = f"function {name} failed on event(s) {', '.join(failed)}: see the devhost log"
            return problem(500, detail, instance=instance)
        return web.Response(status=202)
