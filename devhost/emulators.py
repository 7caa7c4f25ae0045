"""The emulators: Azurite (Blob, Queue) and a Cosmos DB emulator, for the contract tests and for
`python -m devhost serve --emulators`.

`make test` (and `make run-emulators`) install both from the project's package.json (pinned, `npm ci`).
A test session starts them on free ports with in-memory state and stops them at the end. They are not
optional: a missing emulator fails with the command that installs it, so no contract test is skipped.

The Cosmos DB emulator (@vercel/cosmosdb-server) ships an expired self-signed certificate; it is started
here with a certificate from a throwaway local CA instead (devhost/tls.py), so clients verify TLS
against that CA file rather than switching verification off.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpResponse, AsyncHttpTransport, HttpRequest

from devhost.tls import make_local_tls

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
BIN = NODE_MODULES / ".bin"

# Azurite's well-known development account (documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The Cosmos DB emulator's well-known key (documented by Microsoft; the emulator ignores it anyway).
COSMOS_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


class EmulatorMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise EmulatorMissing(f"{name} is not installed: run `make test` (or `npm ci`) in {ROOT}")
    if shutil.which("node") is None:
        raise EmulatorMissing("node is not on PATH: the emulators need Node.js 20")
    return str(path)


def _wait_for(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout:.0f} s")


@contextmanager
def running(args: list[str], ports: list[int], name: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own emulator binaries, fixed arguments
            args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=os.environ.copy()
        )
        try:
            for port in ports:
                _wait_for(port, process, name)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Azurite:
    blob_port: int
    queue_port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.blob_port}/{AZURITE_ACCOUNT}"

    @property
    def queue_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.queue_port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.blob_endpoint};QueueEndpoint={self.queue_endpoint};"
        )


@contextmanager
def azurite(workdir: Path, *, location: Path | None = None) -> Iterator[Azurite]:
    """Azurite on free ports; in memory, or keeping its data under `location`."""
    blob, queue, table = free_port(), free_port(), free_port()
    persistence = ["--location", str(location)] if location is not None else ["--inMemoryPersistence"]
    args = [
        binary("azurite"),
        "--silent",
        "--disableTelemetry",
        *persistence,
        "--blobHost", "127.0.0.1", "--blobPort", str(blob),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue),
        "--tableHost", "127.0.0.1", "--tablePort", str(table),
    ]  # fmt: skip
    with running(args, [blob, queue], "azurite", workdir / "azurite.log"):
        yield Azurite(blob, queue)


@dataclass(frozen=True)
class OAuthAzurite:
    """Azurite over HTTPS with `--oauth basic`: bearer tokens and user-delegation keys work, as with a
    managed identity in Azure (Azurite checks a token's issuer, audience and lifetime, not RBAC)."""

    blob_port: int
    queue_port: int
    ca_file: Path

    @property
    def blob_url(self) -> str:
        return f"https://127.0.0.1:{self.blob_port}/{AZURITE_ACCOUNT}"

    @property
    def queue_url(self) -> str:
        return f"https://127.0.0.1:{self.queue_port}/{AZURITE_ACCOUNT}"

    @property
    def client_kwargs(self) -> dict[str, Any]:
        return {"connection_verify": str(self.ca_file)}


@contextmanager
def oauth_azurite(workdir: Path) -> Iterator[OAuthAzurite]:
    tls = make_local_tls(workdir / "tls", "azurite")
    blob, queue, table = free_port(), free_port(), free_port()
    args = [
        binary("azurite"),
        "--silent",
        "--disableTelemetry",
        "--inMemoryPersistence",
        "--oauth", "basic",
        "--cert", str(tls.cert_file),
        "--key", str(tls.key_file),
        "--blobHost", "127.0.0.1", "--blobPort", str(blob),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue),
        "--tableHost", "127.0.0.1", "--tablePort", str(table),
    ]  # fmt: skip
    with running(args, [blob, queue], "azurite (oauth)", workdir / "azurite.log"):
        yield OAuthAzurite(blob, queue, tls.ca_file)


@dataclass(frozen=True)
class CosmosEmulator:
    port: int
    ca_file: Path

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    key = COSMOS_KEY


# Serves the emulator with our certificate (its own bundled one expired in 2021).
_COSMOS_LAUNCHER = """
const fs = require("fs");
const [cert, key, host, port] = process.argv.slice(1);
const { createHttpsServer } = require("@vercel/cosmosdb-server");
createHttpsServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }).listen(Number(port), host);
"""


@contextmanager
def cosmos(workdir: Path) -> Iterator[CosmosEmulator]:
    binary("cosmosdb-server")  # installed?
    tls = make_local_tls(workdir / "tls", "cosmos-emulator")
    port = free_port()
    node = shutil.which("node") or "node"
    args = [node, "-e", _COSMOS_LAUNCHER, str(tls.cert_file), str(tls.key_file), "127.0.0.1", str(port)]
    with running(args, [port], "cosmosdb-server", workdir / "cosmosdb-server.log"):
        yield CosmosEmulator(port, tls.ca_file)


# --- the Cosmos emulator's one gap the store meets -------------------------------------------------------

# The emulator answers a point read of a missing document with a 500 carrying this Node error, where
# Cosmos DB answers 404. The transport below turns exactly that into a 404, so the store's real
# not-found path is the one that runs (tests and `devhost serve --emulators` alike).
DOCUMENT_PATH = re.compile(r"/dbs/[^/]+/colls/[^/]+/docs/[^/]+/?$")
_EMULATOR_NULL_DOCUMENT = b"Cannot read properties of undefined"


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class EmulatorTransport(AsyncHttpTransport[HttpRequest, AsyncHttpResponse]):
    """aiohttp, recording each request, with the emulator's 500-for-a-missing-document turned into 404.

    `before` may change a request before it is sent, `after` a response before the SDK sees it: the
    tests use them to make the emulator refuse a precondition or throttle.
    """

    def __init__(self, *, rewrite_missing: bool = True) -> None:
        self._inner = AioHttpTransport()
        self._rewrite_missing = rewrite_missing
        self.sent: list[Sent] = []
        self.before: Callable[[HttpRequest], None] | None = None
        self.after: Callable[[HttpRequest, AsyncHttpResponse], None] | None = None

    async def send(self, request: HttpRequest, **kwargs: Any) -> AsyncHttpResponse:
        if self.before is not None:
            self.before(request)
        response: AsyncHttpResponse = await self._inner.send(request, **kwargs)
        path = request.url.split("://", 1)[-1].split("/", 1)[-1]
        if (
            self._rewrite_missing
            and request.method == "GET"
            and response.status_code == 500
            and DOCUMENT_PATH.search("/" + path)
            and _EMULATOR_NULL_DOCUMENT in response.body()
        ):
            response.status_code = 404
        if self.after is not None:
            self.after(request, response)
        body = request.data if isinstance(request.data, bytes) else str(request.data or "").encode()
        headers = {k.lower(): str(v) for k, v in request.headers.items()}
        self.sent.append(Sent(request.method, "/" + path, headers, body, response.status_code))
        return response

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    async def __aenter__(self) -> EmulatorTransport:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc_value, traceback)

    def documents(self, method: str | None = None) -> list[Sent]:
        """The requests on documents (reads, writes, queries), leaving out database and container calls."""
        return [s for s in self.sent if "/docs" in s.path and (method is None or s.method == method)]
