"""`python -m devhost serve`: the local stand-in for `func start`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devhost import deliver_command, openapi_command, process_command, summarize_command
from devhost.app_loader import DEFAULT_APP, AppLoadError, load_app
from devhost.commands import DEFAULT_PORT
from devhost.host import DevHost
from devhost.host_json import read_host_json, route_prefix
from devhost.routing import RouteTemplateError
from devhost.web_client import WEB_DIST_ENV, WebClientSite, default_root

logger = logging.getLogger(__name__)

# `context` is stamped by the app's own log record factory when it installs one; other records
# (aiohttp's, devhost's before the app loads) lack it, hence the default.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
AZURE_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"
# The parent of every Azure SDK logger (azure-core's, Cosmos', Storage's, Identity's) and, set explicitly
# in case something set it lower, the HTTP logging policies.
AZURE_SDK_LOGGERS = ("azure", AZURE_HTTP_LOGGER, "azure.cosmos._cosmos_http_logging_policy")
LOG_LEVEL_ENV = "LOG_LEVEL"


def configure_logging(level: int = logging.INFO, *, verbose: bool = False) -> None:
    """devhost's log lines at `level`; the Azure SDKs' only from WARNING unless `verbose`.

    azure-core logs every request's headers at INFO and the Cosmos SDK its own HTTP logging besides
    (`azure.cosmos._cosmos_http_logging_policy`, the endpoint and session managers): with the queue
    pollers and the blob watcher (a listing a second) that drowned the invocations, thousands of lines a
    minute on the emulators.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, defaults={"context": ""}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    sdk_level = level if verbose else max(level, logging.WARNING)
    for name in AZURE_SDK_LOGGERS:
        logging.getLogger(name).setLevel(sdk_level)


def log_level_from_env(environ: Mapping[str, str] = os.environ) -> tuple[int, bool]:
    """LOG_LEVEL (a level name; default INFO) and whether it asks for the SDKs' chatter too (DEBUG)."""
    name = (environ.get(LOG_LEVEL_ENV) or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        logger.warning("%s=%s is no log level: INFO", LOG_LEVEL_ENV, environ.get(LOG_LEVEL_ENV))
        return logging.INFO, False
    return level, level <= logging.DEBUG


def _default_port() -> int:
    return int(os.environ.get("PORT") or DEFAULT_PORT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the FunctionApp's triggers locally")
    serve.add_argument("--app", default=DEFAULT_APP, help="module:attribute of the FunctionApp")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help=f"default: $PORT, else {DEFAULT_PORT}")
    serve.add_argument(
        "--web-dist",
        type=Path,
        default=None,
        help=f"the built web client served at / (default: ${WEB_DIST_ENV}, else ./web/dist)",
    )
    serve.add_argument(
        "--emulators",
        action="store_true",
        help="start Azurite and the Cosmos DB emulator and serve the app on them (the Azure adapters)",
    )
    serve.add_argument(
        "--captions-port",
        type=int,
        default=None,
        help="where the captions service listens beside the app (default: $CAPTIONS_PORT, else a free "
        "port; -1: not started)",
    )
    serve.add_argument(
        "--verbose",
        action="store_true",
        help=f"log at DEBUG, the Azure SDKs' HTTP logging included (else ${LOG_LEVEL_ENV}, default INFO)",
    )
    serve.set_defaults(handler=serve_command)
    process_command.add_parser(commands)
    summarize_command.add_parser(commands)
    deliver_command.add_parser(commands)
    openapi_command.add_parser(commands)
    return parser


def _banner(host: DevHost) -> None:
    print(f"Serving {host.served_count} functions on {host.http.api_url}", flush=True)
    for line in host.describe():
        print(line, flush=True)
    if host.http.site is not None:
        built = "" if host.http.site.built else " (not built yet: make web)"
        print(f"Web client on {host.base_url}/ from {host.http.site.root}{built}", flush=True)


def _captions_port(flag: int | None) -> int:
    if flag is not None:
        return flag
    return int(os.environ.get("CAPTIONS_PORT") or 0)


async def _start_captions(bind_host: str, port: int) -> tuple[Any, Any] | None:
    """The captions service (captions/) in this process, where the embedded realtime hub and the local ACS
    stand-in live: CAPTIONS_URL points at it unless set. A port in use leaves captions off (said once)."""
    if port < 0:
        return None
    import captions.__main__ as service

    sock = socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind_host, port))
    except OSError as error:
        sock.close()
        print(
            f"Live captions are off: port {port} is not free ({error.strerror}); set CAPTIONS_PORT",
            flush=True,
        )
        return None
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    url = os.environ.setdefault("CAPTIONS_URL", f"ws://{bind_host}:{bound}")
    started = await service.start(bind_host, bound, sock)
    print(
        f"Live captions (ACS transcription WebSocket) on {url}/ws/{{meetingId}}/{{recordingId}}", flush=True
    )
    return started


