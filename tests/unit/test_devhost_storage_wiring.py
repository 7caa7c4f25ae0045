"""`serve`'s storage wiring on a DevHost: the app's own settings and stores, every runner, the routes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import azure.functions as func
import pytest

from devhost.blob_watcher import BlobWatcher
from devhost.event_grid_runner import WEBHOOK_PATH
from devhost.host import DevHost
from devhost.storage_wiring import storage_account, upload_signer, wire_storage
from shared.adapters.azure_storage_auth import AZURITE_CONNECTION_STRING, build_blob_store, build_queue_store
from shared.config import Settings

HOST_JSON = {"extensions": {"queues": {"maxPollingInterval": "00:00:00.100"}}}


@dataclass
class Fired:
    event: asyncio.Future[func.EventGridEvent]
    blob: asyncio.Future[bytes]
    message: asyncio.Future[str]
    subjects: list[str]


def build_app(fired: Fired) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.event_grid_trigger(arg_name="event")
    async def recording_uploaded(event: func.EventGridEvent, context: func.Context) -> None:
        fired.subjects.append(event.subject)
        if not fired.event.done():
            fired.event.set_result(event)

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    def on_recording(blob: func.InputStream) -> None:  # a plain function: reads on a worker thread
        data = blob.read()
        fired.blob.get_loop().call_soon_threadsafe(fired.blob.set_result, data)

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="AzureWebJobsStorage")
    async def job(msg: func.QueueMessage) -> None:
        fired.message.set_result(msg.get_body().decode())

    return app


@pytest.fixture
async def fired() -> Fired:
    loop = asyncio.get_running_loop()
    return Fired(loop.create_future(), loop.create_future(), loop.create_future(), [])


async def test_serve_wiring_on_the_embedded_store(tmp_path: Path, fired: Fired) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    host = DevHost(build_app(fired), port=0)
    storage = await wire_storage(host, settings, HOST_JSON, watch_interval=0.05)
    kinds = [type(r).__name__ for r in host.runners]
    assert kinds == [
        "QueueTriggerRunner",
        "BlobTriggerRunner",
        "EventGridRunner",
        "BlobWatcher",
        "HttpRunner",
    ]
    assert [(r.method, r.name) for r in host.http.system_routes] == [
        ("POST", "eventgrid-webhook"),
        ("PUT", "blob-upload"),
        ("GET", "blob-read"),
        ("HEAD", "blob-read"),
    ]
    assert host.served_count == 3
    assert host.unserved() == []
    try:
        async with host, aiohttp.ClientSession() as client:
            assert "  recording_uploaded: eventGridTrigger" in "\n".join(host.describe())
            # The app's side, as bootstrap builds it: same settings, same key, URLs to this host.
            app_blobs = build_blob_store(settings, await upload_signer(settings), host.base_url)
            target = await app_blobs.upload_target(
                "recordings", "m1/r1/source.webm", content_type="audio/webm", expires_in=timedelta(minutes=5)
            )
            async with client.put(target.url, data=b"webm bytes", headers=target.headers) as response:
                assert response.status == 201
            event = await asyncio.wait_for(fired.event, 5)
            assert event.subject == "/blobServices/default/containers/recordings/blobs/m1/r1/source.webm"
            assert event.get_json()["url"] == f"{host.base_url}/_devhost/blobs/recordings/m1/r1/source.webm"
            assert await asyncio.wait_for(fired.blob, 5) == b"webm bytes"
            # A blob the app writes itself is announced too, by the watcher, as Storage would; the upload
            # above is not announced a second time.
            await app_blobs.put("recordings", "m1/r2/source.wav", b"fetched from ACS")
            for _ in range(100):
                if len(fired.subjects) > 1:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            assert [s.rsplit("/", 2)[-2] for s in fired.subjects] == ["r1", "r2"]

            app_queues = build_queue_store(settings)
            await app_queues.send("jobs", "transcribe m1/r1")
            await app_queues.aclose()
            assert await asyncio.wait_for(fired.message, 5) == "transcribe m1/r1"

            async with client.post(
                f"{host.base_url}{WEBHOOK_PATH}",
                params={"functionName": "recording_uploaded"},
                headers={"aeg-event-type": "SubscriptionValidation"},
                data=json.dumps([{"data": {"validationCode": "c0de"}}]),
            ) as response:
                assert await response.json() == {"validationResponse": "c0de"}
    finally:
        await storage.aclose()


async def test_serve_wiring_on_azurite_watches_instead_of_serving_uploads(
    tmp_path: Path, fired: Fired
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", storage="azure", azure_web_jobs_storage="UseDevelopmentStorage=true"
    )
    host = DevHost(build_app(fired), port=0)
    storage = await wire_storage(host, settings, HOST_JSON)  # builds clients; connects to nothing yet
    try:
        [watcher] = [r for r in host.runners if isinstance(r, BlobWatcher)]
        assert watcher.containers == ("recordings",)
        assert [r.name for r in host.http.system_routes] == ["eventgrid-webhook"]
        assert host.served_count == 3
    finally:
        await storage.aclose()


def test_storage_account_from_the_settings(tmp_path: Path) -> None:
    def account(**kwargs: object) -> tuple[str, str | None]:
        return storage_account(Settings(data_dir=tmp_path, **kwargs))  # type: ignore[arg-type]

    assert account() == ("devhost", None)
    azurite = ("devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1")
    assert account(storage="azure", azure_web_jobs_storage="UseDevelopmentStorage=true") == azurite
    assert account(storage="azure", azure_web_jobs_storage=AZURITE_CONNECTION_STRING) == azurite
    keys = (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn"
    )
    assert account(storage="azure", azure_web_jobs_storage=keys) == (
        "acct",
        "https://acct.blob.core.chinacloudapi.cn",
    )
    identity = {"storage_blob_service_uri": "https://acct2.blob.core.windows.net/"}
    assert account(storage="azure", **identity) == ("acct2", "https://acct2.blob.core.windows.net")


async def test_a_send_on_the_embedded_store_wakes_the_queue_trigger_at_once(tmp_path: Path) -> None:
    """The poll has backed off to host.json's maxPollingInterval (a minute here): a message sent by the
    app's own store, from any thread, still starts its function within a fraction of a second; a delayed
    one when it becomes visible, not a poll later; and once the storage is closed, sends wake nothing."""
    settings = Settings(data_dir=tmp_path / "data")
    app = func.FunctionApp()
    got: list[tuple[str, float]] = []

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="AzureWebJobsStorage")
    async def job(msg: func.QueueMessage) -> None:
        got.append((msg.get_body().decode(), time.monotonic()))

    host = DevHost(app, port=0)
    slow = {"extensions": {"queues": {"maxPollingInterval": "00:01:00"}}}
    storage = await wire_storage(host, settings, slow, watch_interval=60)
    app_queues = build_queue_store(settings)
    try:
        async with host:
            await asyncio.sleep(1.0)  # idle: the backoff is past a second by now
            sent = time.monotonic()
            await asyncio.to_thread(asyncio.run, app_queues.send("jobs", "now"))  # another thread, loop
            await eventually(lambda: len(got) == 1, within=1.0)
            assert got[0][0] == "now"
            assert got[0][1] - sent < 0.5

            await asyncio.sleep(1.0)
            sent = time.monotonic()
            await app_queues.send("jobs", "later", delay=timedelta(seconds=1))
            await eventually(lambda: len(got) == 2, within=2.0)
            assert got[1][0] == "later"
            assert 0.9 < got[1][1] - sent < 1.5
    finally:
        await storage.aclose()
    await app_queues.send("jobs", "after")  # nobody listens: no error, nothing scheduled
    await app_queues.aclose()


async def eventually(condition: Callable[[], bool], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.01)
