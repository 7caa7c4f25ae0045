"""The Azure store: Cosmos DB for NoSQL through `azure.cosmos.aio`, laid out as DESIGN.md "Data" says.

`meetings` (partition key `/meetingId`) holds a meeting document (id = meetingId, type "meeting") and
the meeting's recording documents (id = the recording's own uuid, type "recording"). `users` (partition
key `/userId`) holds the user's ACS identity (id "acs-identity", type "identity") and one membership
entry per meeting (id "membership-{meetingId}", type "membership"; a removal leaves a tombstone with
`"removed": true`), so "my meetings" is one single-partition query. Bodies are SqliteStore's: the
model's JSON by alias plus those envelope fields. Times are `timefmt.iso` text, so they sort and compare
as strings.

Every call is a point read, a single-partition query or a single-document write. Listing pages by key
(startsAt, meetingId), with our own continuation token, instead of handing out the SDK's: Cosmos may
return a continuation after a page that happened to be the last one, may return short pages, and some
SDK versions returned the same token again on the last page (azure-sdk-for-python #32343, #30337).
`SELECT TOP limit+1` tells exactly whether another page exists, and a key position survives entries
being removed between pages.

The SDK retries throttling (429) itself, within THROTTLE_RETRIES and THROTTLE_WAIT_SECONDS; what is
still throttled after that, a 5xx or an unreachable account becomes StoreUnavailable. No SDK exception
leaves this module. The consistency level is the account's (Session by default): every write here is
guarded by an ETag or a create, so a stale read costs a retry, never a lost update.

The database and containers exist before the app runs in Azure: Bicep creates them (with the users
container's composite index), because the app authenticates with its managed identity and Cosmos DB's
data-plane RBAC roles cannot create databases or containers (that is a control-plane operation). So
`create_if_missing` is for the emulator and local runs only; without it a missing database or container
is StoreNotProvisioned at first use, not a 404 that would read as "no such meeting".
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterable, Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter

from shared.adapters import keyset
from shared.domain.erasure import Erasure
from shared.domain.models import AcsIdentity, Meeting, Membership
from shared.domain.recording_paths import call_recording_key
from shared.domain.recordings import Recording, RecordingStatus
from shared.ports import (
    AlreadyExists,
    EtagMismatch,
    Page,
    Stored,
    StoreError,
    StoreNotProvisioned,
    StoreUnavailable,
)
from shared.timefmt import iso, stored_instant

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.cosmos.aio import ContainerProxy, CosmosClient

    from shared.config import Settings

T = TypeVar("T")

MEETINGS = "meetings"
USERS = "users"
MEETINGS_PARTITION_KEY = "/meetingId"
USERS_PARTITION_KEY = "/userId"
IDENTITY_ID = "acs-identity"
ERASURE_ID = "erasure"
# "My meetings" sorts on two fields; Cosmos DB serves such an ORDER BY only from a composite index.
LISTING_INDEX = [
    {"path": "/startsAt", "order": "ascending"},
    {"path": "/meetingId", "order": "ascending"},
]
USERS_INDEXING_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "automatic": True,
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": '/"_etag"/?'}],
    "compositeIndexes": [LISTING_INDEX],
}
# Recordings by status, oldest update first, paged on (updatedAt, id) across meetings (the reconciler's
# sweep, the operators' list): an ORDER BY on two fields, served only from a composite index.
RECORDINGS_BY_UPDATE = [
    {"path": "/updatedAt", "order": "ascending"},
    {"path": "/id", "order": "ascending"},
]
MEETINGS_INDEXING_POLICY: dict[str, Any] = {
    **USERS_INDEXING_POLICY,
    "compositeIndexes": [RECORDINGS_BY_UPDATE],
}
# 429s are retried by the SDK, honouring the service's retry-after, this many times and this long in all:
# an HTTP caller waits at most that long before it gets a 503 it may retry itself.
THROTTLE_RETRIES = 6
THROTTLE_WAIT_SECONDS = 10
# Read, compare, conditional write: each lost race means another writer got through, so a few rounds do.
VERSION_ATTEMPTS = 8

_MEMBERSHIPS = TypeAdapter(list[Membership])
_RECORDINGS = TypeAdapter(list[Recording])
# What Cosmos DB refuses in an id (the SDK checks before sending): no such document can exist.
_UNSTORABLE_ID = re.compile(r"[/\\#?\t\r\n]| \Z|\A\Z")


class _Missing(StoreError):
    """A 404 on a document; each caller decides what absence means (None, EtagMismatch, create)."""


def _membership_id(meeting_id: str) -> str:
    return f"membership-{meeting_id}"


def _storable(item_id: str) -> bool:
    return _UNSTORABLE_ID.search(item_id) is None


class CosmosStore:
    def __init__(
        self,
        endpoint: str,
        credential: str | AsyncTokenCredential,
        *,
        database: str,
        create_if_missing: bool,
        **client_options: Any,
    ) -> None:
        """`credential` is the account key (the emulator) or a token credential (managed identity).

        `client_options` go to the SDK client as they are (e.g. `connection_verify`, a transport).
        """
        self._endpoint = endpoint
        self._credential = credential
        self._database = database
        self._create_if_missing = create_if_missing
        self._options: dict[str, Any] = {
            "retry_throttle_total": THROTTLE_RETRIES,
            "retry_throttle_backoff_max": THROTTLE_WAIT_SECONDS,
            **client_options,
        }
        self._client: CosmosClient | None = None
        self._containers: tuple[ContainerProxy, ContainerProxy] | None = None
        self._connecting = asyncio.Lock()
        # What each call costs in requests, as SqliteStore counts them: the benchmark prints these. The
        # container checks at first use are not counted (once per worker, like SQLite's schema).
        self.operations: dict[str, int] = {"reads": 0, "queries": 0, "writes": 0}

    async def aclose(self) -> None:
        client, self._client, self._containers = self._client, None, None
        if client is not None:
            await client.close()
        if not isinstance(self._credential, str):
            await self._credential.close()

    # --- clients and containers, at first use ----------------------------------------------------

    async def _meetings(self) -> ContainerProxy:
        return (await self._ready())[0]

    async def _users(self) -> ContainerProxy:
        return (await self._ready())[1]

    async def _ready(self) -> tuple[ContainerProxy, ContainerProxy]:
        if self._containers is None:
            async with self._connecting:
                if self._containers is None:
                    self._containers = await self._connect()
        return self._containers

    async def _connect(self) -> tuple[ContainerProxy, ContainerProxy]:
        from azure.cosmos.aio import CosmosClient  # noqa: PLC0415 - the SDK loads at first use

        if self._client is None:
            self._client = CosmosClient(self._endpoint, self._credential, **self._options)
        try:
            return await self._open_containers(self._client)
        except StoreError:
            raise
        except Exception as exc:
            failure = _translate(exc, f"open database {self._database}")
            if failure is None:
                raise
            raise failure from exc

    async def _open_containers(self, client: CosmosClient) -> tuple[ContainerProxy, ContainerProxy]:
        from azure.cosmos import PartitionKey  # noqa: PLC0415

        if self._create_if_missing:
            database = await client.create_database_if_not_exists(self._database)
            meetings = await database.create_container_if_not_exists(
                MEETINGS, PartitionKey(MEETINGS_PARTITION_KEY), indexing_policy=MEETINGS_INDEXING_POLICY
            )
            users = await database.create_container_if_not_exists(
                USERS, PartitionKey(USERS_PARTITION_KEY), indexing_policy=USERS_INDEXING_POLICY
            )
        else:
            database = client.get_database_client(self._database)
            meetings = database.get_container_client(MEETINGS)
            users = database.get_container_client(USERS)
        for container, partition_key in ((meetings, MEETINGS_PARTITION_KEY), (users, USERS_PARTITION_KEY)):
            properties = await self._properties(container)
            paths = properties.get("partitionKey", {}).get("paths")
            if paths != [partition_key]:
                raise StoreNotProvisioned(
                    f"Cosmos DB container {self._database}/{container.id} is partitioned by {paths}, "
                    f"not [{partition_key!r}]"
                )
            if container is users:
                composite = properties.get("indexingPolicy", {}).get("compositeIndexes") or []
                if not any(_same_index(index, LISTING_INDEX) for index in composite):
                    raise StoreNotProvisioned(
                        f"Cosmos DB container {self._database}/{USERS} lacks the composite index "
                        "(/startsAt ascending, /meetingId ascending) that listing meetings needs"
                    )
        return meetings, users

    async def _properties(self, container: ContainerProxy) -> dict[str, Any]:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError  # noqa: PLC0415

        # The SDK reads these properties before its first item call anyway and caches them: reading
        # them here costs nothing more, and turns a missing container into a clear error.
        try:
            return await container.read()
        except CosmosResourceNotFoundError as exc:
            raise StoreNotProvisioned(
                f"Cosmos DB container {self._database}/{container.id} does not exist. In Azure, infra/ "
                "(Bicep) creates it, as the app's data-plane role cannot; locally, let the store create "
                "it (create_if_missing)."
            ) from exc

    # --- one request each, counted and translated ------------------------------------------------

    async def _call(self, kind: str, what: str, request: Awaitable[T]) -> T:
        self.operations[kind] += 1
        try:
            return await request
        except Exception as exc:
            failure = _translate(exc, what)
            if failure is None:
                raise
            raise failure from exc

    async def _read(self, container: ContainerProxy, item_id: str, partition: str) -> dict[str, Any] | None:
        try:
            return await self._call(
                "reads",
                f"read {container.id}/{item_id}",
                container.read_item(item_id, partition_key=partition),
            )
        except _Missing:
            return None

    # --- meetings container ----------------------------------------------------------------------

    @staticmethod
    def _meeting_doc(meeting: Meeting) -> dict[str, Any]:
        body = meeting.model_dump(mode="json", by_alias=True)
        body.update({"id": meeting.id, "meetingId": meeting.id, "type": "meeting"})
        return body

    async def create_meeting(self, meeting: Meeting) -> str:
        if not _storable(meeting.id):
            raise StoreError(f"{meeting.id!r} cannot be a Cosmos DB id")
        meetings = await self._meetings()
        try:
            created = await self._call(
                "writes", f"create meeting {meeting.id}", meetings.create_item(self._meeting_doc(meeting))
            )
        except AlreadyExists as exc:
            raise AlreadyExists(meeting.id) from exc
        return str(created["_etag"])

    async def get_meeting(self, meeting_id: str) -> Stored[Meeting] | None:
        if not _storable(meeting_id):
            return None  # e.g. a "?" from a URL: not an id this store can hold, so not one it holds
        doc = await self._read(await self._meetings(), meeting_id, meeting_id)
        if doc is None:
            return None
        return Stored(Meeting.model_validate(doc), str(doc["_etag"]))

    async def replace_meeting(self, meeting: Meeting, etag: str) -> str:
        if not _storable(meeting.id):
            raise EtagMismatch(meeting.id)
        return await self._replace_in_meetings(meeting.id, self._meeting_doc(meeting), etag)

    async def _replace_in_meetings(self, item_id: str, doc: dict[str, Any], etag: str) -> str:
        """Replaces a document of the meetings container only if its ETag is still `etag`."""
        from azure.core import MatchConditions  # noqa: PLC0415

        meetings = await self._meetings()
        try:
            replaced = await self._call(
                "writes",
                f"replace {doc.get('type', 'document')} {item_id}",
                meetings.replace_item(item_id, doc, etag=etag, match_condition=MatchConditions.IfNotModified),
            )
        except (EtagMismatch, _Missing) as exc:
            raise EtagMismatch(item_id) from exc
        return str(replaced["_etag"])

    # --- recordings, in their meeting's partition ------------------------------------------------
    # A recording's id is its own uuid and never the meetingId, the meeting document's id in the same
    # partition (Recording refuses that); reads and deletes check it too, so they never reach the meeting.

    @staticmethod
    def _recording_doc(recording: Recording) -> dict[str, Any]:
        body = recording.model_dump(mode="json", by_alias=True)
        body.update({"id": recording.id, "meetingId": recording.meeting_id, "type": "recording"})
        return body

    @staticmethod
    def _recording_address(meeting_id: str, recording_id: str) -> bool:
        return recording_id != meeting_id and _storable(meeting_id) and _storable(recording_id)

    async def create_recording(self, recording: Recording) -> str:
        if not self._recording_address(recording.meeting_id, recording.id):
            raise StoreError(
                f"{recording.meeting_id!r}/{recording.id!r} cannot be a recording's Cosmos DB id"
            )
        meetings = await self._meetings()
        try:
            created = await self._call(
                "writes",
                f"create recording {recording.meeting_id}/{recording.id}",
                meetings.create_item(self._recording_doc(recording)),
            )
        except AlreadyExists as exc:
            raise AlreadyExists(recording.id) from exc
        return str(created["_etag"])

    async def get_recording(self, meeting_id: str, recording_id: str) -> Stored[Recording] | None:
        if not self._recording_address(meeting_id, recording_id):
            return None
        doc = await self._read(await self._meetings(), recording_id, meeting_id)
        if doc is None or doc.get("type") != "recording":
            return None
        return Stored(Recording.model_validate(doc), str(doc["_etag"]))

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        if not self._recording_address(recording.meeting_id, recording.id):
            raise EtagMismatch(recording.id)
        return await self._replace_in_meetings(recording.id, self._recording_doc(recording), etag)

    async def put_call_recording_ref(self, acs_recording_id: str, meeting_id: str, recording_id: str) -> None:
        key = call_recording_key(acs_recording_id)
        doc = {"id": key, "meetingId": key, "type": "callRecording", "recordingMeetingId": meeting_id,
               "recordingId": recording_id}  # fmt: skip
        meetings = await self._meetings()
        await self._call("writes", f"map the ACS recording {acs_recording_id}", meetings.upsert_item(doc))

    async def get_call_recording_ref(self, acs_recording_id: str) -> tuple[str, str] | None:
        key = call_recording_key(acs_recording_id)
        doc = await self._read(await self._meetings(), key, key)
        if doc is None or doc.get("type") != "callRecording":
            return None
        return str(doc["recordingMeetingId"]), str(doc["recordingId"])

    async def list_recordings(self, meeting_id: str) -> list[Recording]:
        # The partition key is in the text as well as in the request: the query names its one partition.
        # Sorted here, as instants: a meeting has a handful of recordings, and an ORDER BY on two fields
        # would need a composite index on the meetings container.
        query = "SELECT * FROM c WHERE c.meetingId = @meetingId AND c.type = 'recording'"
        meetings = await self._meetings()
        pager = meetings.query_items(
            query, parameters=[{"name": "@meetingId", "value": meeting_id}], partition_key=meeting_id
        )
        docs = await self._call("queries", f"list the recordings of {meeting_id}", _collect(pager))
        return sorted(_RECORDINGS.validate_python(docs), key=lambda r: (r.created_at, r.id))

    async def list_recordings_by_status(
        self, status: RecordingStatus, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Recording]:
        # Across partitions, on purpose: only the reconciler's timer asks (every few minutes), `status`
        # is indexed like every path, and a sweep must see every meeting. An index entry per status
        # would cost a second write on every status change of every recording to save this one query.
        # updatedAt is ISO text in UTC: sorted as text is (to the second) sorted in time.
        # A page past `after`: later updates, or the same one and a greater id, in that order (served by
        # the meetings container's composite index, RECORDINGS_BY_UPDATE).
        since, last_id = (stored_instant(after[0]), after[1]) if after is not None else ("", "")
        query = (
            "SELECT TOP @limit * FROM c WHERE c.type = 'recording' AND c.status = @status"
            " AND (c.updatedAt > @since OR (c.updatedAt = @since AND c.id > @id))"
            " ORDER BY c.updatedAt, c.id"
        )
        meetings = await self._meetings()
        pager = meetings.query_items(
            query,
            parameters=[
                {"name": "@limit", "value": limit},
                {"name": "@status", "value": status.value},
                {"name": "@since", "value": since},
                {"name": "@id", "value": last_id},
            ],
        )
        docs = await self._call("queries", f"list the recordings {status.value}", _collect(pager))
        return _RECORDINGS.validate_python(docs)

    async def list_recordings_transcribed_before(
        self, before: datetime, *, source_kept: bool, limit: int
    ) -> list[Recording]:
        # Across partitions, as list_recordings_by_status and for the same reasons (a timer's query). A
        # recording never transcribed has transcriptWrittenAt null, which no string comparison matches.
        query = (
            "SELECT TOP @limit * FROM c WHERE c.type = 'recording' AND c.transcriptWrittenAt < @before"
            " AND (NOT @sourceKept OR NOT IS_DEFINED(c.sourceDeletedAt) OR IS_NULL(c.sourceDeletedAt))"
            " ORDER BY c.transcriptWrittenAt"
        )
        meetings = await self._meetings()
        parameters: list[dict[str, object]] = [
            {"name": "@limit", "value": limit},
            {"name": "@before", "value": iso(before)},
            {"name": "@sourceKept", "value": source_kept},
        ]
        pager = meetings.query_items(query, parameters=parameters)
        docs = await self._call("queries", "list the recordings past retention", _collect(pager))
        return _RECORDINGS.validate_python(docs)

    async def delete_recording(self, meeting_id: str, recording_id: str) -> None:
        if not self._recording_address(meeting_id, recording_id):
            return  # no recording can exist there
        meetings = await self._meetings()
        with contextlib.suppress(_Missing):  # already gone: fine
            await self._call(
                "writes",
                f"delete recording {meeting_id}/{recording_id}",
                meetings.delete_item(recording_id, partition_key=meeting_id),
            )

    # --- users container -------------------------------------------------------------------------

    async def put_membership(self, membership: Membership) -> None:
        if not _storable(membership.meeting_id):
            raise StoreError(f"{membership.meeting_id!r} cannot be part of a Cosmos DB id")
        body = membership.model_dump(mode="json", by_alias=True)
        # The listing filters and sorts these as text: one format, whatever pydantic's would be.
        body.update({"startsAt": iso(membership.starts_at), "endsAt": iso(membership.ends_at)})
        body.update({"id": _membership_id(membership.meeting_id), "type": "membership"})
        # Only the cost depends on which comes first. A meeting's first version is written when it is
        # created, when none of its entries exists yet: create first, one write each. A later version
        # usually finds its entry: read first, rather than a create that fails (a 409 costs a request
        # and shows as a failed dependency call).
        await self._put_versioned(body, create_first=membership.version == 1)

    async def remove_membership(self, user_id: str, meeting_id: str, version: int) -> None:
        if not _storable(meeting_id):
            return  # no entry can exist for it, so none can come back
        # A tombstone, not a delete: it keeps the version, so an older put arriving later cannot bring
        # the entry back (the version guard needs a document to compare with).
        tombstone = {
            "id": _membership_id(meeting_id),
            "type": "membership",
            "userId": user_id,
            "meetingId": meeting_id,
            "version": version,
            "removed": True,
        }
        # A removal usually finds its entry: read first.
        await self._put_versioned(tombstone, create_first=False)

    async def _put_versioned(self, doc: dict[str, Any], *, create_first: bool) -> None:
        """Writes `doc` unless the stored one has a higher version; equal or lower is replaced.

        Cosmos has no conditional upsert on a field, so: read, compare, and replace only if the ETag is
        still the one read (or create if there was nothing). A lost race means another writer changed
        the entry in between: read again and compare with what it wrote.
        """
        from azure.core import MatchConditions  # noqa: PLC0415

        users = await self._users()
        item_id, user_id, version = doc["id"], doc["userId"], doc["version"]
        what = f"write {USERS}/{item_id} of {user_id}"
        create = create_first
        for _ in range(VERSION_ATTEMPTS):
            if create:
                try:
                    await self._call("writes", what, users.create_item(doc))
                    return
                except AlreadyExists:
                    pass  # there is an entry or a tombstone: compare versions with it
            current = await self._read(users, item_id, user_id)
            if current is None:
                create = True
                continue
            if int(current.get("version", -1)) > version:
                return  # a newer write got there first
            try:
                await self._call(
                    "writes",
                    what,
                    users.replace_item(
                        item_id,
                        doc,
                        etag=current["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    ),
                )
                return
            except EtagMismatch:
                create = False
            except _Missing:
                create = True
        raise StoreUnavailable(f"{USERS}/{item_id} of {user_id} kept changing while we wrote it")

    async def list_memberships(
        self,
        user_id: str,
        *,
        ends_after: datetime | None,
        starts_before: datetime | None,
        limit: int,
        continuation: str | None,
    ) -> Page[Membership]:
        # The partition key is in the text as well as in the request: the query names its one partition.
        clauses = ["c.userId = @userId", "c.type = 'membership'", "NOT IS_DEFINED(c.removed)"]
        parameters: list[dict[str, object]] = [
            {"name": "@userId", "value": user_id},
            {"name": "@take", "value": limit + 1},
        ]
        if ends_after is not None:
            clauses.append("c.endsAt > @endsAfter")
            parameters.append({"name": "@endsAfter", "value": iso(ends_after)})
        if starts_before is not None:
            clauses.append("c.startsAt < @startsBefore")
            parameters.append({"name": "@startsBefore", "value": iso(starts_before)})
        if continuation is not None:
            last_start, last_id = keyset.position(continuation)
            # Rendered again, so the query compares texts of one format.
            last_start_text = iso(last_start)
            clauses.append("(c.startsAt > @lastStart OR (c.startsAt = @lastStart AND c.meetingId > @lastId))")
            parameters.extend(
                [{"name": "@lastStart", "value": last_start_text}, {"name": "@lastId", "value": last_id}]
            )
        query = (
            f"SELECT TOP @take * FROM c WHERE {' AND '.join(clauses)} "  # noqa: S608 - clauses are constants
            "ORDER BY c.startsAt, c.meetingId"
        )
        users = await self._users()
        # One query; TOP bounds it, so the SDK follows the service's own continuations (if it splits
        # the result) only within these limit + 1 documents.
        pager = users.query_items(
            query, parameters=parameters, partition_key=user_id, max_item_count=limit + 1
        )
        docs = await self._call("queries", f"list the memberships of {user_id}", _collect(pager))
        items = _MEMBERSHIPS.validate_python(docs[:limit])
        next_token = keyset.after(items[-1]) if len(docs) > limit else None
        return Page(items, next_token)

    async def get_identity(self, user_id: str) -> AcsIdentity | None:
        doc = await self._read(await self._users(), IDENTITY_ID, user_id)
        return None if doc is None else AcsIdentity.model_validate(doc)

    async def create_identity(self, identity: AcsIdentity) -> None:
        body = identity.model_dump(mode="json", by_alias=True)
        body.update({"id": IDENTITY_ID, "type": "identity"})
        users = await self._users()
        try:
            await self._call("writes", f"create the identity of {identity.user_id}", users.create_item(body))
        except AlreadyExists as exc:
            raise AlreadyExists(identity.user_id) from exc

    async def purge_user(self, user_id: str) -> int:
        users = await self._users()
        pager = users.query_items(
            "SELECT c.id FROM c WHERE c.userId = @userId",
            parameters=[{"name": "@userId", "value": user_id}],
            partition_key=user_id,
        )
        docs = await self._call("queries", f"list the documents of {user_id}", _collect(pager))
        for doc in docs:
            with contextlib.suppress(_Missing):  # gone meanwhile: fine
                await self._call(
                    "writes",
                    f"delete {doc['id']} of {user_id}",
                    users.delete_item(doc["id"], partition_key=user_id),
                )
        return len(docs)

    async def get_erasure(self, key: str) -> Stored[Erasure] | None:
        doc = await self._read(await self._users(), ERASURE_ID, key)
        if doc is None:
            return None
        erasure = Erasure.model_validate({**doc, "id": doc.get("jobId"), "userId": doc.get("subject")})
        return Stored(erasure, str(doc["_etag"]))

    async def put_erasure(self, erasure: Erasure, etag: str | None) -> str:
        from azure.core import MatchConditions  # noqa: PLC0415

        # The partition key path is /userId: the user's id (while the job runs) goes under `subject`.
        body = erasure.model_dump(mode="json", by_alias=True)
        # The document's own id is fixed (one per partition): the job's id goes under `jobId`.
        body.update(
            {
                "id": ERASURE_ID,
                "jobId": body["id"],
                "type": "erasure",
                "subject": body.pop("userId"),
                "userId": erasure.key,
            }
        )
        users = await self._users()
        if etag is None:
            written = await self._call("writes", f"create {erasure.key}", users.create_item(body))
        else:
            try:
                written = await self._call(
                    "writes",
                    f"replace {erasure.key}",
                    users.replace_item(
                        ERASURE_ID, body, etag=etag, match_condition=MatchConditions.IfNotModified
                    ),
                )
            except (EtagMismatch, _Missing) as exc:
                raise EtagMismatch(erasure.key) from exc
        return str(written["_etag"])


async def _collect(pager: AsyncIterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [doc async for doc in pager]


def _same_index(index: Any, wanted: list[dict[str, str]]) -> bool:
    if not isinstance(index, list) or len(index) != len(wanted):
        return False
    return all(
        isinstance(part, dict)
        and part.get("path") == want["path"]
        and part.get("order", "ascending") == want["order"]
        for part, want in zip(index, wanted, strict=True)
    )


def _translate(exc: Exception, what: str) -> StoreError | None:
    """The port's error for an SDK exception; None for anything that is not the SDK's (a bug: re-raised)."""
    from azure.core.exceptions import (  # noqa: PLC0415
        AzureError,
        ClientAuthenticationError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.cosmos.exceptions import CosmosClientTimeoutError, CosmosHttpResponseError  # noqa: PLC0415

    if isinstance(exc, CosmosHttpResponseError):
        status = exc.status_code or 0
        sub_status = getattr(exc, "sub_status", None)
        code = f"{status}/{sub_status}" if sub_status else str(status)
        if status == 404:
            return _Missing(f"{what}: not found")
        if status == 409:
            return AlreadyExists(what)
        if status == 412:
            return EtagMismatch(what)
        if status in (408, 410, 429, 449) or status >= 500:
            return StoreUnavailable(f"Cosmos DB answered {code} to {what}", retry_after=_retry_after(exc))
        if status in (401, 403):
            return StoreError(
                f"Cosmos DB refused us to {what} ({code}): check the key, or the identity's data-plane "
                "role assignment on the account"
            )
        return StoreError(f"Cosmos DB rejected {what} ({code})")
    if isinstance(exc, ClientAuthenticationError):
        return StoreError(f"could not authenticate to Cosmos DB to {what}: {exc.message}")
    if isinstance(exc, CosmosClientTimeoutError | ServiceRequestError | ServiceResponseError):
        return StoreUnavailable(f"Cosmos DB could not be reached to {what}")
    if isinstance(exc, AzureError):
        return StoreError(f"Cosmos DB failed to {what}: {type(exc).__name__}")
    return None


def _retry_after(exc: Any) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("x-ms-retry-after-ms")
    try:
        return max(0.0, float(value) / 1000) if value is not None else None
    except ValueError:
        return None


def build_cosmos_store(settings: Settings) -> CosmosStore:
    """The store STORE=cosmos names. A key (COSMOS_KEY) is for the emulator; otherwise the app's identity.

    Outside Azure the store creates its database and containers; in Azure Bicep has made them.
    """
    from shared.config import ConfigurationError  # noqa: PLC0415

    if not settings.cosmos_endpoint:
        raise ConfigurationError("STORE=cosmos needs COSMOS_ENDPOINT")
    credential: str | AsyncTokenCredential
    if settings.cosmos_key is not None:
        credential = settings.cosmos_key.get_secret_value()
    else:
        from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

        # In Azure this is the app's managed identity (AZURE_CLIENT_ID picks a user-assigned one).
        credential = DefaultAzureCredential()
    return CosmosStore(
        settings.cosmos_endpoint,
        credential,
        database=settings.cosmos_database,
        create_if_missing=not settings.running_in_azure,
    )
