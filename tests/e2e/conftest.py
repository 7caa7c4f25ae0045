"""Serves the real app with `python -m devhost serve` in a subprocess, on a free port and a fresh DATA_DIR."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = str(data_dir)
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "AUTH_MODE": "dev",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
        env.pop("WEBSITE_INSTANCE_ID", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "serve", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.api = self._wait_for_banner()
        # Keep reading: a server that logs more than the pipe holds would block on its next line.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _wait_for_banner(self) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"Serving \d+ functions on (http://\S+)", line)
            if found:
                return found.group(1)
        raise RuntimeError("devhost exited before serving:\n" + "".join(self.output))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=5)
        return code


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data")
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
