"""`python -m devhost serve`: the local stand-in for `func start`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devhost import deliver_command, openapi_command, process_command, summarize_command
from devhost.app_loader import DEFAULT_APP, AppLoadError, load_app
from devhost.host import DevHost
from devhost.host_json import read_host_json, route_prefix
from devhost.routing import RouteTemplateError
from devhost.web_client import WEB_DIST_ENV, WebClientSite, default_root

logger = logging.getLogger(__name__)

DEFAULT_PORT = 7071
# `context` is stamped by the app's own log record factory when it installs one; other records
# (aiohttp's, devhost's before the app loads) lack it, hence the default.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
AZURE_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, defaults={"context": ""}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # azure-core logs every request's headers at INFO: the queue pollers and the blob watcher (a listing a
    # second) would drown the invocations in them.
    logging.getLogger(AZURE_HTTP_LOGGER).setLevel(max(level, logging.WARNING))


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
    serve.set_defaults(handler=serve_command)
    process_command.add_parser(commands)
    summarize_command.add_parser(commands)
    deliver_command.add_parser(commands)
    openapi_command.add_parser(commands)
    return parser


async def _run_until_signalled(host: DevHost, host_json: dict[str, Any]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: there Ctrl-C arrives as KeyboardInterrupt, handled by the caller.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # Loaded here, not with the CLI: they pull in the app's shared modules.
    from devhost.storage_wiring import wire_storage
    from shared.config import ConfigurationError, Settings
    from shared.cors import CorsPolicy

    try:
        # Settings(), not get_settings(): that caches, and PUBLIC_BASE_URL is set only once the port is bound.
        settings = Settings()
        host.http.set_cors(CorsPolicy.of(settings.cors_origins))
        storage = await wire_storage(host, settings, host_json)
    except (ConfigurationError, ValueError) as error:
        logger.error("Cannot serve: %s", error)
        return 1
    try:
        async with host:
            # Embedded upload URLs point at this host unless told otherwise (read when services are built).
            os.environ.setdefault("PUBLIC_BASE_URL", host.base_url)
            print(f"Serving {host.served_count} functions on {host.http.api_url}", flush=True)
            for line in host.describe():
                print(line, flush=True)
            if host.http.site is not None:
                built = "" if host.http.site.built else " (not built yet: make web)"
                print(f"Web client on {host.base_url}/ from {host.http.site.root}{built}", flush=True)
            if host.http.cors.enabled:
                print(f"CORS allows: {', '.join(sorted(host.http.cors.origins))}", flush=True)
            await stop.wait()
            logger.info("Shutting down")
    finally:
        await storage.aclose()
    # The app's clients hold connections: close them as the Functions worker would on shutdown.
    from shared.bootstrap import shutdown

    await shutdown()
    return 0


def serve_command(args: argparse.Namespace) -> int:
    configure_logging()
    if args.emulators:
        from devhost.emulator_mode import on_emulators

        with on_emulators():
            return _serve(args)
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    app_dir = Path.cwd()
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
            port=_default_port() if args.port is None else args.port,
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
    return asyncio.run(_run_until_signalled(host, host_json))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        # Ctrl-C before the loop's handlers are in place (or where there are none) is still a clean stop.
        return 0


if __name__ == "__main__":
    sys.exit(main())
