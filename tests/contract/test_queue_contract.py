"""One contract for every QueueStore adapter, then what only one adapter does.

The contract runs on the local store (SQLite under tmp_path), on the Azure adapter against Azurite with
the well-known account key, and on the Azure adapter authenticated by a token credential against an
Azurite started with `--oauth basic` over HTTPS (the managed-identity path). Queue names are unique per
test: the Azurite instances are shared.

Visibility is in whole seconds on every backend (Azure's unit), so the tests that watch a message hide
and come back take a second or two each; they poll rather than sleep a fixed time.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from devhost.emulators import Azurite, OAuthAzurite, free_port
from shared.adapters.azure_queues import API_VERSION, AzureQueueStore
from shared.adapters.azure_storage_auth import (
    InvalidName,
    StorageRejected,
    StorageUnavailable,
    build_queue_store,
)
from shared.adapters.local_queues import LocalQueueStore
from shared.config import ConfigurationError, Settings
from shared.ports import MessageGone, QueueMessage, QueueStore
from tests.contract.test_blob_contract import FakeTokenCredential

SECOND = timedelta(seconds=1)


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> QueueStore:
    return LocalQueueStore(tmp_path / "queues.sqlite3")


def _azure_key(request: pytest.FixtureRequest, tmp_path: Path) -> QueueStore:
    azurite: Azurite = request.getfixturevalue("azurite_emulator")
    return AzureQueueStore(connection_string=azurite.connection_string)


def _azure_identity(request: pytest.FixtureRequest, tmp_path: Path) -> QueueStore:
    azurite: OAuthAzurite = request.getfixturevalue("oauth_azurite_emulator")
    return AzureQueueStore(
        account_url=azurite.queue_url, credential=FakeTokenCredential(), **azurite.client_kwargs
    )


QueueFactory = Callable[[pytest.FixtureRequest, Path], QueueStore]
STORES = [
    pytest.param(_local, id="local"),
    pytest.param(_azure_key, id="azure-key"),
    pytest.param(_azure_identity, id="azure-identity"),
]


@pytest.fixture(params=STORES)
async def queues(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QueueStore]:
    factory: QueueFactory = request.param
    store = factory(request, tmp_path)
    yield store
    await store.aclose()


@pytest.fixture
def queue() -> str:
    return f"jobs-{uuid.uuid4().hex[:16]}"


async def receive(store: QueueStore, queue: str, n: int = 32, hide: timedelta = SECOND) -> list[QueueMessage]:
    return await store.receive(queue, max_messages=n, visibility_timeout=hide)


async def eventually(
    fetch: Callable[[], Awaitable[list[QueueMessage]]], within: float = 6.0
) -> list[QueueMessage]:
    """Polls until `fetch` returns something: visibility is whole seconds, on the service's clock."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await fetch()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


# --- round trips ------------------------------------------------------------------------------------------


async def test_send_then_receive_round_trips_unicode(queues: QueueStore, queue: str) -> None:
    text = '{"recordingId": "r-1", "note": "Grüße, 会議 🎙️ <&>"}'
    before = datetime.now(UTC) - timedelta(seconds=2)
    await queues.send(queue, text)
    [message] = await receive(queues, queue, hide=timedelta(seconds=30))
    assert message.text == text
    assert message.dequeue_count == 1
    assert message.id
    assert message.pop_receipt
    assert message.inserted_on.tzinfo is not None
    assert before <= message.inserted_on <= datetime.now(UTC) + timedelta(seconds=2)


async def test_an_empty_or_unknown_queue_gives_nothing(queues: QueueStore, queue: str) -> None:
    assert await receive(queues, queue) == []


async def test_a_received_message_is_hidden_then_comes_back(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "job")
    [first] = await receive(queues, queue, hide=SECOND)
    assert await receive(queues, queue) == []  # hidden for its visibility timeout
    [again] = await eventually(lambda: receive(queues, queue, hide=timedelta(seconds=30)))
    assert again.id == first.id
    assert again.text == "job"
    assert again.dequeue_count == 2
    assert again.pop_receipt != first.pop_receipt


