"""Storage queues in SQLite for the embedded backends, with the semantics the Functions host relies on.

Like Azure: a received message is hidden for its visibility timeout and its dequeue count goes up; each
receive (and each release) issues a new pop receipt, and only the latest one can delete or release the
message; a message lives 7 days; its text is kept base64-encoded, as it travels in Azure (so what the
devhost's queue trigger reads is what the Functions host would). Names and the 64 KiB limit follow
Azure's rules, so what works here works there.

Every operation writes (a receive updates what it takes), so all of them run on SqliteDatabase's writer
thread; a receive is one IMMEDIATE transaction, so two processes sharing the file never take the same
message. Times are wall-clock seconds, shared by every process using the file.

A listener added with `on_send` for a queue file hears of every message sent to it by any store of
this process (the app builds its own store on the file devhost's queue runner reads): devhost wakes its
queue trigger at once instead of waiting for its next poll, which Azure Storage cannot offer (there,
host.json's short `maxPollingInterval` bounds the wait).
"""

from __future__ import annotations

import base64
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.azure_storage_auth import StorageRejected, check_queue_name
from shared.adapters.sqlite_database import SqliteDatabase
from shared.ports import MessageGone, QueueMessage

MAX_MESSAGE_CHARS = 64 * 1024  # of the base64 text, as Azure counts it
MAX_MESSAGES = 32  # per receive, as in Azure
TIME_TO_LIVE = timedelta(days=7)  # Azure's default message lifetime
MAX_HIDDEN = timedelta(days=7)  # longest visibility timeout or delay Azure accepts

log = logging.getLogger(__name__)

# (queue, seconds until the message is visible): called on the sending thread, after the message is stored
SendListener = Callable[[str, float], None]
_listeners: dict[Path, list[SendListener]] = {}
_listeners_lock = threading.Lock()


def on_send(path: Path, listener: SendListener) -> Callable[[], None]:
    """Calls `listener` after each message any LocalQueueStore of this process sends to the queue file
    at `path`; returns what removes it. The listener must not block (it runs on the sender's thread)."""
    key = Path(path).resolve()
    with _listeners_lock:
        _listeners.setdefault(key, []).append(listener)

    def remove() -> None:
        with _listeners_lock:
            found = _listeners.get(key, [])
            if listener in found:
                found.remove(listener)
            if not found:
                _listeners.pop(key, None)

    return remove


def _announce(key: Path, queue: str, delay_seconds: float) -> None:
    with _listeners_lock:
        listeners = list(_listeners.get(key, ()))
    for listener in listeners:
        try:
            listener(queue, delay_seconds)
        except Exception:  # a listener only hastens delivery: the message is stored whatever it does
            log.exception("A queue send listener failed")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    inserted_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    pop_receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, seq);
"""


def encode(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def decode(body: str) -> str:
    return base64.b64decode(body).decode()


def whole_seconds(value: timedelta, what: str, *, minimum: int = 0) -> int:
    """Azure takes whole seconds between `minimum` and 7 days; both adapters check the same way."""
    seconds = int(value.total_seconds())
    if value != timedelta(seconds=seconds) or not minimum <= seconds <= MAX_HIDDEN.total_seconds():
        raise ValueError(f"{what} must be whole seconds from {minimum} s to 7 days, got {value}")
    return seconds


def check_max_messages(max_messages: int) -> int:
    if not 1 <= max_messages <= MAX_MESSAGES:
        raise ValueError(f"max_messages must be 1-{MAX_MESSAGES}, got {max_messages}")
    return max_messages


class LocalQueueStore:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)
        self._clock = clock
        self._key = Path(path).resolve()

    @property
    def path(self) -> Path:
        """The queue file (what `on_send` listens on)."""
        return self._key

    async def aclose(self) -> None:
        await self._db.close()

    async def send(self, queue: str, text: str, *, delay: timedelta | None = None) -> None:
        check_queue_name(queue)
        hidden = 0 if delay is None else whole_seconds(delay, "delay")
        body = encode(text)
        if len(body) > MAX_MESSAGE_CHARS:
            raise StorageRejected(
                f"message to {queue} is {len(body)} characters in base64, over Azure's {MAX_MESSAGE_CHARS}",
                413,
                "RequestBodyTooLarge",
            )

        def work(conn: sqlite3.Connection) -> None:
            now = self._clock()
            conn.execute(
                "INSERT INTO messages (queue, id, body, inserted_at, visible_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (queue, str(uuid.uuid4()), body, now, now + hidden, now + TIME_TO_LIVE.total_seconds()),
            )

        await self._db.write(work)
        _announce(self._key, queue, float(hidden))

    async def receive(
        self, queue: str, *, max_messages: int, visibility_timeout: timedelta
    ) -> list[QueueMessage]:
        check_queue_name(queue)
        check_max_messages(max_messages)
        hidden = whole_seconds(visibility_timeout, "visibility_timeout", minimum=1)

        def work(conn: sqlite3.Connection) -> list[QueueMessage]:
            now = self._clock()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM messages WHERE queue = ? AND expires_at <= ?", (queue, now))
                rows = conn.execute(
                    "SELECT id, body, inserted_at, dequeue_count FROM messages "
                    "WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
                    (queue, now, max_messages),
                ).fetchall()
                taken = []
                for message_id, body, inserted_at, count in rows:
                    receipt = secrets.token_urlsafe(16)
                    conn.execute(
                        "UPDATE messages SET visible_at = ?, dequeue_count = ?, pop_receipt = ? WHERE id = ?",
                        (now + hidden, count + 1, receipt, message_id),
                    )
                    taken.append(
                        QueueMessage(
                            id=message_id,
                            pop_receipt=receipt,
                            text=decode(body),
                            dequeue_count=count + 1,
                            inserted_on=datetime.fromtimestamp(inserted_at, UTC),
                        )
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return taken

        return await self._db.write(work)

    async def delete(self, queue: str, message: QueueMessage) -> None:
        check_queue_name(queue)

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM messages WHERE queue = ? AND id = ? AND pop_receipt = ?",
                (queue, message.id, message.pop_receipt),
            ).rowcount

        if not await self._db.write(work):
            raise MessageGone(f"message {message.id} in {queue}: deleted, or its pop receipt is stale")

    async def release(self, queue: str, message: QueueMessage, *, delay: timedelta) -> None:
        check_queue_name(queue)
        hidden = whole_seconds(delay, "delay")

        def work(conn: sqlite3.Connection) -> int:
            # A new receipt, as Azure's Update Message gives: the one the caller holds is spent.
            return conn.execute(
                "UPDATE messages SET visible_at = ?, pop_receipt = ? WHERE queue = ? AND id = ? "
                "AND pop_receipt = ?",
                (self._clock() + hidden, secrets.token_urlsafe(16), queue, message.id, message.pop_receipt),
            ).rowcount

        if not await self._db.write(work):
            raise MessageGone(f"message {message.id} in {queue}: deleted, or its pop receipt is stale")
