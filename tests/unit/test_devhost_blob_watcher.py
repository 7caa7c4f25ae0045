"""BlobWatcher over a LocalBlobStore: what lands is announced once, what changes again, nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devhost.blob_watcher import BlobWatcher
from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
from shared.ports import BlobInfo
from shared.signing import Signer


class Landed:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def __call__(self, container: str, name: str, info: BlobInfo) -> None:
        self.calls.append((container, name, info.etag))

    def names(self) -> list[str]:
        names = [name for _container, name, _etag in self.calls]
        self.calls.clear()
        return names


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalBlobStore]:
    blobs = LocalBlobStore(tmp_path / "blobs", Signer(b"k" * 32, UPLOAD_SIGNING_PURPOSE), "http://unused")
    yield blobs
    await blobs.aclose()


async def test_new_blobs_fire_once_and_changed_ones_again(store: LocalBlobStore) -> None:
    await store.put("recordings", "m1/r1/a.webm", b"already there")
    landed = Landed()
    watcher = BlobWatcher(store, landed, containers=["recordings", "uploads"])

    # What is there at start counts as new.
    assert await watcher.scan() == 1
    first = await store.info("recordings", "m1/r1/a.webm")
    assert first is not None
    assert landed.calls == [("recordings", "m1/r1/a.webm", first.etag)]
    landed.calls.clear()
    assert await watcher.scan() == 0  # unchanged: not again

    await store.put("recordings", "m1/r2/b.webm", b"new")
    await store.put("uploads", "x.bin", b"elsewhere")
    await store.put("transcripts", "m1/r1.json", b"not watched")
    await watcher.scan()
    assert sorted(landed.names()) == ["m1/r2/b.webm", "x.bin"]

    await store.put("recordings", "m1/r1/a.webm", b"replaced")  # a new ETag
    await watcher.scan()
    assert landed.names() == ["m1/r1/a.webm"]

    await store.delete("recordings", "m1/r2/b.webm")
    await watcher.scan()
    assert landed.names() == []
    await store.put("recordings", "m1/r2/b.webm", b"written again")
    await watcher.scan()
    assert landed.names() == ["m1/r2/b.webm"]


async def test_a_missing_container_is_empty_and_a_failing_listing_keeps_what_was_known(
    store: LocalBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    landed = Landed()
    watcher = BlobWatcher(store, landed)
    assert await watcher.scan() == 0  # `recordings` does not exist yet
    await store.put("recordings", "a.webm", b"1")
    assert await watcher.scan() == 1
    landed.calls.clear()

    real_list = store.list_blobs

    def broken(container: str, *, prefix: str = "") -> AsyncIterator[BlobInfo]:
        raise ConnectionError("storage unreachable")

    store.list_blobs = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="devhost"):
        for _ in range(3):
            assert await watcher.scan() == 0
        store.list_blobs = real_list  # type: ignore[method-assign]
        assert await watcher.scan() == 0  # the outage forgot nothing: a.webm is not new
    warnings = [r for r in caplog.records if "storage unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once, not every pass
    assert "listing works again" in caplog.text
    assert landed.calls == []


async def test_memory_is_bounded_per_container(
    store: LocalBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("a", "b", "c"):
        await store.put("recordings", name, b"x")
    landed = Landed()
    watcher = BlobWatcher(store, landed, max_blobs=2)
    with caplog.at_level(logging.WARNING, logger="devhost"):
        assert await watcher.scan() == 2
        assert await watcher.scan() == 0
    assert landed.names() == ["a", "b"]
    assert caplog.text.count("more than 2 blobs") == 1


async def test_start_polls_until_stopped(store: LocalBlobStore) -> None:
    landed = Landed()
    watcher = BlobWatcher(store, landed, interval=0.01)
    await watcher.start()
    await store.put("recordings", "late.webm", b"1")
    for _ in range(300):
        if landed.calls:
            break
        await asyncio.sleep(0.01)
    await watcher.stop()
    assert landed.names() == ["late.webm"]
    await store.put("recordings", "after-stop.webm", b"1")
    await asyncio.sleep(0.05)
    assert landed.calls == []


async def test_a_restart_announces_only_what_changed_meanwhile(store: LocalBlobStore, tmp_path: Path) -> None:
    state = tmp_path / "data" / "watcher.json"
    await store.put("recordings", "m1/r1/source.wav", b"announced before the restart")
    landed = Landed()
    before = BlobWatcher(store, landed, state_file=state)
    await before.start()
    await before.stop()
    await before.scan()
    uploaded = await store.put("recordings", "m1/r2/source.wav", b"through the upload route")
    before.seen("recordings", uploaded)
    await before.scan()
    assert landed.names() == ["m1/r1/source.wav"]

    # Down: one blob replaced, one new; the others were announced before and are not again.
    await store.put("recordings", "m1/r3/source.wav", b"landed while down")
    await store.put("recordings", "m1/r1/source.wav", b"replaced while down")
    after = BlobWatcher(store, landed, state_file=state)
    await after.start()
    await after.stop()
    await after.scan()
    assert sorted(landed.names()) == ["m1/r1/source.wav", "m1/r3/source.wav"]

    # No state (a fresh DATA_DIR) or an unreadable one: everything there counts as new.
    state.write_text("{not json")
    fresh = BlobWatcher(store, landed, state_file=state)
    await fresh.start()
    await fresh.stop()
    await fresh.scan()
    assert len(landed.names()) == 3


async def test_an_upload_seen_just_before_a_stop_is_kept(store: LocalBlobStore, tmp_path: Path) -> None:
    state = tmp_path / "watcher.json"
    watcher = BlobWatcher(store, Landed(), state_file=state)
    uploaded = await store.put("recordings", "m1/r1/source.wav", b"uploaded, no pass since")
    watcher.seen("recordings", uploaded)
    await watcher.stop()
    landed = Landed()
    after = BlobWatcher(store, landed, state_file=state)
    await after.start()
    await after.stop()
    assert await after.scan() == 0