async def test_a_delayed_message_appears_after_its_delay(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "later", delay=2 * SECOND)
    await queues.send(queue, "now")
    assert [m.text for m in await receive(queues, queue, hide=timedelta(seconds=30))] == ["now"]
    started = asyncio.get_running_loop().time()
    [later] = await eventually(lambda: receive(queues, queue))
    assert later.text == "later"
    assert later.dequeue_count == 1
    assert asyncio.get_running_loop().time() - started >= 0.5


async def test_delete_removes_and_a_second_delete_is_message_gone(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "job")
    [message] = await receive(queues, queue, hide=SECOND)
    await queues.delete(queue, message)
    with pytest.raises(MessageGone):
        await queues.delete(queue, message)
    with pytest.raises(MessageGone):
        await queues.release(queue, message, delay=timedelta(0))
    await asyncio.sleep(1.5)
    assert await receive(queues, queue) == []


async def test_a_stale_pop_receipt_is_message_gone(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "job")
    [stale] = await receive(queues, queue, hide=SECOND)
    [fresh] = await eventually(lambda: receive(queues, queue, hide=timedelta(seconds=30)))
    with pytest.raises(MessageGone):
        await queues.delete(queue, stale)
    with pytest.raises(MessageGone):
        await queues.release(queue, stale, delay=timedelta(0))
    await queues.delete(queue, fresh)


async def test_release_makes_a_message_visible_after_the_delay(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "job")
    [message] = await receive(queues, queue, hide=timedelta(seconds=30))
    await queues.release(queue, message, delay=SECOND)
    with pytest.raises(MessageGone):  # releasing spent the receipt
        await queues.delete(queue, message)
    assert await receive(queues, queue) == []
    [again] = await eventually(lambda: receive(queues, queue, hide=timedelta(seconds=30)))
    assert (again.id, again.dequeue_count) == (message.id, 2)
    await queues.release(queue, again, delay=timedelta(0))
    [third] = await receive(queues, queue, hide=timedelta(seconds=30))
    assert (third.id, third.dequeue_count) == (message.id, 3)
    await queues.delete(queue, third)


async def test_max_messages_is_respected(queues: QueueStore, queue: str) -> None:
    for i in range(5):
        await queues.send(queue, f"m{i}")
    first = await receive(queues, queue, n=3, hide=timedelta(seconds=30))
    rest = await receive(queues, queue, n=32, hide=timedelta(seconds=30))
    assert len(first) == 3
    assert len(rest) == 2
    assert sorted(m.text for m in first + rest) == [f"m{i}" for i in range(5)]


async def test_queues_are_isolated(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "mine")
    assert await receive(queues, f"{queue}-poison") == []
    [message] = await receive(queues, queue)
    with pytest.raises(MessageGone):
        await queues.delete(f"{queue}-poison", message)
    await queues.delete(queue, message)


async def test_concurrent_receivers_never_share_a_message(queues: QueueStore, queue: str) -> None:
    for i in range(10):
        await queues.send(queue, f"m{i}")
    batches = await asyncio.gather(
        *(receive(queues, queue, n=4, hide=timedelta(seconds=30)) for _ in range(4))
    )
    ids = [m.id for batch in batches for m in batch]
    assert len(ids) == len(set(ids)) == 10


# --- limits -----------------------------------------------------------------------------------------------


async def test_a_message_over_64_kib_in_base64_is_refused(queues: QueueStore, queue: str) -> None:
    await queues.send(queue, "x" * 48 * 1024)  # 64 KiB exactly once encoded
    with pytest.raises(StorageRejected, match="65536"):
        await queues.send(queue, "x" * (48 * 1024 + 1))
    [message] = await receive(queues, queue)
    assert len(message.text) == 48 * 1024


@pytest.mark.parametrize("bad", ["Jobs", "ab", "-jobs", "jobs-", "jo--bs", "jobs_1", "x" * 64])
async def test_bad_queue_names_are_refused(queues: QueueStore, bad: str) -> None:
    with pytest.raises(InvalidName):
        await queues.send(bad, "x")
    with pytest.raises(InvalidName):
        await receive(queues, bad)


