"""What Azure does when a blob lands, for devhost: the `Microsoft.Storage.BlobCreated` event Blob storage
publishes to Event Grid, and `BlobNotifier.blob_landed`, which whatever saw the blob land (the embedded
store's upload route, the Azurite watcher) calls to fire both the blob trigger and Event Grid runners.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from devhost.blob_runner import BlobTriggerRunner
from devhost.event_grid_runner import EventGridRunner
from shared.adapters.local_blobs import DEFAULT_CONTENT_TYPE
from shared.ports import BlobInfo, BlobStore

logger = logging.getLogger(__name__)

# What the upload route and the watcher call when a blob lands: BlobNotifier.blob_landed.
BlobLanded = Callable[[str, str, BlobInfo], Awaitable[None]]

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
# The resource path of the storage account that publishes the events: an all-zero subscription and a
# `devhost` resource group, so nothing in it can be mistaken for a real Azure resource.
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "devhost"

# Blob storage's `sequencer` orders the events of one blob: 32 hex digits that only grow. Starting from
# the clock keeps them growing across devhost restarts too.
_sequence = itertools.count(time.time_ns())


def storage_topic(account: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
        f"/providers/Microsoft.Storage/storageAccounts/{account}"
    )


def blob_subject(container: str, name: str) -> str:
    # Azure puts the name in the subject as it is (the `url` is the encoded one).
    return f"/blobServices/default/containers/{container}/blobs/{name}"


def blob_created_event(
    container: str,
    info: BlobInfo,
    *,
    account: str,
    url: str,
    api: str = "PutBlob",
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """The BlobCreated event (Event Grid schema) Azure publishes for `info`, a blob in `container`."""
    when = (event_time or datetime.now(UTC)).astimezone(UTC)
    return {
        "id": str(uuid.uuid4()),
        "topic": storage_topic(account),
        "subject": blob_subject(container, info.name),
        "eventType": BLOB_CREATED,
        "eventTime": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "dataVersion": "",
        "metadataVersion": "1",
        "data": {
            "api": api,
            "clientRequestId": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            # Unquoted, as in Azure's events (the ETag header and the SDKs quote it).
            "eTag": info.etag.strip('"'),
            "contentType": info.content_type or DEFAULT_CONTENT_TYPE,
            "contentLength": info.size,
            "blobType": "BlockBlob",
            "url": url,
            "sequencer": f"{next(_sequence):032x}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
    }


class BlobNotifier:
    """`await notifier.blob_landed(container, name)`: a blob was created or replaced.

    Fires the blob trigger runner (`notify`) and publishes a BlobCreated event to the Event Grid runner; both
    only schedule, so this returns at once. `account` names the storage account in the event's topic;
    `blob_endpoint()` gives the account's blob URL (read when an event is built: the embedded store's is
    devhost's own address, known once its server is bound).
    """

    def __init__(
        self,
        blobs: BlobStore,
        blob_runner: BlobTriggerRunner,
        event_grid: EventGridRunner,
        *,
        account: str,
        blob_endpoint: Callable[[], str],
    ) -> None:
        self._blobs = blobs
        self._blob_runner = blob_runner
        self._event_grid = event_grid
        self._account = account
        self._blob_endpoint = blob_endpoint

    def blob_url(self, container: str, name: str) -> str:
        return f"{self._blob_endpoint().rstrip('/')}/{container}/{quote(name)}"

    async def blob_landed(self, container: str, name: str, info: BlobInfo | None = None) -> None:
        """`info` spares a look-up when the caller has it (the upload's result, a listing's entry)."""
        if info is None:
            info = await self._blobs.info(container, name)
            if info is None:
                logger.warning("Blob %s/%s is gone before it could be announced", container, name)
                return
        await self._blob_runner.notify(container, name)
        event = blob_created_event(container, info, account=self._account, url=self.blob_url(container, name))
        await self._event_grid.publish([event])
