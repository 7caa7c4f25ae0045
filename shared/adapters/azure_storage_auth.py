"""What the Storage adapters (blobs, queues; local and Azure) share, with no SDK import at module load.

- Which adapter and which auth the settings pick, following the Functions host's convention for a
  connection named `Storage`: `Storage__blobServiceUri` / `Storage__queueServiceUri` with
  `Storage__credential=managedidentity` (and `Storage__clientId` for a user-assigned identity) for keyless
  access, else `AzureWebJobsStorage` as a connection string ("UseDevelopmentStorage=true" is Azurite).
- Azure Storage's naming rules. The local adapters enforce them too, so a name that works on a laptop
  works in Azure, and so that a blob name can never address a file outside the local store's root.
- The errors the adapters raise besides the ports' own, and the mapping of SDK errors onto them: no
  azure-core exception leaves an adapter.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from shared.config import ConfigurationError, Settings
from shared.ports import StoreError, StoreUnavailable

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from shared.ports import BlobStore, QueueStore
    from shared.signing import Signer

# Azurite's well-known development account (documented by Microsoft; not a secret), for
# "UseDevelopmentStorage=true" and its default ports.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_CONNECTION_STRING = (
    f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
    f"BlobEndpoint=http://127.0.0.1:10000/{AZURITE_ACCOUNT};"
    f"QueueEndpoint=http://127.0.0.1:10001/{AZURITE_ACCOUNT};"
)

# --- errors (candidates for shared.ports) -----------------------------------------------------------------


class InvalidName(StoreError, ValueError):
    """A container, queue or blob name that Azure Storage (or the local store's safety rules) refuses."""


class StorageRejected(StoreError):
    """The storage service refused the request (a 4xx we do not map to a port error): a bug of ours, a
    message over 64 KiB, or missing permissions (403 when the identity lacks its role)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class StorageUnavailable(StoreUnavailable):
    """The service failed, kept throttling or could not be reached past the SDK's own retries, or no
    token could be had for the managed identity. Worth retrying later."""


# --- names ------------------------------------------------------------------------------------------------

# Containers and queues: 3-63 characters, lowercase letters, digits and single hyphens, starting and ending
# with a letter or digit (the same rule for both services).
_RESOURCE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_BLOB_NAME = 1024
MAX_SEGMENTS = 254


def check_container_name(name: str) -> str:
    return _check_resource("container", name)


def check_queue_name(name: str) -> str:
    return _check_resource("queue", name)


def _check_resource(kind: str, name: str) -> str:
    if not (3 <= len(name) <= 63 and _RESOURCE_NAME.fullmatch(name)):
        raise InvalidName(
            f"{kind} name {name!r}: 3-63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


def check_blob_name(name: str) -> str:
    """Azure accepts more than this; the rest would be ambiguous as a path (`a//b`, `a/./b`, `a/`, a
    trailing dot that Azure itself strips) or escape the local store's root (`..`, `/abs`, `a\\b`)."""
    if not name or len(name) > MAX_BLOB_NAME:
        raise InvalidName(f"blob name must have 1-{MAX_BLOB_NAME} characters, got {len(name)}")
    if _CONTROL.search(name) or "\\" in name:
        raise InvalidName(f"blob name {name!r} has a control character or a backslash")
    segments = name.split("/")
    if len(segments) > MAX_SEGMENTS:
        raise InvalidName(f"blob name {name!r} has more than {MAX_SEGMENTS} path segments")
    for segment in segments:
        if not segment:
            raise InvalidName(f"blob name {name!r} has an empty path segment (leading, trailing or `//`)")
        if segment.endswith("."):
            raise InvalidName(f"blob name {name!r} has a segment that is `.`, `..` or ends with a dot")
        # A file name's limit on the filesystems the local store runs on (ext4, APFS).
        if len(segment.encode()) > 255:
            raise InvalidName(f"blob name {name!r} has a segment over 255 bytes")
    return name


# --- SDK errors ---------------------------------------------------------------------------------------------


def error_code(exc: BaseException) -> str | None:
    """The storage error code (`x-ms-error-code`) of an SDK error, as a plain string."""
    code = getattr(exc, "error_code", None)
    return None if code is None else str(getattr(code, "value", code))


def mapped_error(exc: Exception, doing: str) -> StoreError:
    """The port error for an azure-core error the adapter did not handle itself."""
    from azure.core.exceptions import (  # noqa: PLC0415 - the SDK loads with the first request
        ClientAuthenticationError,
        HttpResponseError,
    )

    if isinstance(exc, StoreError):
        return exc
    status = getattr(exc, "status_code", None) if isinstance(exc, HttpResponseError) else None
    code = error_code(exc)
    detail = f"{doing}: {type(exc).__name__} {status or ''} {code or ''}".rstrip()
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
        return StorageRejected(detail, status, code)
    if isinstance(exc, ClientAuthenticationError) and status is None:
        # No HTTP status: the credential could not get a token (IMDS down, no identity assigned).
        return StorageUnavailable(f"{doing}: no token for the storage account ({exc.message})")
    return StorageUnavailable(detail)


@contextlib.contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Turns any azure-core error raised inside into the port's errors, naming what was being done."""
    from azure.core.exceptions import AzureError  # noqa: PLC0415

    try:
        yield
    except AzureError as exc:
        raise mapped_error(exc, doing) from exc


# --- settings -> adapters -------------------------------------------------------------------------------


def connection_string(settings: Settings) -> str:
    """`AzureWebJobsStorage`, with "UseDevelopmentStorage=true" spelled out as Azurite's defaults (the SDK
    only knows the lowercase spelling)."""
    if settings.azure_web_jobs_storage is None:
        raise ConfigurationError(
            "STORAGE=azure needs AzureWebJobsStorage (a connection string), or Storage__blobServiceUri and "
            "Storage__queueServiceUri for identity-based access"
        )
    value = settings.azure_web_jobs_storage.get_secret_value().strip()
    if value.rstrip(";").replace(" ", "").lower() == "usedevelopmentstorage=true":
        return AZURITE_CONNECTION_STRING
    return value


def token_credential(settings: Settings) -> AsyncTokenCredential:
    """The credential the Functions host would use for the `Storage` connection. The caller owns it."""
    kind = (settings.storage_credential or "").strip().lower()
    if kind == "managedidentity":
        from azure.identity.aio import ManagedIdentityCredential  # noqa: PLC0415

        # client_id None: the system-assigned identity.
        return ManagedIdentityCredential(client_id=settings.storage_client_id or None)
    if kind:
        raise ConfigurationError(
            f"Storage__credential={settings.storage_credential!r}: the only credential the Functions host "
            "knows is `managedidentity` (leave it unset for the developer's own sign-in)"
        )
    if settings.storage_client_id:
        # The host ignores clientId without credential=managedidentity; we refuse rather than silently
        # authenticate as someone other than the identity named.
        raise ConfigurationError("Storage__clientId needs Storage__credential=managedidentity")
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    # Unset credential: as the host does on a laptop, the developer's sign-in (az login, VS Code, env).
    return DefaultAzureCredential()


def build_blob_store(settings: Settings, signer: Signer, public_base_url: str) -> BlobStore:
    """The BlobStore the settings name. `signer` signs the local store's upload URLs; give it a purpose of
    its own (`local_blobs.UPLOAD_SIGNING_PURPOSE`)."""
    if settings.storage == "local":
        from shared.adapters.local_blobs import LocalBlobStore  # noqa: PLC0415

        return LocalBlobStore(settings.data_dir / "blobs", signer, public_base_url)
    from shared.adapters.azure_blobs import AzureBlobStore  # noqa: PLC0415

    if settings.storage_blob_service_uri:
        return AzureBlobStore(
            account_url=settings.storage_blob_service_uri, credential=token_credential(settings)
        )
    return AzureBlobStore(connection_string=connection_string(settings))


def build_queue_store(settings: Settings) -> QueueStore:
    if settings.storage == "local":
        from shared.adapters.local_queues import LocalQueueStore  # noqa: PLC0415

        return LocalQueueStore(settings.data_dir / "queues.sqlite3")
    from shared.adapters.azure_queues import AzureQueueStore  # noqa: PLC0415

    if settings.storage_queue_service_uri:
        return AzureQueueStore(
            account_url=settings.storage_queue_service_uri, credential=token_credential(settings)
        )
    return AzureQueueStore(connection_string=connection_string(settings))