async def test_arguments_outside_azure_limits_are_refused(queues: QueueStore, queue: str) -> None:
    for n in (0, 33):
        with pytest.raises(ValueError, match="max_messages"):
            await receive(queues, queue, n=n)
    for hide in (timedelta(0), timedelta(milliseconds=1500), timedelta(days=7, seconds=1)):
        with pytest.raises(ValueError, match="visibility_timeout"):
            await receive(queues, queue, hide=hide)
    with pytest.raises(ValueError, match="delay"):
        await queues.send(queue, "x", delay=timedelta(seconds=-1))


# --- Azure store only -------------------------------------------------------------------------------------


async def test_azure_messages_travel_base64_encoded(azurite_emulator: Azurite, queue: str) -> None:
    """What the Functions host's queue trigger reads by default: base64 of the UTF-8 text."""
    from azure.storage.queue.aio import QueueClient

    store = AzureQueueStore(connection_string=azurite_emulator.connection_string)
    raw = QueueClient.from_connection_string(
        azurite_emulator.connection_string, queue, api_version=API_VERSION
    )
    try:
        text = '{"job": "transcribe", "title": "Grüße"}'
        await store.send(queue, text)
        [peeked] = await raw.peek_messages()
        assert peeked.content == base64.b64encode(text.encode()).decode()
        # And what another producer writes in base64 (as the host's output bindings do) reads back as text.
        await raw.send_message(base64.b64encode(b"from elsewhere").decode())
        texts = sorted(m.text for m in await receive(store, queue))
        assert texts == sorted([text, "from elsewhere"])
        # A raw-text message does not fail the batch it comes in: it is passed on as it is.
        await raw.send_message("not base64 ☃")
        await store.send(queue, "good")
        texts = sorted(m.text for m in await receive(store, queue, hide=timedelta(seconds=30)))
        assert texts == sorted(["not base64 ☃", "good"])
    finally:
        await raw.close()
        await store.aclose()


async def test_azure_queues_are_created_once(azurite_emulator: Azurite, queue: str) -> None:
    from azure.storage.queue.aio import QueueClient

    created: list[str] = []
    original = QueueClient.create_queue

    async def counting(self: QueueClient, **kwargs: Any) -> None:
        created.append(self.queue_name)
        await original(self, **kwargs)

    store = AzureQueueStore(connection_string=azurite_emulator.connection_string)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QueueClient, "create_queue", counting)
        try:
            await asyncio.gather(*(store.send(queue, f"m{i}") for i in range(5)))
            await receive(store, queue)
        finally:
            await store.aclose()
    assert created == [queue]


async def test_azure_errors_are_store_errors(azurite_emulator: Azurite, queue: str) -> None:
    from azure.core.exceptions import AzureError

    unreachable = AzureQueueStore(
        connection_string=azurite_emulator.connection_string.replace(
            f":{azurite_emulator.queue_port}/", f":{free_port()}/"
        ),
        retry_total=0,
    )
    wrong_key = AzureQueueStore(
        connection_string=azurite_emulator.connection_string.replace(
            "AccountKey=", "AccountKey=" + base64.b64encode(b"k" * 64).decode() + ";Ignored="
        )
    )
    try:
        with pytest.raises(StorageUnavailable) as unavailable:
            await unreachable.send(queue, "x")
        assert not isinstance(unavailable.value, AzureError)
        with pytest.raises(StorageRejected) as rejected:
            await wrong_key.send(queue, "x")
        assert rejected.value.status == 403
    finally:
        await unreachable.aclose()
        await wrong_key.aclose()


async def test_azure_identity_store_closes_its_credential(
    oauth_azurite_emulator: OAuthAzurite, queue: str
) -> None:
    credential = FakeTokenCredential()
    store = AzureQueueStore(
        account_url=oauth_azurite_emulator.queue_url,
        credential=credential,
        **oauth_azurite_emulator.client_kwargs,
    )
    await store.send(queue, "x")
    await store.aclose()
    assert credential.closed
    assert all(scopes == ("https://storage.azure.com/.default",) for scopes in credential.scopes)


