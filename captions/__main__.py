"""`python -m captions [--host H] [--port P]`: the captions service on its own (its container's command).

devhost starts the same app in its own process (`make run`), where the embedded realtime hub lives.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket

from aiohttp import web

from captions.app import build_app
from shared.bootstrap import get_services, shutdown
from shared.config import Settings
from shared.stream_auth import StreamAuthenticator

DEFAULT_PORT = 7072


def build_authenticator(settings: Settings, signing_key: bytes) -> StreamAuthenticator:
    """ACS's tokens for ACS_RESOURCE_ID; with the local stand-in, the tokens it signs."""
    from shared.stream_auth import AcsStreamAuthenticator, LocalStreamAuthenticator  # noqa: PLC0415

    if settings.communication == "local":
        from shared.adapters.local_call_recording import LOCAL_RESOURCE_ID  # noqa: PLC0415

        return LocalStreamAuthenticator(signing_key, LOCAL_RESOURCE_ID)
    assert settings.acs_resource_id is not None  # Settings checks it
    return AcsStreamAuthenticator(settings.acs_resource_id)


async def start(
    host: str, port: int, sock: socket.socket | None = None
) -> tuple[web.AppRunner, StreamAuthenticator]:
    """The service on host:port (or on `sock`, bound already), on the app's services (built once per
    process: devhost's, when it runs the service beside the app)."""
    from shared.bootstrap import signing_key_of  # noqa: PLC0415

    services = await get_services()
    authenticator = build_authenticator(services.settings, signing_key_of(services.settings))
    runner = web.AppRunner(build_app(services, authenticator), access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock) if sock is not None else web.TCPSite(runner, host, port)
    await site.start()
    return runner, authenticator


async def _main(host: str, port: int) -> None:
    runner, authenticator = await start(host, port)
    print(f"Captions service on ws://{host}:{port}/ws/{{meetingId}}/{{recordingId}}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await authenticator.aclose()
        await shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m captions", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("CAPTIONS_HOST", "0.0.0.0"))  # noqa: S104 - a container
    parser.add_argument("--port", type=int, default=int(os.environ.get("CAPTIONS_PORT") or DEFAULT_PORT))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main(args.host, args.port))


if __name__ == "__main__":
    main()
