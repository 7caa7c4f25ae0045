"""Feeds `blobTrigger` functions when told a blob was written: `await runner.notify(container, name)`.

There is no container scan: whatever writes blobs (the local blob store's upload route, an Event Grid
stand-in, a test) calls `notify`, which is how a `source="EventGrid"` trigger works in Azure too; a
trigger on the default source (logs and container scan) is fired the same way here.

Paths. A trigger's `path` is `container/pattern`. The container is literal; in the pattern each
`{param}` matches one or more characters other than `/`, except a parameter that ends the pattern,
which takes the rest of the name, slashes included: `recordings/{name}` matches `a/b.webm` with
name=`a/b.webm`, `recordings/{meetingId}/{recordingId}/{file}` gives each its segment, and
`recordings/{stem}.webm` only names ending in `.webm`. A path that is only a container matches every
blob in it. The captured values are the binding data: the blob's `binding_data` (and the log line).

What the function gets. Never the blob's bytes in memory: a `BlobStream`, a read-only
`azure.functions.InputStream` with `.name` (`container/blob`, as the host gives it), `.length`, `.uri`,
`.blob_properties`, `.binding_data`, and a `read(size)` that downloads lazily, chunk by chunk, through the
BlobStore. `read` blocks, so it works in a plain (`def`) function, which runs on a worker thread; an
`async def` function must use `await blob.aread(size)` (a blocking `read` there would stall the event
loop it needs, so it raises instead). A parameter annotated `bytes` or `str` gets the whole blob, as in
Azure: the function asked for it.

Failures. Like the host's blob receipts: a failing invocation is retried after `retry_delay`, up to
`maxDequeueCount` attempts in all (host.json `extensions.queues`, default 5, the same setting the host
uses); then an error is logged and the blob is given up on (the host would add a message to
`webjobs-blobtrigger-poison`; devhost does not). A blob deleted before an attempt is not run.

`notify` only schedules the invocations and returns; `join()` waits for them. `stop()` cancels those
still running: a notification in flight then is lost (there is no scan to find the blob again).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import typing
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# The abstract InputStream is only exported from the private module.
from azure.functions import _abc as func_abc

from devhost.app_loader import AppIndex, FunctionEntry, triggered_by, warn_unsupplied_bindings
from devhost.context import InvocationContext
from devhost.invoker import invoke
from devhost.queue_runner import QueueOptions
from devhost.tasks import finish_or_cancel
from shared.ports import BlobInfo, BlobStore

logger = logging.getLogger(__name__)

BLOB_TRIGGER = "blobTrigger"
DEFAULT_BASE_URL = "http://127.0.0.1:10000/devstoreaccount1"  # Azurite's, as a blob URI prefix
RETRY_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 10.0
CHUNK_SIZE = 1024 * 1024

_PARAM = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class BlobPathTemplate:
    text: str
    container: str
    pattern: re.Pattern[str] | None  # None: every blob of the container
    params: tuple[str, ...]

    @classmethod
    def parse(cls, path: str) -> BlobPathTemplate:
        container, _, rest = path.strip("/").partition("/")
        if not container or "{" in container or "}" in container:
            raise ValueError(f"blob trigger path {path!r}: the container must be a literal name")
        if not rest:
            return cls(path, container, None, ())
        parts: list[str] = []
        params: list[str] = []
        position = 0
        for found in _PARAM.finditer(rest):
            literal = rest[position : found.start()]
            if "{" in literal or "}" in literal:
                raise ValueError(f"blob trigger path {path!r}: unbalanced braces")
            parts.append(re.escape(literal))
            param = found.group(1)
            if not param.isidentifier() or param in params:
                raise ValueError(f"blob trigger path {path!r}: bad or repeated parameter {{{param}}}")
            params.append(param)
            is_last = found.end() == len(rest)
            parts.append(f"(?P<{param}>.+)" if is_last else f"(?P<{param}>[^/]+)")
            position = found.end()
        tail = rest[position:]
        if "{" in tail or "}" in tail:
            raise ValueError(f"blob trigger path {path!r}: unbalanced braces")
        parts.append(re.escape(tail))
        return cls(path, container, re.compile("".join(parts), re.DOTALL), tuple(params))

    def match(self, container: str, name: str) -> dict[str, str] | None:
        """The binding data when `container/name` matches, else None."""
        if container != self.container:
            return None
        if self.pattern is None:
            return {}
        found = self.pattern.fullmatch(name)
        return None if found is None else found.groupdict()


class BlobStream(func_abc.InputStream):
    """A blob as `func.InputStream`, read lazily from the store: a chunk in memory at a time."""

    def __init__(
        self,
        *,
        blobs: BlobStore,
        container: str,
        blob_name: str,
        info: BlobInfo,
        uri: str | None,
        binding_data: Mapping[str, str],
        loop: asyncio.AbstractEventLoop,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        super().__init__()
        self._blobs, self._container, self._blob_name = blobs, container, blob_name
        self._info, self._uri, self._loop, self._chunk_size = info, uri, loop, chunk_size
        self._binding_data = dict(binding_data)
        self._chunks: AsyncIterator[bytes] | None = None
        self._buffer = bytearray()
        self._eof = False

    @property
    def name(self) -> str:
        return f"{self._container}/{self._blob_name}"

    @property
    def length(self) -> int:
        return self._info.size

    @property
    def uri(self) -> str | None:
        return self._uri

    @property
    def blob_properties(self) -> dict[str, Any]:
        return {"ContentType": self._info.content_type, "ETag": self._info.etag, "Length": self._info.size}

    @property
    def metadata(self) -> dict[str, str]:
        return {}

    @property
    def binding_data(self) -> dict[str, str]:
        """The values the trigger path's `{params}` captured."""
        return dict(self._binding_data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    async def _next_chunk(self) -> bytes | None:
        if self._eof:
            return None
        if self._chunks is None:
            self._chunks = self._blobs.download(self._container, self._blob_name, chunk_size=self._chunk_size)
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            self._eof = True
            return None

    def _take(self, size: int | None) -> bytes | None:
        """What the buffer can answer without another chunk, or None."""
        if size is None or size < 0:
            return bytes(self._buffer) if self._eof else None
        if len(self._buffer) >= size or self._eof:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data
        return None

    def _drain(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    async def aread(self, size: int | None = -1) -> bytes:
        """`read` for `async def` functions."""
        if self.closed:
            raise ValueError("read of a closed blob stream")
        while (data := self._take(size)) is None:
            chunk = await self._next_chunk()
            if chunk is not None:
                self._buffer += chunk
        return self._drain() if size is None or size < 0 else data

    def read(self, size: int | None = -1, /) -> bytes:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            raise RuntimeError(
                "BlobStream.read() blocks and cannot run on the event loop: "
                "in an async function use `await blob.aread()`"
            )
        return asyncio.run_coroutine_threadsafe(self.aread(size), self._loop).result()

    read1 = read

    async def aclose(self) -> None:
        self.close()
        chunks, self._chunks = self._chunks, None
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


@dataclass(frozen=True)
class _BlobFunction:
    entry: FunctionEntry
    template: BlobPathTemplate
    wants: type | None  # bytes or str when the parameter asks for the whole blob

    @property
    def source(self) -> str:
        return str(self.entry.trigger.get("source") or "LogsAndContainerScan")


def _wants(entry: FunctionEntry) -> type | None:
    try:
        annotation = typing.get_type_hints(entry.user_function).get(entry.binding_name)
    except Exception:
        return None
    return annotation if annotation in (bytes, str) else None


class BlobTriggerRunner:
    """The blob trigger runner: `notify(container, name)` runs every `blobTrigger` function whose path
    matches. `functions` is the app index (or its entries); `blobs` the store the blobs are read from."""

    trigger_types = frozenset({BLOB_TRIGGER})

    def __init__(
        self,
        functions: AppIndex | Iterable[FunctionEntry],
        blobs: BlobStore,
        *,
        host_json: Mapping[str, Any] | None = None,
        base_url: str | None = DEFAULT_BASE_URL,
        retry_delay: float = RETRY_DELAY_SECONDS,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._functions = [
            _BlobFunction(e, BlobPathTemplate.parse(str(e.trigger["path"])), _wants(e))
            for e in triggered_by(functions, BLOB_TRIGGER)
        ]
        self.blobs = blobs
        self.max_attempts = QueueOptions.from_host_json(host_json or {}).max_dequeue_count
        self._base_url = base_url.rstrip("/") if base_url else None
        self._retry_delay = retry_delay
        self._stop_timeout = stop_timeout
        self._chunk_size = chunk_size
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False

    @property
    def functions(self) -> tuple[FunctionEntry, ...]:
        return tuple(f.entry for f in self._functions)

    def describe(self) -> list[str]:
        return [
            f"  {f.entry.name}: blob {f.template.text} ({f.source})"
            for f in sorted(self._functions, key=lambda f: f.entry.name)
        ]

    async def start(self) -> None:
        warn_unsupplied_bindings(self.functions)
        self._started = True

    async def stop(self) -> None:
        """Stops taking notifications; waits `stop_timeout` for invocations in flight, then cancels them."""
        self._started = False
        await finish_or_cancel(set(self._tasks), self._stop_timeout)

    def matches(self, container: str, name: str) -> list[tuple[FunctionEntry, dict[str, str]]]:
        """The functions a blob would trigger, each with its binding data."""
        found = []
        for function in self._functions:
            data = function.template.match(container, name)
            if data is not None:
                found.append((function.entry, data))
        return found

    async def notify(self, container: str, name: str) -> None:
        """A blob was created or replaced: schedules every matching function (see `join`)."""
        if not self._started:
            raise RuntimeError("the blob runner is not started")
        for function in self._functions:
            data = function.template.match(container, name)
            if data is None:
                continue
            task = asyncio.create_task(self._run(function, container, name, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def join(self) -> None:
        """Waits until every invocation scheduled so far (retries included) is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _uri(self, container: str, name: str) -> str | None:
        return f"{self._base_url}/{container}/{quote(name)}" if self._base_url else None

    async def _run(self, function: _BlobFunction, container: str, name: str, data: dict[str, str]) -> None:
        for attempt in range(1, self.max_attempts + 1):
            if await self._attempt(function, container, name, data, attempt):
                return
            if attempt < self.max_attempts:
                await asyncio.sleep(self._retry_delay)
        logger.error(
            "Function %s gave up on blob %s/%s after %d attempts",
            function.entry.name,
            container,
            name,
            self.max_attempts,
        )

    async def _attempt(
        self, function: _BlobFunction, container: str, name: str, data: dict[str, str], attempt: int
    ) -> bool:
        """One invocation; True when done (succeeded, or nothing to run), False to retry."""
        started = time.perf_counter()
        entry = function.entry
        context = InvocationContext(entry.name, entry.directory)
        outcome = "cancelled"
        stream: BlobStream | None = None
        try:
            info = await self.blobs.info(container, name)
            if info is None:
                outcome = "not run: blob gone"
                return True
            stream = BlobStream(
                blobs=self.blobs,
                container=container,
                blob_name=name,
                info=info,
                uri=self._uri(container, name),
                binding_data=data,
                loop=asyncio.get_running_loop(),
                chunk_size=self._chunk_size,
            )
            value: Any = stream
            if function.wants is not None:
                whole = await self.blobs.get(container, name)
                value = whole.decode() if function.wants is str else whole
            try:
                await invoke(entry, value, context)
            except Exception:
                logger.exception(
                    "Function %s failed on blob %s/%s (attempt %d of %d, invocation %s)",
                    entry.name,
                    container,
                    name,
                    attempt,
                    self.max_attempts,
                    context.invocation_id,
                )
                outcome = "failed"
                return False
            outcome = "succeeded"
            return True
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Reading blob %s/%s for %s failed", container, name, entry.name)
            outcome = "failed to read the blob"
            return False
        finally:
            if stream is not None:
                await stream.aclose()
            logger.info(
                "blob %s/%s function=%s attempt=%d length=%s %s %.1fms binding_data=%s invocation=%s",
                container,
                name,
                entry.name,
                attempt,
                stream.length if stream is not None else "-",
                outcome,
                (time.perf_counter() - started) * 1000,
                data,
                context.invocation_id,
            )
