"""Notices blobs landing where devhost cannot see the write: on Azurite (serve --emulators), a client PUTs
straight to the SAS URL; on either store, the app writes blobs itself (a call recording fetched from ACS),
and Storage announces those too. Every `interval` the watcher lists each watched container through the
BlobStore port and calls `on_landed` (BlobNotifier's `blob_landed`) for each blob that is new or changed
(a new ETag) since the last listing: Event Grid's BlobCreated, a second or so late.

What it has seen is kept in `state_file` (under DATA_DIR), so a restart announces only what landed or
changed while devhost was down, as Storage would have: never a blob announced before, which would start
work no upload asked for (a failed recording transcribed again). Without a state file, or for a blob
missing from it, every blob there at start counts as new (the app's handlers are idempotent: Event Grid
delivers at least once anyway). An announcement whose delivery a stop cut short is not made again: that
is an event lost, which the app's reconciler heals, as it heals Event Grid's dead letters. Memory is
bounded: it keeps one name and ETag per blob listed, at most `max_blobs` per container; a container
holding more is watched only up to that many blobs (in name order), with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from devhost.blob_events import BlobLanded
from shared.ports import BlobInfo, BlobStore

logger = logging.getLogger(__name__)

DEFAULT_CONTAINERS = ("recordings",)
INTERVAL_SECONDS = 1.0
MAX_BLOBS_PER_CONTAINER = 10_000


class BlobWatcher:
    """Runs alongside the trigger runners (it serves no trigger itself): started and stopped with them."""

    trigger_types: frozenset[str] = frozenset()

    def __init__(
        self,
        blobs: BlobStore,
        on_landed: BlobLanded,
        *,
        containers: Sequence[str] = DEFAULT_CONTAINERS,
        interval: float = INTERVAL_SECONDS,
        max_blobs: int = MAX_BLOBS_PER_CONTAINER,
        state_file: Path | None = None,
    ) -> None:
        self.blobs = blobs
        self.containers = tuple(containers)
        self._on_landed = on_landed
        self._interval = interval
        self._max_blobs = max_blobs
        self._etags: dict[str, dict[str, str]] = {c: {} for c in self.containers}
        self._state_file = state_file
        self._unsaved = False  # seen() learnt of a blob the state file does not hold yet
        # The last listing error per container: logged when it first happens, not every second.
        self._failing: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def describe(self) -> list[str]:
        return []  # no functions of its own; `start` logs what it watches

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the blob watcher is already started")
        logger.info("Watching blob containers %s every %gs", ", ".join(self.containers), self._interval)
        await asyncio.to_thread(self._load)
        self._task = asyncio.create_task(self._run(), name="blob-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._unsaved:  # an upload since the last pass: a restart must not announce it again
            self._unsaved = False
            await asyncio.to_thread(self._save)

    def seen(self, container: str, info: BlobInfo) -> None:
        """A blob announced by other means (devhost's upload route): not to be announced again."""
        if container in self._etags:
            self._etags[container][info.name] = info.etag
            self._unsaved = True

    async def _run(self) -> None:
        while True:
            await self.scan()
            await asyncio.sleep(self._interval)

    async def scan(self) -> int:
        """One pass over every watched container; how many blobs it announced."""
        announced = 0
        for container in self.containers:
            announced += await self._scan(container)
        return announced

    async def _scan(self, container: str) -> int:
        listed = await self._list(container)
        if listed is None:
            return 0  # what was known stays known: an outage is not a deletion
        known = self._etags[container]
        landed = [info for name, info in listed.items() if known.get(name) != info.etag]
        # Names no longer listed are forgotten: a blob deleted and written again is announced again.
        current = {name: info.etag for name, info in listed.items()}
        changed = current != known
        self._etags[container] = current
        for info in landed:
            try:
                await self._on_landed(container, info.name, info)
            except Exception:
                logger.exception("Announcing blob %s/%s failed", container, info.name)
        if changed or self._unsaved:
            self._unsaved = False
            # After announcing: a crash in between announces again (at least once), never not at all.
            await asyncio.to_thread(self._save)
        return len(landed)

    def _load(self) -> None:
        """What an earlier run had seen (and announced); a missing or unreadable file is nothing seen."""
        if self._state_file is None:
            return
        try:
            saved = json.loads(self._state_file.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            logger.warning("Ignoring %s (%s): every blob counts as new", self._state_file, error)
            return
        for container in self.containers:
            seen = saved.get(container) if isinstance(saved, dict) else None
            if isinstance(seen, dict):
                entries = [(n, e) for n, e in seen.items() if isinstance(n, str) and isinstance(e, str)]
                self._etags[container] = dict(entries[: self._max_blobs])

    def _save(self) -> None:
        if self._state_file is None:
            return
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._state_file.with_name(self._state_file.name + ".tmp")
            tmp.write_text(json.dumps(self._etags))
            os.replace(tmp, self._state_file)  # whole or not at all
        except OSError as error:
            logger.warning("Cannot keep what the blob watcher saw in %s: %s", self._state_file, error)

    async def _list(self, container: str) -> dict[str, BlobInfo] | None:
        """The container's blobs by name, at most `max_blobs`; None when it cannot be listed."""
        listed: dict[str, BlobInfo] = {}
        try:
            async for info in self.blobs.list_blobs(container):
                if len(listed) == self._max_blobs:
                    self._report(container, f"more than {self._max_blobs} blobs: only the first are watched")
                    return listed
                listed[info.name] = info
        except Exception as error:
            self._report(container, repr(error))
            return None
        self._report(container, None)
        return listed

    def _report(self, container: str, problem: str | None) -> None:
        """Logs a container's listing problem when it starts or changes, and when it ends: not every pass."""
        before = self._failing.pop(container, None)
        if problem is not None:
            self._failing[container] = problem
            if problem != before:
                logger.warning("Watching container %s: %s", container, problem)
        elif before is not None:
            logger.info("Watching container %s: listing works again", container)
