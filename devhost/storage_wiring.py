"""`serve`'s storage side: the host's own stores (as the Functions host holds its own connection to the
`Storage` account), and the runners and endpoints that work on them.

`wire_storage(host, settings, host_json)` builds the BlobStore and QueueStore with the app's builders and
settings (so the same DATA_DIR, or the same Azurite account), then adds to `host`:

- QueueTriggerRunner (host.json `extensions.queues`), BlobTriggerRunner and EventGridRunner; on the
  embedded queue store the runner is woken by every send of this process (the app's jobs and blob
  trigger), so a queued job starts at once rather than at the end of the poll backoff;
- the Event Grid webhook, `POST /runtime/webhooks/EventGrid?functionName=<name>`;
- where blobs land: a watcher listing the `recordings` container every second (Storage announces every
  write: the clients' PUTs straight to Azurite, the app's own writes on either store), and on the embedded
  store the upload route (`PUT /_devhost/blobs/...`, the URLs the app's upload_target hands out), which
  announces its uploads at once;
- on the embedded store, the read route (`GET|HEAD /_devhost/blobs/...`, the URLs of `read_url`).

Either way a landed blob goes through BlobNotifier.blob_landed: the blob trigger runner's `notify` and a
BlobCreated event published to every Event Grid function. The caller closes the stores (`aclose`) after
the host stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from devhost.blob_events import BlobNotifier
from devhost.blob_read import BlobReadRoute
from devhost.blob_runner import BlobTriggerRunner
from devhost.blob_upload import BlobUploadRoute
from devhost.blob_watcher import DEFAULT_CONTAINERS, INTERVAL_SECONDS, BlobWatcher
from devhost.event_grid_runner import EventGridRunner
from devhost.event_grid_webhook import EventGridWebhook
from devhost.host import DevHost
from devhost.queue_runner import QueueTriggerRunner
from shared.adapters.azure_storage_auth import build_blob_store, build_queue_store, connection_string
from shared.adapters.local_blobs import UPLOAD_ROUTE, UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.adapters.local_queues import LocalQueueStore, on_send

# The app's own key derivation: the upload URLs it signs must verify here.
from shared.bootstrap import resolve_secrets, signing_key_of
from shared.config import ConfigurationError, Settings
from shared.ports import BlobInfo, BlobStore, QueueStore
from shared.secrets import SecretResolver
from shared.signing import Signer

WATCHER_STATE = "devhost-blob-watcher-{account}.json"  # under DATA_DIR: the blobs announced, across restarts
LOCAL_ACCOUNT = "devhost"  # the embedded store's account name, in BlobCreated events' topic


@dataclass
class HostStorage:
    blobs: BlobStore
    queues: QueueStore
    notifier: BlobNotifier
    event_grid: EventGridRunner
    stop_listening: Callable[[], None] = field(default=lambda: None)

    async def aclose(self) -> None:
        self.stop_listening()
        try:
            await self.blobs.aclose()
        finally:
            await self.queues.aclose()


async def upload_signer(settings: Settings) -> Signer:
    """The signer of the app's upload URLs: the app's key (a Key Vault reference read first)."""
    if settings.storage == "local" and settings.signing_key is not None:  # only the local store signs
        resolver = SecretResolver(settings.key_vault_url)
        try:
            settings = await resolve_secrets(settings, resolver)
        finally:
            await resolver.aclose()
    return Signer(signing_key_of(settings), purpose=UPLOAD_SIGNING_PURPOSE)


def storage_account(settings: Settings) -> tuple[str, str | None]:
    """The storage account's name and blob endpoint as the settings give them; None for the embedded
    store, whose blobs have no URL of their own."""
    if settings.storage == "local":
        return LOCAL_ACCOUNT, None
    if settings.storage_blob_service_uri:
        endpoint = settings.storage_blob_service_uri.rstrip("/")
        return _account_in(endpoint), endpoint
    fields: dict[str, str] = {}
    for part in connection_string(settings).split(";"):
        key, _, value = part.partition("=")
        fields[key.strip().lower()] = value.strip()
    account, endpoint = fields.get("accountname", ""), fields.get("blobendpoint", "")
    if not endpoint and account:
        protocol = fields.get("defaultendpointsprotocol", "https")
        endpoint = f"{protocol}://{account}.blob.{fields.get('endpointsuffix', 'core.windows.net')}"
    if not endpoint:
        raise ConfigurationError("AzureWebJobsStorage names neither an AccountName nor a BlobEndpoint")
    return account or _account_in(endpoint), endpoint.rstrip("/")


def _account_in(endpoint: str) -> str:
    """`https://acct.blob.core.windows.net` -> acct; path style (Azurite, `http://host:port/acct`) -> acct."""
    url = urlsplit(endpoint)
    return url.path.strip("/").split("/")[0] or (url.hostname or "").split(".")[0]


async def wire_storage(
    host: DevHost,
    settings: Settings,
    host_json: Mapping[str, Any],
    *,
    watch: Sequence[str] = DEFAULT_CONTAINERS,
    watch_interval: float = INTERVAL_SECONDS,
) -> HostStorage:
    account, endpoint = storage_account(settings)
    blobs = build_blob_store(settings, await upload_signer(settings), settings.public_base_url)
    queues: QueueStore | None = None
    stop_listening: Callable[[], None] = _nothing
    try:
        queues = build_queue_store(settings)
        blob_runner = BlobTriggerRunner(host.index, blobs, host_json=host_json, base_url=endpoint)
        event_grid = EventGridRunner(host.index)
        queue_runner = QueueTriggerRunner(host.index, queues, host_json=host_json)
        host.add_runner(queue_runner)
        stop_listening = wake_on_send(queues, queue_runner)
        host.add_runner(blob_runner)
        host.add_runner(event_grid)
        notifier = BlobNotifier(
            blobs,
            blob_runner,
            event_grid,
            account=account,
            # The embedded store's blobs are "at" their upload URL, on devhost's bound address.
            blob_endpoint=(lambda: endpoint) if endpoint else (lambda: host.base_url + UPLOAD_ROUTE),
        )
        host.http.add_system_route(EventGridWebhook(event_grid).route())
        # Storage announces every write, whoever makes it: the watcher stands in for that (the app's own
        # writes, and on Azurite the clients' uploads), the upload route announces its uploads at once.
        watcher = BlobWatcher(
            blobs,
            notifier.blob_landed,
            containers=watch,
            interval=watch_interval,
            # Beside the data it describes (a fresh DATA_DIR announces everything, as it should), one per
            # account: the embedded store and Azurite hold different blobs under the same names.
            state_file=settings.data_dir / WATCHER_STATE.format(account=account),
        )
        host.add_runner(watcher)
        if isinstance(blobs, LocalBlobStore):

            async def uploaded(container: str, name: str, info: BlobInfo | None = None) -> None:
                if info is not None:
                    watcher.seen(container, info)
                await notifier.blob_landed(container, name, info)

            host.http.add_system_route(BlobUploadRoute(blobs, uploaded).route())
            for route in BlobReadRoute(blobs).routes():
                host.http.add_system_route(route)
    except BaseException:
        stop_listening()
        await blobs.aclose()
        if queues is not None:
            await queues.aclose()
        raise
    return HostStorage(blobs, queues, notifier, event_grid, stop_listening)


def wake_on_send(queues: QueueStore, runner: QueueTriggerRunner) -> Callable[[], None]:
    """Wakes `runner`'s poll of a queue when this process sends to it (on the embedded store), at once or
    when a delayed message becomes visible; returns what stops that. Sends may come from any thread."""
    if not isinstance(queues, LocalQueueStore):
        return _nothing
    loop = asyncio.get_running_loop()

    def wake(queue: str, delay_seconds: float) -> None:
        if delay_seconds > 0:
            loop.call_later(delay_seconds, runner.wake, queue)
        else:
            runner.wake(queue)

    def sent(queue: str, delay_seconds: float) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the host has stopped
            loop.call_soon_threadsafe(wake, queue, delay_seconds)

    return on_send(queues.path, sent)


def _nothing() -> None:
    pass
