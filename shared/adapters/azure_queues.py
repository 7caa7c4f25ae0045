"""Azure Storage queues through `azure.storage.queue.aio`, by connection string (Azurite, account keys) or
by queue service URL and a token credential (managed identity).

Message text goes on the wire base64-encoded (the SDK's TextBase64 policies), which is what the Functions
host's queue trigger expects by default; a raw-text message would fail the trigger. Queues are
created on first use, once per queue per store. A stale pop receipt (the service's 400
PopReceiptMismatch) and a message already gone (404) are both MessageGone; every other SDK error becomes
StorageRejected or StorageUnavailable.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.adapters.azure_storage_auth import (
    StorageRejected,
    check_queue_name,
    error_code,
    storage_errors,
)
from shared.adapters.local_queues import MAX_MESSAGE_CHARS, check_max_messages, encode, whole_seconds
from shared.ports import MessageGone, QueueMessage

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.storage.queue.aio import QueueClient, QueueServiceClient

log = logging.getLogger(__name__)

# The wire version, pinned: see azure_blobs.API_VERSION.
API_VERSION = "2026-06-06"
_GONE_CODES = {"MessageNotFound", "PopReceiptMismatch", "QueueNotFound"}


def _lenient_decode_policy() -> Any:
    """The SDK's TextBase64DecodePolicy, except that a message someone else wrote as raw text reaches the
    caller as it is, with a warning. The SDK's own fails the whole receive (in 12.18.1 not even with its
    DecodeError: building it raises AttributeError), after the service has already hidden every message of
    the batch: the good ones would wait out their timeout for nothing, and the bad one would fail every
    receive it is in until it expired. Passed on, it fails its consumer instead and goes the poison route
    like any other bad job."""
    from azure.storage.queue import TextBase64DecodePolicy  # noqa: PLC0415

    class LenientTextBase64DecodePolicy(TextBase64DecodePolicy):
        def decode(self, content: str, response: Any) -> str:
            try:
                return base64.b64decode(content, validate=True).decode("utf-8")
            except ValueError:  # binascii.Error (not base64) and UnicodeDecodeError (not UTF-8)
                log.warning(
                    "a queue message is not base64 (%d characters): passed on undecoded", len(content)
                )
                return content

    return LenientTextBase64DecodePolicy()


class AzureQueueStore:
    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: AsyncTokenCredential | None = None,
        **client_options: Any,
    ) -> None:
        """`client_options` go to the SDK client (a transport, retry settings). The store owns (and closes)
        `credential`."""
        if not connection_string and not (account_url and credential is not None):
            raise ValueError("Queue storage needs a connection string, or a service URL and a credential")
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self._options = {"api_version": API_VERSION, **client_options}
        self._client: QueueServiceClient | None = None
        self._queues: dict[str, QueueClient] = {}
        self._created: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    # --- clients, built on first use ------------------------------------------------------------------

    def _service(self) -> QueueServiceClient:
        if self._client is None:
            from azure.storage.queue.aio import QueueServiceClient  # noqa: PLC0415

            if self._connection_string:
                self._client = QueueServiceClient.from_connection_string(
                    self._connection_string, **self._options
                )
            else:
                assert self._account_url is not None
                self._client = QueueServiceClient(
                    self._account_url, credential=self._credential, **self._options
                )
        return self._client

    def _queue(self, queue: str) -> QueueClient:
        client = self._queues.get(check_queue_name(queue))
        if client is None:
            from azure.storage.queue import TextBase64EncodePolicy  # noqa: PLC0415

            client = self._service().get_queue_client(
                queue,
                message_encode_policy=TextBase64EncodePolicy(),
                message_decode_policy=_lenient_decode_policy(),
            )
            self._queues[queue] = client
        return client

    async def _ensure(self, queue: str) -> QueueClient:
        client = self._queue(queue)
        if queue in self._created:
            return client
        async with self._locks.setdefault(queue, asyncio.Lock()):
            if queue not in self._created:
                from azure.core.exceptions import ResourceExistsError  # noqa: PLC0415

                with storage_errors(f"creating queue {queue}"), contextlib.suppress(ResourceExistsError):
                    await client.create_queue()
                self._created.add(queue)
        return client

    async def aclose(self) -> None:
        for client in self._queues.values():
            await client.close()
        self._queues.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._credential is not None:
            await self._credential.close()

    # --- messages ----------------------------------------------------------------------------------------

    async def send(self, queue: str, text: str, *, delay: timedelta | None = None) -> None:
        check_queue_name(queue)
        hidden = None if delay is None else whole_seconds(delay, "delay")
        # Checked here, as the local store does: the service's own refusal is a bare 413.
        if len(encode(text)) > MAX_MESSAGE_CHARS:
            raise StorageRejected(
                f"message to {queue} is over {MAX_MESSAGE_CHARS} characters in base64",
                413,
                "RequestBodyTooLarge",
            )
        client = await self._ensure(queue)
        with storage_errors(f"sending to {queue}"):
            await client.send_message(text, visibility_timeout=hidden)

    async def receive(
        self, queue: str, *, max_messages: int, visibility_timeout: timedelta
    ) -> list[QueueMessage]:
        check_queue_name(queue)
        check_max_messages(max_messages)
        hidden = whole_seconds(visibility_timeout, "visibility_timeout", minimum=1)
        client = await self._ensure(queue)
        received: list[QueueMessage] = []
        with storage_errors(f"receiving from {queue}"):
            pages = client.receive_messages(
                messages_per_page=max_messages, max_messages=max_messages, visibility_timeout=hidden
            ).by_page()
            # One Get Messages request: the pager would otherwise keep asking until the queue is empty.
            page = await anext(pages, None)
            if page is not None:
                async for message in page:
                    received.append(
                        QueueMessage(
                            id=str(message.id),
                            pop_receipt=str(message.pop_receipt),
                            text=str(message.content),
                            dequeue_count=int(message.dequeue_count or 0),
                            inserted_on=message.inserted_on or datetime.now(UTC),
                        )
                    )
        return received

    async def delete(self, queue: str, message: QueueMessage) -> None:
        client = self._queue(queue)
        await self._on_message(queue, message, client.delete_message(message.id, message.pop_receipt))

    async def release(self, queue: str, message: QueueMessage, *, delay: timedelta) -> None:
        client = self._queue(queue)
        hidden = whole_seconds(delay, "delay")
        await self._on_message(
            queue,
            message,
            client.update_message(message.id, message.pop_receipt, visibility_timeout=hidden),
        )

    @staticmethod
    async def _on_message(queue: str, message: QueueMessage, request: Awaitable[Any]) -> None:
        from azure.core.exceptions import HttpResponseError  # noqa: PLC0415

        with storage_errors(f"updating message {message.id} in {queue}"):
            try:
                await request
            except HttpResponseError as exc:
                if exc.status_code in (400, 404) and error_code(exc) in _GONE_CODES:
                    raise MessageGone(
                        f"message {message.id} in {queue}: deleted, or its pop receipt is stale"
                    ) from exc
                raise
