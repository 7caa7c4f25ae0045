"""Blob Storage events as Event Grid delivers them (`Microsoft.Storage.BlobCreated`), read without trust.

The subject names the blob: `/blobServices/default/containers/{container}/blobs/{name}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
_SUBJECT_PREFIX = "/blobServices/default/containers/"


@dataclass(frozen=True, slots=True)
class BlobCreated:
    container: str
    name: str
    etag: str | None  # the version written, unquoted (events carry it bare; HTTP quotes it)


def blob_created(event_type: str, subject: str, data: object = None) -> BlobCreated | None:
    """The blob a BlobCreated event is about; None for any other event or a subject of another shape."""
    if event_type != BLOB_CREATED or not subject.startswith(_SUBJECT_PREFIX):
        return None
    container, marker, name = subject.removeprefix(_SUBJECT_PREFIX).partition("/blobs/")
    if not (container and marker and name):
        return None
    etag = data.get("eTag") if isinstance(data, dict) else None
    # Storage puts names in the subject as they are; a client that percent-encoded them is undone here.
    return BlobCreated(container, unquote(name), etag.strip('"') if isinstance(etag, str) and etag else None)
