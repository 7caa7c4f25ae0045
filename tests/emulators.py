"""The emulators the contract suites run against: Azurite (Blob, Queue) and a Cosmos DB emulator.

`make test` installs both from the project's package.json (pinned, `npm ci`). Each test session starts
them on free ports with in-memory state and stops them at the end. They are not optional: a missing
emulator fails the session with the command that installs it, so no contract test is ever skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "node_modules" / ".bin"

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


def _binary(name: str) -> str:
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
def _running(args: list[str], ports: list[int], name: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(
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
def azurite(workdir: Path) -> Iterator[Azurite]:
    blob, queue, table = free_port(), free_port(), free_port()
    args = [
        _binary("azurite"),
        "--silent",
        "--disableTelemetry",
        "--inMemoryPersistence",
        "--blobHost", "127.0.0.1", "--blobPort", str(blob),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue),
        "--tableHost", "127.0.0.1", "--tablePort", str(table),
    ]  # fmt: skip
    with _running(args, [blob, queue], "azurite", workdir / "azurite.log"):
        yield Azurite(blob, queue)


@dataclass(frozen=True)
class CosmosEmulator:
    port: int

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    key = COSMOS_KEY


@contextmanager
def cosmos(workdir: Path) -> Iterator[CosmosEmulator]:
    port = free_port()
    args = [_binary("cosmosdb-server"), "--host", "127.0.0.1", "--port", str(port)]
    with _running(args, [port], "cosmosdb-server", workdir / "cosmosdb-server.log"):
        yield CosmosEmulator(port)
