"""SQLite for the embedded backends: reads on the caller's thread, writes on one dedicated thread.

Why split: in WAL mode a read never waits for a writer, and a point read against a local file takes
~10 us, far less than handing work to a thread and back (measured ~400 us on this project's 2-core
machines, `bench/api.py`). Writes can wait for the file lock (busy_timeout) or a checkpoint's fsync, so
they go to a thread that owns its own connection and never block the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# WAL: readers and the writer do not block each other. synchronous=NORMAL: a commit survives the app
# crashing (the WAL is on disk); only a power cut can lose the last commits, fine for a laptop backend.
_PRAGMAS = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;"


class SqliteDatabase:
    def __init__(self, path: Path, schema: str) -> None:
        self._path = path
        self._schema = schema
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._write_conn: sqlite3.Connection | None = None
        self._read_conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every statement is its own transaction; multi-statement work uses BEGIN.
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        conn.executescript(_PRAGMAS + self._schema)
        return conn

    def _writing(self) -> sqlite3.Connection:
        if self._write_conn is None:
            self._write_conn = self._open()
        return self._write_conn

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: work(self._writing()))

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs a read-only statement here and now (see the module's docstring for why)."""
        if self._read_conn is None:
            if self._write_conn is None:
                # The schema is created by the writer's connection; a first read must not race it.
                self._writer.submit(self._writing).result()
            self._read_conn = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            self._read_conn.execute("PRAGMA query_only = ON")
        return work(self._read_conn)

    async def close(self) -> None:
        def close_writer() -> None:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, close_writer)
        self._writer.shutdown(wait=True)
        if self._read_conn is not None:
            self._read_conn.close()
            self._read_conn = None
