"""`python -m devhost serve` in a subprocess: banner, requests, a clean stop on a signal."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from devhost.cli import (
    AZURE_HTTP_LOGGER,
    LOG_FORMAT,
    build_parser,
    configure_logging,
    log_level_from_env,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

APP_SOURCE = """
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello/{name}", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.route_params['name']}")


@app.route(route="anything")
def anything(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("any")


@app.event_grid_trigger(arg_name="event")
def uploaded(event: func.EventGridEvent) -> None:
    print("event", event.id, event.subject, flush=True)
"""

BANNER = re.compile(r"Serving (\d+) functions on (http://127\.0\.0\.1:\d+)/v1")


async def _read_line(stream: asyncio.StreamReader) -> str:
    line = await asyncio.wait_for(stream.readline(), timeout=30)
    assert line, "devhost exited before printing its banner"
    return line.decode().rstrip("\n")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_serve_prints_banner_answers_and_stops_cleanly(tmp_path: Path, signum: int) -> None:
    (tmp_path / "function_app.py").write_text(APP_SOURCE)
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": "v1"}}})
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "PORT": "0",
        "DATA_DIR": str(tmp_path / "data"),
        "CAPTIONS_PORT": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devhost",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = BANNER.fullmatch(await _read_line(process.stdout))
        assert banner, "unexpected banner"
        count, base_url = int(banner.group(1)), banner.group(2)
        routes = [await _read_line(process.stdout) for _ in range(count)]
        assert count == 3
        assert routes == [
            f"  anything: [ANY] {base_url}/v1/anything",
            f"  hello: [GET] {base_url}/v1/hello/{{name}}",
            "  uploaded: eventGridTrigger (POST /runtime/webhooks/EventGrid?functionName=uploaded)",
        ]
        # The web client is looked for in the app's folder, and said to be missing there.
        site = await _read_line(process.stdout)
        assert site.startswith(f"Web client on {base_url}/ from ")
        assert site.endswith(f"{tmp_path / 'web' / 'dist'} (not built yet: make web)")
        # REALTIME=local (the default): devhost's Web PubSub-compatible endpoint is served too.
        live = await _read_line(process.stdout)
        ws_url = "ws" + base_url.removeprefix("http")
        assert live == f"Live events (Web PubSub-compatible) on {ws_url}/client/hubs/{{hub}}"
        # The captions service beside it, on a free port (no CAPTIONS_PORT), where CAPTIONS_URL points.
        captions = await _read_line(process.stdout)
        assert re.fullmatch(
            r"Live captions \(ACS transcription WebSocket\) on ws://127\.0\.0\.1:\d+/ws/\{meetingId\}/\{recordingId\}",
            captions,
        ), captions

        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base_url}/v1/hello/devhost") as response:
                assert response.status == 200
                assert await response.text() == "hello devhost"
            async with client.post(
                f"{base_url}/runtime/webhooks/EventGrid?functionName=uploaded",
                headers={"aeg-event-type": "Notification"},
                json=[{"id": "e1", "subject": "s", "eventType": "t", "eventTime": "2026-01-01T00:00:00Z"}],
            ) as response:
                assert response.status == 202
            assert await _read_line(process.stdout) == "event e1 s"

        process.send_signal(signum)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "Traceback" not in log
    assert "GET /v1/hello/devhost 200" in log
    assert "POST /runtime/webhooks/EventGrid 202" in log
    assert (tmp_path / "data" / "signing.key").exists()  # the upload signer: the app's key, made at start


def test_subcommands_are_required_and_serve_defaults() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
    args = build_parser().parse_args(["serve"])
    assert (args.app, args.host, args.port) == ("function_app:app", "127.0.0.1", None)


def test_log_format_tolerates_records_without_context() -> None:
    formatter_record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("message",), None)
    configure_logging()
    handler = logging.getLogger().handlers[0]
    assert handler.format(formatter_record).endswith("x: plain message")
    formatter_record.context = " [invocationId=abc]"
    assert handler.format(formatter_record).endswith("plain message [invocationId=abc]")
    assert "%(context)s" in LOG_FORMAT
    assert not logging.getLogger(AZURE_HTTP_LOGGER).isEnabledFor(logging.INFO)


COSMOS_HTTP_LOGGER = "azure.cosmos._cosmos_http_logging_policy"


@pytest.mark.parametrize("name", [AZURE_HTTP_LOGGER, COSMOS_HTTP_LOGGER, "azure.cosmos.LocationCache"])
def test_azure_sdk_logging_is_quiet_unless_asked_for(name: str) -> None:
    try:
        configure_logging()
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)
        assert logging.getLogger("devhost.http_host").isEnabledFor(logging.INFO)
        configure_logging(logging.DEBUG, verbose=True)
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG)
    finally:
        configure_logging()


def test_log_level_comes_from_the_environment() -> None:
    assert log_level_from_env({}) == (logging.INFO, False)
    assert log_level_from_env({"LOG_LEVEL": "warning"}) == (logging.WARNING, False)
    assert log_level_from_env({"LOG_LEVEL": "DEBUG"}) == (logging.DEBUG, True)
    assert log_level_from_env({"LOG_LEVEL": "loud"}) == (logging.INFO, False)
    assert build_parser().parse_args(["serve", "--verbose"]).verbose


async def test_port_in_use_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(APP_SOURCE)
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PORT": str(port), "DATA_DIR": str(tmp_path)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "devhost",
            "serve",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert stdout == b""
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert f"port {port} on 127.0.0.1 is in use" in lines[0]
    assert "PORT=" in lines[0]
