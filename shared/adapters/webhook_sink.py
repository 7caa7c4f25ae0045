"""Events to local webhooks (EVENT_WEBHOOKS), as CloudEvents 1.0 over HTTP webhooks, the way Event Grid
delivers them to its subscribers:

- Before the first delivery to a URL, the abuse-protection handshake: `OPTIONS` with
  `WebHook-Request-Origin: <our origin>`; the receiver agrees by answering 2xx with
  `WebHook-Allowed-Origin` set to that origin or `*`. A receiver that does not agree gets nothing (asked
  again before the next events).
- Each event is `POST`ed alone, `Content-Type: application/cloudevents+json` (structured mode).
- A 408, 429 (honouring `Retry-After`), 5xx or network failure is retried with backoff; another 4xx is
  the receiver refusing this event, which is dropped (logged).
- Every POST is signed: `Webhook-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes with
  the key in `DATA_DIR/webhook.key`. A receiver recomputes it over the body it read and compares in
  constant time (see README, "Events").

Deliveries run in the background, one queue per URL (so each receiver sees events in order), never
holding up the request that stored the state; `aclose` waits for what is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shared.realtime.events import cloud_event

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Webhook-Signature"
KEY_FILE = "webhook.key"  # under DATA_DIR
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
MAX_RETRY_AFTER = 30.0
TIMEOUT_SECONDS = 10.0
# Events waiting for one receiver; past this the oldest are the receiver's loss (logged), not our memory.
MAX_QUEUED = 10_000


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class WebhookSink:
    def __init__(
        self,
        urls: Sequence[str],
        key: bytes,
        *,
        origin: str,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._urls = tuple(urls)
        self._key = key
        self._origin = origin
        self._delays = tuple(retry_delays)
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[str, asyncio.Queue[bytes]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._allowed: set[str] = set()

    async def publish(self, events: Sequence[dict[str, object]]) -> None:
        for url in self._urls:
            queue = self._queue(url)
            for event in events:
                if queue.full():
                    queue.get_nowait()
                    log.warning("webhook %s is too far behind: its oldest queued event is dropped", url)
                queue.put_nowait(json.dumps(cloud_event(event), separators=(",", ":")).encode())

    def _queue(self, url: str) -> asyncio.Queue[bytes]:
        queue = self._queues.get(url)
        if queue is None:
            queue = self._queues[url] = asyncio.Queue(MAX_QUEUED)
            self._workers[url] = asyncio.ensure_future(self._deliver_all(url, queue))
        return queue

    async def _deliver_all(self, url: str, queue: asyncio.Queue[bytes]) -> None:
        while True:
            body = await queue.get()
            try:
                await self._deliver(url, body)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhook %s: an event was not delivered: %s", url, exc)
            finally:
                queue.task_done()

    async def _deliver(self, url: str, body: bytes) -> None:
        import aiohttp  # noqa: PLC0415

        headers = {
            "Content-Type": CONTENT_TYPE,
            "WebHook-Request-Origin": self._origin,
            SIGNATURE_HEADER: signature(self._key, body),
        }
        for attempt, delay in enumerate((*self._delays, None)):
            wait = delay
            try:
                if not await self._handshake(url):
                    problem = "it did not allow our origin in the validation handshake"
                else:
                    async with self._client().post(url, data=body, headers=headers) as response:
                        if response.status < 300:
                            return
                        problem = f"it answered {response.status}"
                        if response.status == 410:
                            self._allowed.discard(url)  # gone: ask again before the next event
                        if 400 <= response.status < 500 and response.status not in (408, 410, 429):
                            log.warning("webhook %s refused an event (%s): dropped", url, response.status)
                            return
                        retry_after = _seconds(response.headers.get("Retry-After"))
                        if retry_after is not None and wait is not None:
                            wait = min(max(wait, retry_after), MAX_RETRY_AFTER)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if wait is None:
                log.warning(
                    "webhook %s: giving up on an event after %d attempts: %s", url, attempt + 1, problem
                )
                return
            log.info("webhook %s: attempt %d failed (%s), again in %.1f s", url, attempt + 1, problem, wait)
            await asyncio.sleep(wait)

    async def _handshake(self, url: str) -> bool:
        """CloudEvents' webhook validation: may we send to this URL? Remembered once it says yes."""
        if url in self._allowed:
            return True
        async with self._client().options(url, headers={"WebHook-Request-Origin": self._origin}) as response:
            allowed = response.headers.get("WebHook-Allowed-Origin", "")
            if response.status < 300 and allowed.strip() in (self._origin, "*"):
                self._allowed.add(url)
                return True
        return False

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp  # noqa: PLC0415

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        return self._session

    async def drain(self) -> None:
        """Waits until every queued event was delivered or given up on."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout=TIMEOUT_SECONDS)
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
