"""A blob as a read-only, seekable binary file for code that runs on a worker thread (PyAV decoding).

Reads are ranged requests through the async BlobStore, run on the event loop that owns the store's
clients, while the calling thread waits: the decoder sees an ordinary file, memory holds one read-ahead
block, and MP4 files with their index at the end can seek to it without the blob being downloaded.
"""

from __future__ import annotations

import asyncio
import io

from shared.ports import BlobStore

READ_AHEAD = 4 * 1024 * 1024  # one ranged request per block: few round trips, bounded memory
READ_TIMEOUT_SECONDS = 300.0


class BlobFile(io.RawIOBase):
    def __init__(
        self,
        blobs: BlobStore,
        container: str,
        name: str,
        size: int,
        loop: asyncio.AbstractEventLoop,
        *,
        block_size: int = READ_AHEAD,
    ) -> None:
        super().__init__()
        self._blobs = blobs
        self._container = container
        self._name = name
        self._size = size
        self._loop = loop
        self._block_size = block_size
        self._position = 0
        self._block_start = 0
        self._block = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        if not self._block_start <= self._position < self._block_start + len(self._block):
            self._fetch(self._position)
        offset = self._position - self._block_start
        count = min(len(view), len(self._block) - offset)
        view[:count] = self._block[offset : offset + count]
        self._position += count
        return count

    def _fetch(self, start: int) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        request = self._blobs.read_range(self._container, self._name, start, self._block_size)
        self._block = asyncio.run_coroutine_threadsafe(request, self._loop).result(READ_TIMEOUT_SECONDS)
        self._block_start = start
        if not self._block:
            # The blob shrank under us (it was replaced): the decoder sees an early end of file.
            self._size = start

    def close(self) -> None:
        self._block = b""
        super().close()