async def _run_until_signalled(
    host: DevHost, host_json: dict[str, Any], args_captions_port: int | None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: there Ctrl-C arrives as KeyboardInterrupt, handled by the caller.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # Loaded here, not with the CLI: they pull in the app's shared modules.
    from devhost.storage_wiring import wire_storage
    from devhost.timer_runner import TimerRunner
    from shared.config import ConfigurationError, Settings
    from shared.cors import CorsPolicy

    try:
        # Settings(), not get_settings(): that caches, and PUBLIC_BASE_URL is set only once the port is bound.
        settings = Settings()
        host.http.set_cors(CorsPolicy.of(settings.cors_origins))
        timers = TimerRunner(host.index)  # before the stores: a bad schedule leaves nothing to close
        storage = await wire_storage(host, settings, host_json)
        host.add_runner(timers)
        if settings.realtime == "local":
            from devhost.realtime import wire_realtime

            wire_realtime(host, settings.data_dir)
    except (ConfigurationError, ValueError) as error:
        logger.error("Cannot serve: %s", error)
        return 1
    try:
        try:
            await host.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            # Taken between the check in _serve and now.
            _port_in_use(host.http.requested_host, host.http.requested_port)
            return 1
        try:
            # Embedded upload URLs point at this host unless told otherwise (read when services are built).
            os.environ.setdefault("PUBLIC_BASE_URL", host.base_url)
            _banner(host)
            if settings.realtime == "local":
                ws_url = "ws" + host.base_url.removeprefix("http")
                print(f"Live events (Web PubSub-compatible) on {ws_url}/client/hubs/{{hub}}", flush=True)
            captions = await _start_captions(host.http.requested_host, _captions_port(args_captions_port))
            if host.http.cors.enabled:
                print(f"CORS allows: {', '.join(sorted(host.http.cors.origins))}", flush=True)
            await stop.wait()
            logger.info("Shutting down")
        finally:
            if captions is not None:
                await captions[0].cleanup()
                await captions[1].aclose()
            await host.stop()
    finally:
        await storage.aclose()
    # The app's clients hold connections: close them as the Functions worker would on shutdown.
    from shared.bootstrap import shutdown

    await shutdown()
    return 0


def serve_command(args: argparse.Namespace) -> int:
    level, verbose = (logging.DEBUG, True) if args.verbose else log_level_from_env()
    configure_logging(level, verbose=verbose)
    if args.emulators:
        from devhost.emulator_mode import on_emulators

        with on_emulators():
            return _serve(args)
    return _serve(args)


def _port_in_use(host: str, port: int) -> None:
    # One line, no traceback: the usual cause is another `make run`, and the fix is a setting.
    print(
        f"error: port {port} on {host} is in use (another devhost?): "
        "stop it, or pick another port with PORT=, e.g. make run PORT=7072",
        file=sys.stderr,
        flush=True,
    )


def _port_taken(host: str, port: int) -> bool:
    """Whether binding `port` fails for want of it, checked before anything starts (and logs)."""
    if port == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As aiohttp binds: a port in TIME_WAIT after a stop is free to serve again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _serve(args: argparse.Namespace) -> int:
    app_dir = Path.cwd()
    port = _default_port() if args.port is None else args.port
    if _port_taken(args.host, port):
        _port_in_use(args.host, port)
        return 1
    try:
        host_json = read_host_json(app_dir)
        prefix = route_prefix(host_json)
    except ValueError as error:
        logger.error("Cannot read host.json: %s", error)
        return 1
    try:
        # Anything else the app raises on import keeps its traceback: it points into the app.
        app = load_app(args.app, app_dir=app_dir)
        host = DevHost(
            app,
            host=args.host,
            port=port,
            route_prefix=prefix,
            app_dir=str(app_dir),
        )
    except (AppLoadError, RouteTemplateError) as error:
        logger.error("Cannot serve %s: %s", args.app, error)
        return 1
    web_dist = args.web_dist or Path(os.environ.get(WEB_DIST_ENV) or default_root(app_dir))
    try:
        host.http.serve_site(WebClientSite(web_dist, route_prefix=prefix))
    except ValueError as error:
        logger.warning("Not serving the web client: %s", error)
    return asyncio.run(_run_until_signalled(host, host_json, args.captions_port))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        # Ctrl-C before the loop's handlers are in place (or where there are none) is still a clean stop.
        return 0


if __name__ == "__main__":
    sys.exit(main())
