"""Blobs as files for the embedded backends: `root/{container}/{name}`, one process at a time.

- A write goes to `root/.tmp/` and is renamed into place, so a reader sees the old blob or the new one,
  never half of one. A download reads from the file it opened: a blob replaced meanwhile keeps streaming
  the version the download started with (the renamed-over file lives on until it is closed).
- Content type, etag and size live in a sidecar, `root/.meta/{container}/{sha256(name)}.json` (hashed:
  no clash with blob names, no path-length surprises). Data and sidecar are two renames; a lock makes
  the pair atomic for this process's readers, which is all the embedded backends need.
- File I/O runs on worker threads, one hop per chunk, so a slow disk never stalls the event loop; memory
  holds a chunk at a time, never the blob.
- Names follow Azure's rules plus ours (`azure_storage_auth.check_blob_name`): no `..`, no absolute
  path, no backslash. That, plus a containment check on the joined path, is what keeps every blob under
  root. A flat namespace on a filesystem cannot hold both `a` and `a/b`: the second is refused.
- `upload_target` hands out a signed, expiring devhost URL, the local stand-in for a write-only SAS;
  `verify_upload` is what the devhost's PUT route checks it with. `read_url` and `verify_read` do the
  same for a read-only SAS (devhost's GET/HEAD route, devhost/blob_read.py, which streams `read_stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import threading
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from shared.adapters.azure_storage_auth import InvalidName, check_blob_name, check_container_name
from shared.ports import BlobInfo, BlobNotFound, ReadTarget, StoreError, UploadTarget
from shared.signing import Signer

# Give the store a Signer made for this purpose: an upload signature is then worthless as any other token.
UPLOAD_SIGNING_PURPOSE = "local-blob-upload"
# Read URLs are signed by the same Signer with another `use` in the signed payload: an upload URL's
# signature never verifies as a read URL's, nor the other way round.
READ_USE = "local-blob-read"
UPLOAD_ROUTE = "/_devhost/blobs"
READ_ROUTE = UPLOAD_ROUTE  # the same blob URL: PUT writes it, GET and HEAD read it
DEFAULT_CONTENT_TYPE = "application/octet-stream"  # what Azure stores when none is given
MAX_UPLOAD_LIFETIME = timedelta(days=7)  # a user-delegation SAS's limit: the same bound here
_EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # SAS `se` style, whole seconds


class UploadDenied(StoreError):
    """An upload URL that does not authorize this request: tampered, for another blob, method or content
    type, or expired. The devhost answers 403, as Azure does for a bad SAS."""


class ReadDenied(StoreError):
    """A read URL that does not authorize this request: tampered, for another blob, an upload URL, or
    expired. The devhost answers 403, as Azure does for a bad SAS."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _etag() -> str:
    return f'"{uuid.uuid4()}"'


