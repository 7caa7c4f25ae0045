"""The embedded blob store's read endpoint, `GET|HEAD /_devhost/blobs/{container}/{name}?se=…&sig=…`: the
local stand-in for a player's Get Blob with a read-only SAS (LocalBlobStore.read_url hands out these URLs).

As Get Blob answers a media element: the URL's signature and expiry first (LocalBlobStore.verify_read:
403; an upload URL does not read), then the blob (404), then one byte range when the request asks for
one (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`): 206 with Content-Range, or 416 with `bytes */size`
when it starts past the end. A malformed Range, or several ranges, is ignored and the whole blob served
(RFC 9110 allows that; Azure does the same with multiple ranges), as is a Range whose If-Range no longer
names the blob's ETag. Every answer says `Accept-Ranges: bytes` and the blob's content type. The body
streams from one open file a chunk at a time (LocalBlobStore.read_stream), never whole in memory.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import unquote

from aiohttp import web

from devhost.http_host import SystemRoute
from devhost.problems import problem
from shared.adapters.azure_storage_auth import InvalidName
from shared.adapters.local_blobs import READ_ROUTE, LocalBlobStore, ReadDenied
from shared.ports import BlobInfo, BlobNotFound

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class BlobReadRoute:
    def __init__(self, blobs: LocalBlobStore, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._blobs = blobs
        self._chunk_size = chunk_size

    def routes(self) -> list[SystemRoute]:
        path = f"{READ_ROUTE}/{{container}}/{{name:.+}}"
        return [
            SystemRoute("GET", path, self.handle, "blob-read"),
            SystemRoute("HEAD", path, self.handle, "blob-read"),
        ]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        instance = request.rel_url.raw_path
        # The raw path, decoded once: read_url quoted the name with `/` left as it is.
        container, _, quoted = instance[len(READ_ROUTE) + 1 :].partition("/")
        name = unquote(quoted)
        try:
            self._blobs.verify_read(container, name, request.query)
        except ReadDenied as denied:
            return problem(403, str(denied), instance=instance)
        except InvalidName as invalid:
            return problem(400, str(invalid), instance=instance)
        info = await self._blobs.info(container, name)
        if info is None:
            return problem(404, f"blob {container}/{name} does not exist", instance=instance)
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Type": info.content_type or "application/octet-stream",
            "ETag": info.etag,
            "x-ms-request-id": str(uuid.uuid4()),
        }
        wanted = _range(request, info)
        if wanted == "unsatisfiable":
            headers.pop("Content-Type")
            return problem(
                416,
                f"the range {request.headers.get('Range')!r} starts past the blob's {info.size} bytes",
                instance=instance,
                headers={**headers, "Content-Range": f"bytes */{info.size}"},
            )
        status, start, length = 200, 0, info.size
        if isinstance(wanted, tuple):
            status, (start, length) = 206, wanted
            headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{info.size}"
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = length
        await response.prepare(request)
        if request.method == "HEAD" or length == 0:
            await response.write_eof()
            return response
        sent = 0
        try:
            async for chunk in self._blobs.read_stream(
                container, name, start, length, chunk_size=self._chunk_size
            ):
                await response.write(chunk)
                sent += len(chunk)
        except BlobNotFound:
            pass  # deleted since its properties were read: the short body tells the client
        except ConnectionError:
            # The player went away (it seeks by dropping one request for another): nothing to finish.
            logger.debug("the client of %s/%s left after %d bytes", container, name, sent)
            return response
        if sent < length:
            # Replaced by a shorter blob meanwhile: the Content-Length promised more, so the connection
            # must end short rather than pass for a whole answer.
            logger.warning(
                "%s/%s changed while it was read: %d of %d bytes sent", container, name, sent, length
            )
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response


def _range(request: web.Request, info: BlobInfo) -> tuple[int, int] | str | None:
    """(start, length) of the one range asked for; "unsatisfiable"; or None: serve the whole blob."""
    header = request.headers.get("Range")
    if header is None:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != info.etag:
        return None  # the client holds another version: it gets this one whole
    match = _RANGE.match(header)
    if match is None:
        return None  # malformed, another unit, or several ranges: ignored
    first, last = match.group(1), match.group(2)
    size = info.size
    if size == 0:
        return "unsatisfiable"  # an empty blob has no byte to start a range at
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), min(suffix, size)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, as RFC 9110 says
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    return start, end - start + 1
