"""BlobTriggerRunner over a LocalBlobStore, fired by direct `notify` calls, with FunctionApps built here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from devhost.app_loader import index_app
from devhost.blob_runner import BlobPathTemplate, BlobStream, BlobTriggerRunner
from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.signing import Signer

DATA = b"0123456789abcdefghij" * 3


@pytest.fixture
async def blobs(tmp_path: Path) -> AsyncIterator[LocalBlobStore]:
    store = LocalBlobStore(
        tmp_path / "blobs", Signer(b"k" * 32, UPLOAD_SIGNING_PURPOSE), "http://127.0.0.1:7071"
    )
    await store.put("recordings", "m1/r1/audio.webm", DATA, content_type="audio/webm")
    yield store
    await store.aclose()


def runner_for(app: func.FunctionApp, store: LocalBlobStore, **kwargs: Any) -> BlobTriggerRunner:
    kwargs.setdefault("retry_delay", 0.01)
    return BlobTriggerRunner(index_app(app), store, **kwargs)


def test_templates_match_and_capture() -> None:
    rest = BlobPathTemplate.parse("recordings/{name}")
    assert rest.match("recordings", "m1/r1/audio.webm") == {"name": "m1/r1/audio.webm"}
    assert rest.match("other", "m1/r1/audio.webm") is None
    segments = BlobPathTemplate.parse("recordings/{meetingId}/{recordingId}/{file}")
    assert segments.match("recordings", "m1/r1/audio.webm") == {
        "meetingId": "m1",
        "recordingId": "r1",
        "file": "audio.webm",
    }
    assert segments.match("recordings", "m1/audio.webm") is None
    suffix = BlobPathTemplate.parse("recordings/{meetingId}/{stem}.webm")
    assert suffix.match("recordings", "m1/a.b.webm") == {"meetingId": "m1", "stem": "a.b"}
    assert suffix.match("recordings", "m1/a.mp4") is None
    literal = BlobPathTemplate.parse("recordings/incoming/{name}")
    assert literal.match("recordings", "incoming/x") == {"name": "x"}
    assert literal.match("recordings", "outgoing/x") is None
    whole = BlobPathTemplate.parse("recordings")
    assert whole.match("recordings", "anything/at/all") == {}
    for bad in ("{c}/{name}", "recordings/{a}/{a}", "recordings/{not-ok}", "recordings/{name", ""):
        with pytest.raises(ValueError, match="blob trigger path"):
            BlobPathTemplate.parse(bad)


async def test_notify_passes_a_lazy_stream_to_a_plain_function(
    blobs: LocalBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = func.FunctionApp()
    seen: dict[str, Any] = {}

    @app.blob_trigger(
        arg_name="blob", path="recordings/{name}", connection="Storage", source=func.BlobSource.EVENT_GRID
    )
    def on_recording(blob: func.InputStream) -> None:
        assert isinstance(blob, BlobStream)
        seen["name"], seen["length"], seen["uri"] = blob.name, blob.length, blob.uri
        seen["binding_data"] = blob.binding_data
        seen["properties"] = blob.blob_properties
        seen["parts"] = [blob.read(7), blob.read(7)]
        seen["rest"] = blob.read()
        seen["after"] = blob.read(5)

    runner = runner_for(app, blobs, base_url="http://azurite:10000/devstoreaccount1/", chunk_size=4)
    assert runner.describe() == ["  on_recording: blob recordings/{name} (EventGrid)"]
    await runner.start()
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.notify("recordings", "m1/r1/audio.webm")
        await runner.join()
    await runner.stop()
    assert seen["name"] == "recordings/m1/r1/audio.webm"
    assert seen["length"] == len(DATA)
    assert seen["uri"] == "http://azurite:10000/devstoreaccount1/recordings/m1/r1/audio.webm"
    assert seen["binding_data"] == {"name": "m1/r1/audio.webm"}
    assert seen["properties"]["ContentType"] == "audio/webm"
    assert seen["parts"] == [DATA[:7], DATA[7:14]]
    assert seen["rest"] == DATA[14:]
    assert seen["after"] == b""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("blob recordings/")]
    assert len(lines) == 1
    assert "function=on_recording attempt=1" in lines[0]
    assert f"length={len(DATA)} succeeded" in lines[0]


async def test_an_async_function_reads_with_aread_and_gets_named_segments(blobs: LocalBlobStore) -> None:
    app = func.FunctionApp()
    seen: list[Any] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{meetingId}/{recordingId}/{file}", connection="S")
    async def on_recording(blob: func.InputStream) -> None:
        assert isinstance(blob, BlobStream)
        with pytest.raises(RuntimeError, match="aread"):
            blob.read()
        seen.append(blob.binding_data)
        seen.append(await blob.aread(3) + await blob.aread())

    runner = runner_for(app, blobs, chunk_size=8)
    await runner.start()
    await runner.notify("recordings", "m1/r1/audio.webm")
    await runner.join()
    await runner.stop()
    assert seen == [{"meetingId": "m1", "recordingId": "r1", "file": "audio.webm"}, DATA]


async def test_a_bytes_parameter_gets_the_whole_blob(blobs: LocalBlobStore) -> None:
    app = func.FunctionApp()
    seen: list[bytes] = []

    @app.blob_trigger(arg_name="data", path="recordings/{name}", connection="S")
    def whole(data: bytes) -> None:
        seen.append(data)

    runner = runner_for(app, blobs)
    await runner.start()
    await runner.notify("recordings", "m1/r1/audio.webm")
    await runner.join()
    await runner.stop()
    assert seen == [DATA]


async def test_only_matching_functions_run(blobs: LocalBlobStore) -> None:
    app = func.FunctionApp()
    ran: list[str] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{m}/{r}/{stem}.webm", connection="S")
    async def webm(blob: func.InputStream) -> None:
        ran.append("webm")

    @app.blob_trigger(arg_name="blob", path="transcripts/{name}", connection="S")
    async def transcripts(blob: func.InputStream) -> None:
        ran.append("transcripts")

    @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="S")
    async def queue(msg: func.QueueMessage) -> None:
        ran.append("queue")

    runner = runner_for(app, blobs)
    assert [e.name for e in runner.functions] == ["webm", "transcripts"]
    await runner.start()
    await blobs.put("other", "m1/r1/audio.webm", b"x")
    await runner.notify("other", "m1/r1/audio.webm")  # container matches nothing
    await blobs.put("recordings", "m1/r1/audio.mp4", b"x")
    await runner.notify("recordings", "m1/r1/audio.mp4")  # pattern matches nothing
    await runner.join()
    assert ran == []
    await runner.notify("recordings", "m1/r1/audio.webm")
    await runner.join()
    await runner.stop()
    assert ran == ["webm"]


async def test_a_failing_function_is_retried_then_given_up(
    blobs: LocalBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = func.FunctionApp()
    calls: list[int] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    async def broken(blob: func.InputStream) -> None:
        calls.append(1)
        raise ValueError("cannot transcribe")

    runner = runner_for(app, blobs, host_json={"extensions": {"queues": {"maxDequeueCount": 3}}})
    assert runner.max_attempts == 3
    await runner.start()
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.notify("recordings", "m1/r1/audio.webm")
        await runner.join()
    await runner.stop()
    assert len(calls) == 3
    assert "ValueError: cannot transcribe" in caplog.text
    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1
    assert gave_up[0].levelno == logging.ERROR
    assert "after 3 attempts" in gave_up[0].getMessage()


async def test_a_retry_can_succeed(blobs: LocalBlobStore, caplog: pytest.LogCaptureFixture) -> None:
    app = func.FunctionApp()
    calls: list[int] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    async def flaky(blob: func.InputStream) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("not yet")

    runner = runner_for(app, blobs)
    assert runner.max_attempts == 5
    await runner.start()
    with caplog.at_level(logging.INFO, logger="devhost"):
        await runner.notify("recordings", "m1/r1/audio.webm")
        await runner.join()
    await runner.stop()
    assert len(calls) == 3
    assert "gave up" not in caplog.text
    assert "attempt=3" in caplog.text


async def test_a_blob_gone_before_the_attempt_is_not_run(blobs: LocalBlobStore) -> None:
    app = func.FunctionApp()
    ran: list[str] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    async def on_recording(blob: func.InputStream) -> None:
        ran.append("ran")

    runner = runner_for(app, blobs)
    await runner.start()
    await runner.notify("recordings", "never/written.webm")
    await runner.join()
    await runner.stop()
    assert ran == []


async def test_notify_before_start_is_refused_and_stop_cancels_in_flight(blobs: LocalBlobStore) -> None:
    app = func.FunctionApp()
    entered = asyncio.Event()
    cancelled: list[bool] = []

    @app.blob_trigger(arg_name="blob", path="recordings/{name}", connection="S")
    async def slow(blob: func.InputStream) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    runner = runner_for(app, blobs, stop_timeout=0.05)
    with pytest.raises(RuntimeError, match="not started"):
        await runner.notify("recordings", "m1/r1/audio.webm")
    await runner.start()
    await runner.notify("recordings", "m1/r1/audio.webm")
    await asyncio.wait_for(entered.wait(), 5)
    await runner.stop()
    assert cancelled == [True]
    with pytest.raises(RuntimeError, match="not started"):
        await runner.notify("recordings", "m1/r1/audio.webm")
