"""Azure Blob Storage through `azure.storage.blob.aio`, by connection string (Azurite, account keys) or by
account URL and a token credential (managed identity; keyless).

- Uploads stage blocks of `block_size` as the chunks arrive, at most `max_concurrency` in flight, and
  commit the block list at the end: memory holds a few blocks, never the blob, and the blob changes only
  at the commit, so readers never see half of it (a failed upload leaves uncommitted blocks, which the
  service discards after a week). A blob that fits in one block goes up in a single Put Blob.
- Downloads stream `download_blob().chunks()`; the client fetches ranges of at most 4 MiB (also the first,
  whose SDK default is 32 MiB), re-cut to the caller's `chunk_size`. The SDK pins the etag it started
  with, so a blob replaced mid-download ends the stream with EtagMismatch instead of mixing versions.
- Containers are created on first write, once per container per store (and again if one vanished).
- `upload_target` signs a SAS for one blob with create+write only, `read_url` one with read only: a
  user-delegation SAS under a token credential (the key is cached and reused while it outlives the SAS),
  an account-key SAS with a connection string. HTTPS only when the account is served over HTTPS.
- No azure-core exception leaves this module (see `azure_storage_auth.storage_errors`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from shared.adapters.azure_storage_auth import (
    StorageRejected,
    check_blob_name,
    check_container_name,
    error_code,
    storage_errors,
)
from shared.ports import BlobInfo, BlobNotFound, EtagMismatch, ReadTarget, UploadTarget

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.storage.blob import UserDelegationKey
    from azure.storage.blob.aio import BlobClient, BlobServiceClient

T = TypeVar("T")

# The wire version, pinned (as the ACS adapter pins its own): an SDK upgrade must not silently move to a
# version the emulator the contract tests run against (Azurite 3.37: up to 2026-06-06) does not speak.
API_VERSION = "2026-06-06"
MiB = 1024 * 1024
DEFAULT_BLOCK_SIZE = 4 * MiB
GET_SIZE = 4 * MiB  # largest range one download request fetches (the port's default chunk size)
MAX_BLOCKS = 50_000  # per blob, Azure's limit
MAX_UPLOAD_LIFETIME = timedelta(days=7)  # a user-delegation key lives at most 7 days (any SAS here)
# A fetched delegation key is kept this long (or as long as a SAS needs, up to 7 days) and reused.
DELEGATION_KEY_LIFETIME = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)  # a key starting "now" by our clock may be in the service's future
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_lifetime(expires_in: timedelta) -> None:
    if not timedelta(0) < expires_in <= MAX_UPLOAD_LIFETIME:
        raise ValueError(f"expires_in must be positive and at most {MAX_UPLOAD_LIFETIME}")


class AzureBlobStore:
    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: AsyncTokenCredential | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = 2,
        get_size: int = GET_SIZE,
        clock: Callable[[], datetime] = _utcnow,
        **client_options: Any,
    ) -> None:
        """`client_options` go to the SDK client (a transport, retry settings). The store owns (and closes)
        `credential`."""
        if not connection_string and not (account_url and credential is not None):
            raise ValueError("Blob storage needs a connection string, or an account URL and a credential")
        if block_size < 1 or max_concurrency < 1 or get_size < 1:
            raise ValueError("block_size, max_concurrency and get_size must be positive")
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self._block_size = block_size
        self._max_concurrency = max_concurrency
        self._clock = clock
        self._options = {
            "api_version": API_VERSION,
            "max_single_get_size": get_size,
            "max_chunk_get_size": get_size,
            **client_options,
        }
        self._client: BlobServiceClient | None = None
        self._containers: set[str] = set()
        self._container_locks: dict[str, asyncio.Lock] = {}
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_expiry: datetime | None = None
        self._delegation_lock = asyncio.Lock()

    # --- client, built on first use (the SDK import is not paid at cold start) ---------------------------

    def _service(self) -> BlobServiceClient:
        if self._client is None:
            from azure.storage.blob.aio import BlobServiceClient  # noqa: PLC0415

            if self._connection_string:
                self._client = BlobServiceClient.from_connection_string(
                    self._connection_string, **self._options
                )
            else:
                assert self._account_url is not None
                self._client = BlobServiceClient(
                    self._account_url, credential=self._credential, **self._options
                )
        return self._client

    def _blob(self, container: str, name: str) -> BlobClient:
        return self._service().get_blob_client(check_container_name(container), check_blob_name(name))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._credential is not None:
            await self._credential.close()

    # --- containers ------------------------------------------------------------------------------------

    async def _ensure_container(self, container: str) -> None:
        if container in self._containers:
            return
        lock = self._container_locks.setdefault(container, asyncio.Lock())
        async with lock:
            if container in self._containers:
                return
            from azure.core.exceptions import ResourceExistsError  # noqa: PLC0415

            with storage_errors(f"creating container {container}"), contextlib.suppress(ResourceExistsError):
                await self._service().get_container_client(container).create_container()
            self._containers.add(container)

    async def _writing(self, container: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Runs a write into `container`, creating it first; once more if it was deleted behind our back."""
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        await self._ensure_container(container)
        try:
            return await operation()
        except ResourceNotFoundError as exc:
            if error_code(exc) != "ContainerNotFound":
                raise
            self._containers.discard(container)
            await self._ensure_container(container)
            return await operation()

    # --- writing ---------------------------------------------------------------------------------------

    async def put(
        self, container: str, name: str, data: bytes, *, content_type: str | None = None
    ) -> BlobInfo:
        blob = self._blob(container, name)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        with storage_errors(f"writing {container}/{name}"):
            return await self._writing(container, lambda: self._put_blob(blob, name, data, content_type))

    async def _put_blob(self, blob: BlobClient, name: str, data: bytes, content_type: str) -> BlobInfo:
        from azure.storage.blob import ContentSettings  # noqa: PLC0415

        result = await blob.upload_blob(
            data,
            blob_type="BlockBlob",
            overwrite=True,
            length=len(data),
            content_settings=ContentSettings(content_type=content_type),
        )
        return BlobInfo(name, len(data), content_type, str(result["etag"]))

    async def upload(
        self, container: str, name: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        blob = self._blob(container, name)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        iterator = aiter(chunks)
        buffer = bytearray()
        exhausted = await self._fill(iterator, buffer)
        with storage_errors(f"uploading {container}/{name}"):
            if exhausted:
                data = bytes(buffer)
                return await self._writing(container, lambda: self._put_blob(blob, name, data, content_type))
            return await self._staged(
                container, name, blob, iterator=iterator, buffer=buffer, content_type=content_type
            )

    async def _fill(self, iterator: AsyncIterator[bytes], buffer: bytearray) -> bool:
        """Reads chunks into `buffer` until it holds a block; True when the chunks ran out first."""
        while len(buffer) < self._block_size:
            chunk = await anext(iterator, None)
            if chunk is None:
                return True
            buffer += chunk
        return False

    async def _staged(
        self,
        container: str,
        name: str,
        blob: BlobClient,
        *,
        iterator: AsyncIterator[bytes],
        buffer: bytearray,
        content_type: str,
    ) -> BlobInfo:
        from azure.storage.blob import BlobBlock, ContentSettings  # noqa: PLC0415

        # One prefix per upload: concurrent uploads of the same name never commit each other's blocks.
        # Every id has the same length, as the service requires within a blob.
        upload_id = uuid.uuid4().hex
        block_ids: list[str] = []
        pending: set[asyncio.Task[None]] = set()
        size = 0

        async def put_block(block_id: str, block: bytes) -> None:
            await blob.stage_block(block_id, block, length=len(block))

        async def stage(block: bytes) -> None:
            if len(block_ids) >= MAX_BLOCKS:
                raise StorageRejected(f"{container}/{name}: over {MAX_BLOCKS} blocks of {self._block_size}")
            block_id = base64.b64encode(f"{upload_id}-{len(block_ids):06d}".encode()).decode()
            block_ids.append(block_id)
            if len(block_ids) == 1:  # the first request creates the container if need be
                await self._writing(container, lambda: put_block(block_id, block))
                return
            # Bounded: wait for a slot before reading on, so at most max_concurrency blocks are in flight.
            while len(pending) >= self._max_concurrency:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                pending.difference_update(done)
                for task in done:
                    task.result()
            pending.add(asyncio.create_task(put_block(block_id, block)))

        try:
            exhausted = False
            while True:
                while len(buffer) >= self._block_size or (exhausted and buffer):
                    with memoryview(buffer) as view:  # one copy out of the buffer, not two
                        block = bytes(view[: self._block_size])
                    del buffer[: self._block_size]
                    size += len(block)
                    await stage(block)
                if exhausted:
                    break
                exhausted = await self._fill(iterator, buffer)
            if pending:
                await asyncio.gather(*pending)
                pending.clear()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        result = await blob.commit_block_list(
            [BlobBlock(block_id=block_id) for block_id in block_ids],
            content_settings=ContentSettings(content_type=content_type),
        )
        return BlobInfo(name, size, content_type, str(result["etag"]))

    # --- reading ---------------------------------------------------------------------------------------

    def download(
        self, container: str, name: str, *, chunk_size: int = 4 * 1024 * 1024
    ) -> AsyncIterator[bytes]:
        # Names are checked now, at the call; BlobNotFound comes with the first chunk.
        blob = self._blob(container, name)
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        return self._chunks(blob, container, name, chunk_size)

    async def _chunks(
        self, blob: BlobClient, container: str, name: str, chunk_size: int
    ) -> AsyncIterator[bytes]:
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError  # noqa: PLC0415

        doing = f"downloading {container}/{name}"
        with storage_errors(doing):
            try:
                downloader = await blob.download_blob(max_concurrency=1)
            except ResourceNotFoundError as exc:
                raise BlobNotFound(f"{container}/{name}") from exc
            pieces = downloader.chunks()
        while True:
            with storage_errors(doing):
                try:
                    piece = await anext(pieces, None)
                except ResourceModifiedError as exc:
                    raise EtagMismatch(f"{container}/{name} was replaced during the download") from exc
            if piece is None:
                return
            # Yield outside the error mapping: the consumer's own exceptions are not ours to rename.
            view = memoryview(piece)
            for start in range(0, len(view), chunk_size):
                yield bytes(view[start : start + chunk_size])

    async def get(self, container: str, name: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        blob = self._blob(container, name)
        with storage_errors(f"reading {container}/{name}"):
            try:
                downloader = await blob.download_blob()
                return await downloader.readall()
            except ResourceNotFoundError as exc:
                raise BlobNotFound(f"{container}/{name}") from exc

    async def info(self, container: str, name: str) -> BlobInfo | None:
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        blob = self._blob(container, name)
        with storage_errors(f"reading the properties of {container}/{name}"):
            try:
                props = await blob.get_blob_properties()
            except ResourceNotFoundError:
                return None
        return BlobInfo(name, int(props.size), props.content_settings.content_type, str(props.etag))

    async def read_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: PLC0415

        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        blob = self._blob(container, name)
        if length == 0:
            # The service reads a zero length as "to the end"; existence is still checked.
            if await self.info(container, name) is None:
                raise BlobNotFound(f"{container}/{name}")
            return b""
        with storage_errors(f"reading {container}/{name} at {offset}"):
            try:
                downloader = await blob.download_blob(offset=offset, length=length)
                return await downloader.readall()
            except ResourceNotFoundError as exc:
                raise BlobNotFound(f"{container}/{name}") from exc
            except HttpResponseError as exc:
                if exc.status_code == 416:  # the range starts at or past the end: nothing there
                    return b""
                raise

    async def list_blobs(self, container: str, *, prefix: str = "") -> AsyncIterator[BlobInfo]:
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        client = self._service().get_container_client(check_container_name(container))
        with storage_errors(f"listing {container}/{prefix}*"):
            try:
                async for props in client.list_blobs(name_starts_with=prefix or None):
                    content_type = props.content_settings.content_type if props.content_settings else None
                    # Listings give the ETag bare where properties quote it: one form for callers.
                    etag = str(props.etag) if str(props.etag).startswith('"') else f'"{props.etag}"'
                    yield BlobInfo(props.name, int(props.size), content_type, etag)
            except ResourceNotFoundError:
                return  # no container, no blobs

    # --- deleting --------------------------------------------------------------------------------------

    async def delete(self, container: str, name: str) -> None:
        blob = self._blob(container, name)
        with storage_errors(f"deleting {container}/{name}"):
            await self._delete(blob)

    @staticmethod
    async def _delete(blob: BlobClient) -> bool:
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        try:
            await blob.delete_blob(delete_snapshots="include")
        except ResourceNotFoundError:  # the blob, or its whole container: either way, nothing to do
            return False
        return True

    async def delete_prefix(self, container: str, prefix: str) -> int:
        from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

        client = self._service().get_container_client(check_container_name(container))
        deleted = 0
        with storage_errors(f"deleting {container}/{prefix}*"):
            try:
                # A page at a time (up to 5000 names), deleted concurrently before the next is listed.
                async for page in client.list_blob_names(name_starts_with=prefix or None).by_page():
                    names = [name async for name in page]
                    results = await asyncio.gather(
                        *(self._delete(client.get_blob_client(name)) for name in names)
                    )
                    deleted += sum(results)
            except ResourceNotFoundError:
                return deleted  # no container, no blobs
        return deleted

    # --- upload URLs -----------------------------------------------------------------------------------

    async def upload_target(
        self, container: str, name: str, *, content_type: str, expires_in: timedelta
    ) -> UploadTarget:
        from azure.storage.blob import BlobSasPermissions  # noqa: PLC0415

        blob = self._blob(container, name)
        _check_lifetime(expires_in)
        # The client's PUT cannot create a container: it must exist before the URL is any use.
        await self._ensure_container(container)
        # Create and write only: the holder can put this one blob (in one PUT, or as blocks) and nothing
        # else, not even read it back.
        url, expires_on = await self._signed(blob, BlobSasPermissions(create=True, write=True), expires_in)
        return UploadTarget(
            url=url,
            method="PUT",
            headers={"x-ms-blob-type": "BlockBlob", "Content-Type": content_type},
            expires_on=expires_on,
        )

    async def read_url(self, container: str, name: str, *, expires_in: timedelta) -> ReadTarget:
        from azure.storage.blob import BlobSasPermissions  # noqa: PLC0415

        blob = self._blob(container, name)
        _check_lifetime(expires_in)
        # Read only: Get Blob (ranges included) and its properties, of this one blob; no write, no list.
        # No container is created: a read never needs one.
        url, expires_on = await self._signed(blob, BlobSasPermissions(read=True), expires_in)
        return ReadTarget(url=url, expires_on=expires_on)

    async def _signed(self, blob: BlobClient, permission: Any, expires_in: timedelta) -> tuple[str, datetime]:
        """The blob's URL with a SAS for `permission` only: a user-delegation SAS under a token credential,
        an account-key SAS with a connection string. No start time: valid at once whatever the clocks'
        skew. HTTPS only when the account is served over HTTPS."""
        from azure.storage.blob import generate_blob_sas  # noqa: PLC0415

        expires_on = (self._clock() + expires_in).astimezone(UTC).replace(microsecond=0)
        service = self._service()
        sas_args: dict[str, Any] = {
            "account_name": service.account_name,
            "container_name": blob.container_name,
            "blob_name": blob.blob_name,
            "permission": permission,
            "expiry": expires_on,
        }
        if blob.url.startswith("https://"):
            sas_args["protocol"] = "https"
        if self._credential is not None:
            sas_args["user_delegation_key"] = await self._user_delegation_key(expires_on)
        else:
            account_key = getattr(service.credential, "account_key", None)
            if not account_key:
                raise StorageRejected(
                    "signed URLs need the account key (a connection string with AccountKey) or a token "
                    "credential (user-delegation SAS); this connection string has neither"
                )
            sas_args["account_key"] = account_key
        return f"{blob.url}?{generate_blob_sas(**sas_args)}", expires_on

    async def _user_delegation_key(self, sas_expiry: datetime) -> UserDelegationKey:
        """A key that outlives `sas_expiry`: the cached one if it does, else a new one (the identity needs
        `Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action`, part of
        Storage Blob Data Contributor and of Storage Blob Delegator)."""
        async with self._delegation_lock:
            key, expiry = self._delegation_key, self._delegation_expiry
            if key is not None and expiry is not None and expiry >= sas_expiry:
                return key
            now = self._clock()
            # At least as long as the SAS, and at most the 7 days the service allows from now.
            lifetime = max(DELEGATION_KEY_LIFETIME, sas_expiry - now + CLOCK_SKEW)
            expiry = (now + min(lifetime, MAX_UPLOAD_LIFETIME)).astimezone(UTC).replace(microsecond=0)
            with storage_errors("getting a user delegation key"):
                key = await self._service().get_user_delegation_key(now - CLOCK_SKEW, expiry)
            self._delegation_key, self._delegation_expiry = key, expiry
            return key