class LocalBlobStore:
    def __init__(
        self,
        root: Path,
        signer: Signer,
        public_base_url: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._root = root.absolute()
        self._tmp = self._root / ".tmp"
        self._meta = self._root / ".meta"
        self._signer = signer
        self._base_url = public_base_url.rstrip("/")
        self._clock = clock
        # Held (on worker threads only) around each pair of renames and each read of the pair.
        self._lock = threading.Lock()

    # --- paths ----------------------------------------------------------------------------------------

    def _blob_path(self, container: str, name: str) -> Path:
        check_container_name(container)
        check_blob_name(name)
        base = self._root / container
        path = base.joinpath(*name.split("/"))
        # Belt and braces: the name rules already make escaping impossible; this check proves it.
        if os.path.commonpath([base, os.path.normpath(path)]) != str(base):
            raise InvalidName(f"blob name {name!r} leaves its container")
        return path

    def _meta_path(self, container: str, name: str) -> Path:
        return self._meta / container / (hashlib.sha256(name.encode()).hexdigest() + ".json")

    def _new_tmp(self) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp / uuid.uuid4().hex

    # --- writing --------------------------------------------------------------------------------------

    async def upload(
        self, container: str, name: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        path = self._blob_path(container, name)
        tmp = await asyncio.to_thread(self._new_tmp)
        handle: IO[bytes] = await asyncio.to_thread(tmp.open, "xb")
        size = 0
        try:
            try:
                async for chunk in chunks:
                    if chunk:
                        await asyncio.to_thread(handle.write, chunk)
                        size += len(chunk)
            finally:
                handle.close()  # at most one buffer's flush: not worth a thread hop on the error path
            info = BlobInfo(name, size, content_type or DEFAULT_CONTENT_TYPE, _etag())
            await asyncio.to_thread(self._commit, tmp, path, container, info)
        except BaseException:
            # Also on cancellation, when awaiting is no longer safe: one unlink, run inline.
            tmp.unlink(missing_ok=True)
            raise
        return info

    async def put(
        self, container: str, name: str, data: bytes, *, content_type: str | None = None
    ) -> BlobInfo:
        path = self._blob_path(container, name)
        info = BlobInfo(name, len(data), content_type or DEFAULT_CONTENT_TYPE, _etag())

        def write() -> None:
            tmp = self._new_tmp()
            try:
                tmp.write_bytes(data)
                self._commit(tmp, path, container, info)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

        await asyncio.to_thread(write)
        return info

    def _commit(self, tmp: Path, path: Path, container: str, info: BlobInfo) -> None:
        """Moves a finished temp file into place with its sidecar. Runs on a worker thread."""
        meta = self._meta_path(container, info.name)
        meta_tmp = self._new_tmp()
        meta_tmp.write_text(
            json.dumps({"contentType": info.content_type, "etag": info.etag, "size": info.size})
        )
        try:
            with self._lock:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if path.is_dir():
                        raise IsADirectoryError(path)
                except (NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
                    raise InvalidName(
                        f"blob {info.name!r} clashes with another blob's path in {container!r}: the local "
                        "store keeps blobs as files, so `a` and `a/b` cannot both exist"
                    ) from exc
                meta.parent.mkdir(parents=True, exist_ok=True)
                os.replace(meta_tmp, meta)
                os.replace(tmp, path)
        finally:
            meta_tmp.unlink(missing_ok=True)

    # --- reading --------------------------------------------------------------------------------------

    def download(
        self, container: str, name: str, *, chunk_size: int = 4 * 1024 * 1024
    ) -> AsyncIterator[bytes]:
        # Names are checked now, at the call; BlobNotFound comes with the first chunk.
        path = self._blob_path(container, name)
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        return self._chunks(container, name, path, chunk_size)

    async def _chunks(self, container: str, name: str, path: Path, chunk_size: int) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._open, container, name, path)
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    @staticmethod
    def _open(container: str, name: str, path: Path) -> IO[bytes]:
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            # A directory is a prefix of other blobs, not a blob.
            raise BlobNotFound(f"{container}/{name}") from exc

    async def get(self, container: str, name: str) -> bytes:
        path = self._blob_path(container, name)

        def read() -> bytes:
            with self._open(container, name, path) as handle:
                return handle.read()

        return await asyncio.to_thread(read)

    async def info(self, container: str, name: str) -> BlobInfo | None:
        path = self._blob_path(container, name)
        return await asyncio.to_thread(self._info, container, name, path)

    def _info(self, container: str, name: str, path: Path) -> BlobInfo | None:
        with self._lock:
            try:
                stat = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                return None
            if not path.is_file():
                return None
            try:
                meta: dict[str, Any] = json.loads(self._meta_path(container, name).read_text())
            except (FileNotFoundError, ValueError):
                # A file put there by hand (or a lost sidecar) still reads as a blob: an etag from the
                # file's identity and time, which change whenever it is replaced.
                etag = f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"'
                return BlobInfo(name, stat.st_size, DEFAULT_CONTENT_TYPE, etag)
        return BlobInfo(name, int(meta["size"]), meta.get("contentType"), str(meta["etag"]))

    async def read_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        path = self._blob_path(container, name)

        def read() -> bytes:
            with self._open(container, name, path) as handle:
                handle.seek(offset)
                return handle.read(length)

        return await asyncio.to_thread(read)

    def read_stream(
        self, container: str, name: str, offset: int, length: int, *, chunk_size: int = 1024 * 1024
    ) -> AsyncIterator[bytes]:
        """`length` bytes from `offset` (fewer if the blob is shorter), a chunk at a time from one open
        file: what devhost's read route serves a Range request from. BlobNotFound with the first chunk."""
        path = self._blob_path(container, name)
        if offset < 0 or length < 0 or chunk_size < 1:
            raise ValueError("offset and length must not be negative, chunk_size must be positive")
        return self._range_chunks(container, name, path, (offset, length), chunk_size)

    async def _range_chunks(
        self, container: str, name: str, path: Path, span: tuple[int, int], chunk_size: int
    ) -> AsyncIterator[bytes]:
        offset, length = span
        handle = await asyncio.to_thread(self._open, container, name, path)
        try:
            await asyncio.to_thread(handle.seek, offset)
            remaining = length
            while remaining > 0 and (
                chunk := await asyncio.to_thread(handle.read, min(chunk_size, remaining))
            ):
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def list_blobs(self, container: str, *, prefix: str = "") -> AsyncIterator[BlobInfo]:
        check_container_name(container)
        names = sorted(await asyncio.to_thread(self._names, container, prefix))
        for name in names:
            info = await asyncio.to_thread(self._info, container, name, self._blob_path(container, name))
            if info is not None:  # deleted since the walk
                yield info

    # --- deleting -------------------------------------------------------------------------------------

    async def delete(self, container: str, name: str) -> None:
        path = self._blob_path(container, name)
        await asyncio.to_thread(self._delete, container, name, path)

    def _delete(self, container: str, name: str, path: Path) -> bool:
        with self._lock:
            try:
                if path.is_dir():
                    return False
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                return False
            self._meta_path(container, name).unlink(missing_ok=True)
            # Empty directories go too, so that `a` can become a blob once every `a/...` is gone.
            base = self._root / container
            parent = path.parent
            while parent != base:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
            return True

    async def delete_prefix(self, container: str, prefix: str) -> int:
        check_container_name(container)

        def work() -> int:
            return sum(
                self._delete(container, name, self._blob_path(container, name))
                for name in self._names(container, prefix)
            )

        return await asyncio.to_thread(work)

    def _names(self, container: str, prefix: str) -> list[str]:
        """Blob names under the container that start with `prefix`, walking only the directory the prefix's
        complete segments name (checked like a blob name, so a prefix cannot walk outside the root)."""
        base = self._root / container
        folder, _, _ = prefix.rpartition("/")
        if folder:
            try:
                check_blob_name(folder)
            except InvalidName:
                return []  # no valid blob name starts with it
        start = base.joinpath(*folder.split("/")) if folder else base
        names: list[str] = []
        for directory, _dirs, files in os.walk(start):
            relative = Path(directory).relative_to(base).as_posix()
            for file in files:
                name = file if relative == "." else f"{relative}/{file}"
                with contextlib.suppress(InvalidName):  # a stray file no blob name could address
                    if name.startswith(prefix) and check_blob_name(name):
                        names.append(name)
        return names

    # --- upload URLs ----------------------------------------------------------------------------------

    async def upload_target(
        self, container: str, name: str, *, content_type: str, expires_in: timedelta
    ) -> UploadTarget:
        self._blob_path(container, name)
        if not timedelta(0) < expires_in <= MAX_UPLOAD_LIFETIME:
            raise ValueError(f"expires_in must be positive and at most {MAX_UPLOAD_LIFETIME}")
        expires_on = (self._clock() + expires_in).astimezone(UTC).replace(microsecond=0)
        se = expires_on.strftime(_EXPIRY_FORMAT)
        sig = self._signature("PUT", container, name, content_type, se)
        url = self._url(UPLOAD_ROUTE, container, name, se, sig)
        # The Azure adapter's headers, so a client sends the same on either backend.
        headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": content_type}
        return UploadTarget(url=url, method="PUT", headers=headers, expires_on=expires_on)

    def verify_upload(
        self,
        container: str,
        name: str,
        query: Mapping[str, str],
        content_type: str | None,
        *,
        method: str = "PUT",
    ) -> None:
        """Raises UploadDenied unless `query` (the URL's se and sig) authorizes this request now."""
        self._blob_path(container, name)
        se, sig = query.get("se"), query.get("sig")
        if not se or not sig:
            raise UploadDenied("the upload URL lacks its `se` or `sig` parameter")
        expected = self._signature(method.upper(), container, name, content_type or "", se)
        # Signature first: a forged `se` reads as what it is, a bad signature, not an expiry.
        if not hmac.compare_digest(sig.encode(), expected.encode()):
            raise UploadDenied(
                f"the upload URL's signature does not match {method.upper()} {container}/{name} with "
                f"Content-Type {content_type!r}: tampered, or issued for another blob or content type"
            )
        expires_on = datetime.strptime(se, _EXPIRY_FORMAT).replace(tzinfo=UTC)
        if self._clock() >= expires_on:
            raise UploadDenied(f"the upload URL expired at {se}")

    async def read_url(self, container: str, name: str, *, expires_in: timedelta) -> ReadTarget:
        self._blob_path(container, name)
        if not timedelta(0) < expires_in <= MAX_UPLOAD_LIFETIME:
            raise ValueError(f"expires_in must be positive and at most {MAX_UPLOAD_LIFETIME}")
        expires_on = (self._clock() + expires_in).astimezone(UTC).replace(microsecond=0)
        se = expires_on.strftime(_EXPIRY_FORMAT)
        sig = self._mac({"use": READ_USE, "c": container, "n": name, "se": se})
        return ReadTarget(url=self._url(READ_ROUTE, container, name, se, sig), expires_on=expires_on)

    def verify_read(self, container: str, name: str, query: Mapping[str, str]) -> None:
        """Raises ReadDenied unless `query` (the URL's se and sig) authorizes reading this blob now (GET
        or HEAD, any range)."""
        self._blob_path(container, name)
        se, sig = query.get("se"), query.get("sig")
        if not se or not sig:
            raise ReadDenied("the read URL lacks its `se` or `sig` parameter")
        expected = self._mac({"use": READ_USE, "c": container, "n": name, "se": se})
        if not hmac.compare_digest(sig.encode(), expected.encode()):
            raise ReadDenied(
                f"the read URL's signature does not match {container}/{name}: tampered, issued for "
                "another blob, or an upload URL (which does not read)"
            )
        expires_on = datetime.strptime(se, _EXPIRY_FORMAT).replace(tzinfo=UTC)
        if self._clock() >= expires_on:
            raise ReadDenied(f"the read URL expired at {se}")

    def _url(self, route: str, container: str, name: str, se: str, sig: str) -> str:
        return (
            f"{self._base_url}{route}/{container}/{quote(name, safe='/')}?se={quote(se, safe='')}&sig={sig}"
        )

    def _signature(self, method: str, container: str, name: str, content_type: str, se: str) -> str:
        payload = {"use": UPLOAD_SIGNING_PURPOSE, "m": method, "c": container, "n": name}
        return self._mac(payload | {"ct": content_type, "se": se})

    def _mac(self, payload: dict[str, str]) -> str:
        # The Signer's token is `<payload>.<mac>`; the URL already carries every payload field (or the
        # request does), so only the MAC travels, recomputed on verification.
        return self._signer.sign(payload).rpartition(".")[2]

    async def aclose(self) -> None:
        return None