# --- local store only -------------------------------------------------------------------------------------


async def test_local_messages_are_stored_base64_encoded(tmp_path: Path) -> None:
    store = LocalQueueStore(tmp_path / "q.sqlite3")
    try:
        await store.send("transcription-jobs", "Grüße")
    finally:
        await store.aclose()
    with sqlite3.connect(tmp_path / "q.sqlite3") as conn:
        [(body,)] = conn.execute("SELECT body FROM messages").fetchall()
    assert body == base64.b64encode("Grüße".encode()).decode()


async def test_local_messages_survive_a_new_store(tmp_path: Path) -> None:
    first = LocalQueueStore(tmp_path / "q.sqlite3")
    await first.send("transcription-jobs", "job")
    [taken] = await receive(first, "transcription-jobs", hide=timedelta(seconds=30))
    await first.aclose()
    second = LocalQueueStore(tmp_path / "q.sqlite3")
    try:
        assert await receive(second, "transcription-jobs") == []  # still hidden
        await second.delete("transcription-jobs", taken)  # the receipt holds across stores
        assert await receive(second, "transcription-jobs") == []
    finally:
        await second.aclose()


async def test_local_two_stores_on_one_file_never_share_a_message(tmp_path: Path) -> None:
    stores = [LocalQueueStore(tmp_path / "q.sqlite3") for _ in range(2)]
    try:
        for i in range(20):
            await stores[0].send("transcription-jobs", f"m{i}")
        batches = await asyncio.gather(
            *(receive(stores[i % 2], "transcription-jobs", n=3, hide=timedelta(seconds=30)) for i in range(8))
        )
        ids = [m.id for batch in batches for m in batch]
        assert len(ids) == len(set(ids)) == 20
    finally:
        for store in stores:
            await store.aclose()


async def test_local_messages_expire_after_seven_days(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    store = LocalQueueStore(tmp_path / "q.sqlite3", clock=lambda: now[0])
    try:
        await store.send("transcription-jobs", "old")
        now[0] += timedelta(days=7).total_seconds() - 1
        [message] = await receive(store, "transcription-jobs")
        now[0] += 2
        assert await receive(store, "transcription-jobs") == []
        with pytest.raises(MessageGone):
            await store.delete("transcription-jobs", message)
    finally:
        await store.aclose()


# --- settings -> store ------------------------------------------------------------------------------------


async def test_build_local_queue_store(tmp_path: Path) -> None:
    store = build_queue_store(Settings(data_dir=tmp_path))
    try:
        assert isinstance(store, LocalQueueStore)
        await store.send("transcription-jobs", "x")
        assert (tmp_path / "queues.sqlite3").exists()
    finally:
        await store.aclose()


async def test_build_azure_queue_store_from_a_connection_string(
    azurite_emulator: Azurite, queue: str
) -> None:
    settings = Settings(storage="azure", azure_web_jobs_storage=SecretStr(azurite_emulator.connection_string))
    store = build_queue_store(settings)
    try:
        assert isinstance(store, AzureQueueStore)
        await store.send(queue, "x")
        assert [m.text for m in await receive(store, queue)] == ["x"]
    finally:
        await store.aclose()


async def test_build_azure_queue_store_with_the_system_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity.aio import ManagedIdentityCredential

    monkeypatch.setenv("STORAGE", "azure")
    monkeypatch.setenv("Storage__queueServiceUri", "https://account.queue.core.windows.net")
    monkeypatch.setenv("Storage__credential", "managedidentity")
    store = build_queue_store(Settings())
    try:
        assert isinstance(store, AzureQueueStore)
        assert store._account_url == "https://account.queue.core.windows.net"
        assert isinstance(store._credential, ManagedIdentityCredential)
    finally:
        await store.aclose()


def test_azure_queue_store_needs_a_connection() -> None:
    with pytest.raises(ConfigurationError, match="AzureWebJobsStorage"):
        build_queue_store(Settings(storage="azure"))
    with pytest.raises(ValueError, match="connection string"):
        AzureQueueStore(account_url="https://account.queue.core.windows.net")
