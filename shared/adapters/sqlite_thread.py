"""A SQLite connection owned by one dedicated thread: the event loop never blocks on the database,
and the connection is never shared between threads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class SqliteThread:
    def __init__(self, path: Path, schema: str) -> None:
        self._path = path
        self._schema = schema
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: every statement is its own transaction; multi-statement work uses BEGIN.
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.executescript(self._schema)
            self._conn = conn
        return self._conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self._connect()))

    async def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)
