"""The embedded blob store's upload endpoint, `PUT /_devhost/blobs/{container}/{name}?se=…&sig=…`: the local
stand-in for a client's Put Blob to a SAS URL (LocalBlobStore.upload_target hands out these URLs).

In Put Blob's order: the URL's signature, expiry and content type first (LocalBlobStore.verify_upload:
403), then `x-ms-blob-type: BlockBlob` (400), a Content-Length (411: no chunked bodies) within Put Blob's
5000 MiB (413). The body then streams into the store a chunk at a time, never whole in memory, and a body
cut short stores nothing. Success is 201 with the blob's ETag, after which `on_landed` (BlobNotifier's
`blob_landed`) fires the blob's triggers and events. A client that sends `Expect: 100-continue` (curl
does for large bodies) is refused before it sends a byte. Errors are problem+json, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from email.utils import formatdate
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

# aiohttp's own answer to `Expect: 100-continue`, which this route runs once its checks pass.
from aiohttp.web_urldispatcher import _default_expect_handler

from devhost.blob_events import BlobLanded
from devhost.http_host import SystemRoute
from devhost.problems import problem
from shared.adapters.azure_storage_auth import InvalidName
from shared.adapters.local_blobs import UPLOAD_ROUTE, LocalBlobStore, UploadDenied

logger = logging.getLogger(__name__)

MAX_PUT_BLOB_BYTES = 5000 * 1024 * 1024  # the most one Put Blob takes (recordings are up to 4 GiB)
CHUNK_SIZE = 1024 * 1024
BLOCK_BLOB = "BlockBlob"


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class _BodyCut(Exception):
    """The client sent less than its Content-Length (it went away, or lied)."""


class BlobUploadRoute:
    def __init__(
        self,
        blobs: LocalBlobStore,
        on_landed: BlobLanded,
        *,
        max_size: int = MAX_PUT_BLOB_BYTES,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._blobs = blobs
        self._on_landed = on_landed
        self._max_size = max_size
        self._chunk_size = chunk_size

    def route(self) -> SystemRoute:
        return SystemRoute(
            "PUT", f"{UPLOAD_ROUTE}/{{container}}/{{name:.+}}", self.handle, "blob-upload", self.expect
        )

    async def expect(self, request: web.Request) -> web.StreamResponse | None:
        try:
            self._checked(request)
        except _Refused as refused:
            return refused.response
        await _default_expect_handler(request)
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            container, name, length = self._checked(request)
        except _Refused as refused:
            return refused.response
        instance = request.rel_url.raw_path
        content_type = request.headers.get("Content-Type")
        try:
            body = self._body(request, length)
            info = await self._blobs.upload(container, name, body, content_type=content_type)
        except _BodyCut as cut:
            return problem(400, str(cut), instance=instance)
        except InvalidName as clash:
            # The local store keeps blobs as files: `a` and `a/b` cannot both exist (Azure has no such limit).
            return problem(409, str(clash), instance=instance)
        except Exception:
            logger.exception("Storing the upload of %s/%s failed", container, name)
            return problem(500, "devhost could not store the blob: see its log", instance=instance)
        try:
            await self._on_landed(container, name, info)
        except Exception:
            # The blob is stored whatever becomes of its events, as with Put Blob in Azure.
            logger.exception("Announcing blob %s/%s failed", container, name)
        headers = {"ETag": info.etag, "Last-Modified": formatdate(usegmt=True)}
        headers["x-ms-request-id"] = str(uuid.uuid4())
        return web.Response(status=201, headers=headers)

    def _checked(self, request: web.Request) -> tuple[str, str, int]:
        """Container, blob name and body length of an upload this request may make; else _Refused."""
        instance = request.rel_url.raw_path
        # The raw path, decoded once: upload_target quoted the name with `/` left as it is.
        container, _, quoted = instance[len(UPLOAD_ROUTE) + 1 :].partition("/")
        name = unquote(quoted)
        try:
            self._blobs.verify_upload(container, name, request.query, request.headers.get("Content-Type"))
        except UploadDenied as denied:
            raise _Refused(problem(403, str(denied), instance=instance)) from None
        except InvalidName as invalid:
            raise _Refused(problem(400, str(invalid), instance=instance)) from None
        blob_type = request.headers.get("x-ms-blob-type")
        if blob_type != BLOCK_BLOB:
            detail = (
                f"x-ms-blob-type must be {BLOCK_BLOB} (the only blob type devhost stores), got {blob_type!r}"
            )
            raise _Refused(problem(400, detail, instance=instance))
        length = request.content_length
        if length is None:
            detail = "Content-Length is required: Put Blob takes no chunked body"
            raise _Refused(problem(411, detail, instance=instance))
        if length > self._max_size:
            detail = f"the body ({length} bytes) is over Put Blob's limit of {self._max_size} bytes"
            raise _Refused(problem(413, detail, instance=instance))
        return container, name, length

    async def _body(self, request: web.Request, length: int) -> AsyncIterator[bytes]:
        remaining = length
        while remaining:
            try:
                chunk = await request.content.readexactly(min(self._chunk_size, remaining))
            except (asyncio.IncompleteReadError, ConnectionError, HttpProcessingError):
                raise _BodyCut(f"the body ended before its Content-Length of {length} bytes") from None
            remaining -= len(chunk)
            yield chunk
