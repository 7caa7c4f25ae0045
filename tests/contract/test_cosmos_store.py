"""CosmosStore beyond the store contract: provisioning, request shapes and costs, errors, throttling.

Runs against the Cosmos DB emulator of devhost/emulators.py (@vercel/cosmosdb-server), through
EmulatorTransport, which records every request and makes up for the one emulator gap the adapter meets:

- A point read of a missing document answers 500 ("Cannot read properties of undefined"), not 404 as
  Cosmos DB does (and the SDK retries that 500 once). The transport rewrites exactly that answer to 404,
  so the adapter's production path for "not found" (a 404) is what runs;
  `test_without_the_workaround_the_emulator_gap_is_an_unavailable_store` shows what the raw emulator does.

Other emulator differences, none of which the adapter depends on:

- Continuation tokens: the emulator resumes at the next document's sort values, answers no continuation
  after an exact last page, and silently starts over on a token it cannot parse (it JSON-parses the
  header and ignores a failure). Cosmos DB may answer a continuation after an exact last page, and short
  pages. The adapter pages by key with its own token (`SELECT TOP limit+1`), so both behave alike; the
  contract's paging and garbage-token tests run on it here unchanged.
- A single-partition query must name its partition key in the text (`c.userId = @userId`): the adapter
  does, which is good practice on Cosmos DB too. An ORDER BY on two fields needs a composite index, as on
  Cosmos DB: the adapter creates the users container with one and checks that it is there.
- ETags are bare UUIDs (Cosmos DB quotes them); the adapter treats them as opaque.
- The account key is not checked and there is no Entra ID: the token-credential path is covered by
  construction only (`test_build_cosmos_store_*`).
- No 429s, no OFFSET/LIMIT, no transactional batch, no TTL: the adapter uses none of them; throttling
  is injected by the transport (`test_throttling_*`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.pipeline.transport import AsyncHttpResponse, HttpRequest
from azure.cosmos import PartitionKey
from azure.cosmos.aio import CosmosClient, DatabaseProxy
from pydantic import SecretStr

from devhost.emulators import DOCUMENT_PATH, ROOT, CosmosEmulator, EmulatorTransport
from shared.adapters.cosmos_store import (
    THROTTLE_RETRIES,
    USERS_INDEXING_POLICY,
    VERSION_ATTEMPTS,
    CosmosStore,
    build_cosmos_store,
)
from shared.config import ConfigurationError, Settings
from shared.domain.models import AcsIdentity, Meeting, MeetingStatus, Membership, Participant, Role
from shared.ports import EtagMismatch, StoreError, StoreNotProvisioned, StoreUnavailable

BASE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
_SYSTEM_FIELDS = {"_rid", "_self", "_etag", "_ts", "_attachments"}


def emulator_store(
    emulator: CosmosEmulator,
    database: str,
    *,
    create_if_missing: bool = True,
    transport: EmulatorTransport | None = None,
) -> CosmosStore:
    """A CosmosStore on the emulator, verifying its certificate against the local CA that issued it."""
    return CosmosStore(
        emulator.endpoint,
        emulator.key,
        database=database,
        create_if_missing=create_if_missing,
        connection_verify=str(emulator.ca_file),
        transport=transport if transport is not None else EmulatorTransport(),
    )


def fresh_database() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def admin(cosmos_emulator: CosmosEmulator) -> AsyncIterator[CosmosClient]:
    """A plain SDK client, to look at (or set up) what the store sees."""
    verify = str(cosmos_emulator.ca_file)
    async with CosmosClient(
        cosmos_emulator.endpoint, cosmos_emulator.key, connection_verify=verify
    ) as client:
        yield client


@pytest.fixture
def transport() -> EmulatorTransport:
    return EmulatorTransport()


@pytest.fixture
async def store(cosmos_emulator: CosmosEmulator, transport: EmulatorTransport) -> AsyncIterator[CosmosStore]:
    adapter = emulator_store(cosmos_emulator, fresh_database(), transport=transport)
    yield adapter
    await adapter.aclose()


def meeting(meeting_id: str = "m-1", *, version: int = 1) -> Meeting:
    return Meeting(
        id=meeting_id,
        title="Planning",
        organizer_id="alice",
        starts_at=BASE,
        ends_at=BASE + timedelta(hours=1),
        participants=[Participant(user_id="alice", role=Role.PRESENTER)],
        created_at=BASE,
        updated_at=BASE,
        version=version,
    )


def entry(user_id: str, meeting_id: str, *, version: int = 1, title: str = "Planning") -> Membership:
    return Membership(
        user_id=user_id,
        meeting_id=meeting_id,
        role=Role.ATTENDEE,
        organizer_id="alice",
        title=title,
        starts_at=BASE,
        ends_at=BASE + timedelta(hours=1),
        status=MeetingStatus.SCHEDULED,
        version=version,
    )


def user_fields(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in _SYSTEM_FIELDS}


async def partition_keys(database: DatabaseProxy) -> dict[str, list[str]]:
    found = {}
    async for properties in database.list_containers():
        found[properties["id"]] = properties["partitionKey"]["paths"]
    return found


# --- provisioning ------------------------------------------------------------------------------------


async def test_creates_the_database_and_containers_with_their_partition_keys_when_allowed(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    name = fresh_database()
    store = emulator_store(cosmos_emulator, name, create_if_missing=True)
    try:
        assert await store.get_meeting("m-1") is None
    finally:
        await store.aclose()
    database = admin.get_database_client(name)
    assert await partition_keys(database) == {"meetings": ["/meetingId"], "users": ["/userId"]}
    users = await database.get_container_client("users").read()
    assert users["indexingPolicy"]["compositeIndexes"] == USERS_INDEXING_POLICY["compositeIndexes"]


async def test_creating_is_idempotent_across_instances(cosmos_emulator: CosmosEmulator) -> None:
    name = fresh_database()
    first = emulator_store(cosmos_emulator, name)
    etag = await first.create_meeting(meeting())
    await first.aclose()
    second = emulator_store(cosmos_emulator, name)
    try:
        stored = await second.get_meeting("m-1")
        assert stored is not None
        assert stored.etag == etag
    finally:
        await second.aclose()


async def test_refuses_to_create_a_missing_database_when_not_allowed(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    name = fresh_database()
    store = emulator_store(cosmos_emulator, name, create_if_missing=False)
    try:
        with pytest.raises(StoreNotProvisioned, match=rf"{name}/meetings does not exist.*Bicep"):
            await store.get_meeting("m-1")
        # Every call says so, not only the first.
        with pytest.raises(StoreNotProvisioned):
            await store.put_membership(entry("bob", "m-1"))
    finally:
        await store.aclose()
    assert name not in [d["id"] async for d in admin.list_databases()]


async def test_refuses_to_create_a_missing_container_when_not_allowed(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    name = fresh_database()
    database = await admin.create_database(name)
    await database.create_container("meetings", PartitionKey("/meetingId"))
    transport = EmulatorTransport()
    store = emulator_store(cosmos_emulator, name, create_if_missing=False, transport=transport)
    try:
        with pytest.raises(StoreNotProvisioned, match=rf"{name}/users does not exist"):
            await store.get_identity("bob")
    finally:
        await store.aclose()
    assert await partition_keys(database) == {"meetings": ["/meetingId"]}
    # It only looked (the account, the containers): nothing that creates, nothing on documents.
    assert {s.method for s in transport.sent} == {"GET"}
    assert transport.documents() == []


async def test_uses_provisioned_containers_without_trying_to_create_them(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    # As Bicep leaves them in Azure.
    name = fresh_database()
    database = await admin.create_database(name)
    await database.create_container("meetings", PartitionKey("/meetingId"))
    await database.create_container("users", PartitionKey("/userId"), indexing_policy=USERS_INDEXING_POLICY)
    transport = EmulatorTransport()
    store = emulator_store(cosmos_emulator, name, create_if_missing=False, transport=transport)
    try:
        await store.create_meeting(meeting())
        await store.put_membership(entry("bob", "m-1"))
        assert await store.get_meeting("m-1") is not None
        page = await store.list_memberships(
            "bob", ends_after=None, starts_before=None, limit=5, continuation=None
        )
        assert [e.meeting_id for e in page.items] == ["m-1"]
    finally:
        await store.aclose()
    non_document = [(s.method, s.path) for s in transport.sent if "/docs" not in s.path]
    assert all(method == "GET" for method, _ in non_document), non_document


async def test_a_container_with_another_partition_key_is_refused(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    name = fresh_database()
    database = await admin.create_database(name)
    await database.create_container("meetings", PartitionKey("/id"))
    for create_if_missing in (False, True):
        store = emulator_store(cosmos_emulator, name, create_if_missing=create_if_missing)
        try:
            with pytest.raises(StoreNotProvisioned, match=r"meetings is partitioned by \['/id'\]"):
                await store.get_meeting("m-1")
        finally:
            await store.aclose()


async def test_a_users_container_without_the_listing_index_is_refused(
    cosmos_emulator: CosmosEmulator, admin: CosmosClient
) -> None:
    # Cosmos DB would refuse every listing ("no corresponding composite index"): say so at first use.
    name = fresh_database()
    database = await admin.create_database(name)
    await database.create_container("meetings", PartitionKey("/meetingId"))
    await database.create_container("users", PartitionKey("/userId"))
    store = emulator_store(cosmos_emulator, name, create_if_missing=False)
    try:
        with pytest.raises(StoreNotProvisioned, match="composite index"):
            await store.get_identity("bob")
    finally:
        await store.aclose()


# --- what each call sends and costs ----------------------------------------------------------------------


async def test_a_get_is_one_point_read(store: CosmosStore, transport: EmulatorTransport) -> None:
    await store.create_meeting(meeting())
    transport.sent.clear()
    before = dict(store.operations)

    assert await store.get_meeting("m-1") is not None
    assert await store.get_meeting("m-2") is None

    assert [(s.method, s.path) for s in transport.sent] == [
        ("GET", f"/dbs/{store._database}/colls/meetings/docs/m-1/"),
        ("GET", f"/dbs/{store._database}/colls/meetings/docs/m-2/"),
    ]
    assert [s.headers["x-ms-documentdb-partitionkey"] for s in transport.sent] == ['["m-1"]', '["m-2"]']
    assert store.operations["reads"] - before["reads"] == 2
    assert store.operations["queries"] == before["queries"]


async def test_a_list_is_one_single_partition_query(store: CosmosStore, transport: EmulatorTransport) -> None:
    for n in range(5):
        await store.put_membership(entry("bob", f"m-{n}"))
        await store.put_membership(entry("carol", f"m-{n}"))
    before = dict(store.operations)
    transport.sent.clear()

    page = await store.list_memberships(
        "bob",
        ends_after=BASE - timedelta(days=1),
        starts_before=BASE + timedelta(days=1),
        limit=3,
        continuation=None,
    )
    assert len(page.items) == 3
    assert page.continuation is not None
    await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=3, continuation=page.continuation
    )

    assert store.operations["queries"] - before["queries"] == 2
    assert store.operations["reads"] == before["reads"]
    assert len(transport.sent) == 2
    for sent in transport.sent:
        assert (sent.method, sent.path) == ("POST", f"/dbs/{store._database}/colls/users/docs/")
        assert sent.headers["x-ms-documentdb-isquery"] == "true"
        # One partition, named in the request and in the text; never fanned out across partitions.
        assert sent.headers["x-ms-documentdb-partitionkey"] == '["bob"]'
        assert "x-ms-documentdb-query-enablecrosspartition" not in sent.headers
        query = json.loads(sent.body)
        assert "c.userId = @userId" in query["query"]
        assert {"name": "@userId", "value": "bob"} in query["parameters"]
        assert "OFFSET" not in query["query"].upper()
        assert "ORDER BY c.startsAt, c.meetingId" in query["query"]


async def test_membership_write_costs(store: CosmosStore, transport: EmulatorTransport) -> None:
    def cost(before: dict[str, int]) -> dict[str, int]:
        return {kind: store.operations[kind] - before[kind] for kind in before}

    before = dict(store.operations)
    await store.put_membership(entry("bob", "m-1", version=1))
    assert cost(before) == {"reads": 0, "queries": 0, "writes": 1}  # a new meeting's entry: one create

    before = dict(store.operations)
    await store.put_membership(entry("bob", "m-1", version=2))
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}  # read, compare, conditional replace

    before = dict(store.operations)
    await store.put_membership(entry("bob", "m-1", version=1))
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}  # the create finds it (409); older: kept

    before = dict(store.operations)
    await store.put_membership(entry("bob", "m-1", version=2))
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}  # equal: replaced

    before = dict(store.operations)
    await store.put_membership(entry("carol", "m-1", version=5))
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}  # invited later: read (absent), create

    before = dict(store.operations)
    await store.remove_membership("bob", "m-1", 3)
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}

    before = dict(store.operations)
    await store.remove_membership("bob", "m-9", 3)
    assert cost(before) == {"reads": 1, "queries": 0, "writes": 1}  # absent: a tombstone is created

    assert [s.status for s in transport.documents("PUT")] == [200, 200, 200]
    assert all("if-match" in s.headers for s in transport.documents("PUT"))


# --- documents as DESIGN.md "Data" lays them out ------------------------------------------------------


async def test_documents_are_laid_out_as_the_design_says(store: CosmosStore, admin: CosmosClient) -> None:
    original = meeting()
    await store.create_meeting(original)
    await store.put_membership(entry("bob", "m-1", version=2))
    await store.remove_membership("carol", "m-1", 3)
    await store.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:bob", created_at=BASE))

    database = admin.get_database_client(store._database)
    meetings, users = database.get_container_client("meetings"), database.get_container_client("users")
    stored_meeting = user_fields(await meetings.read_item("m-1", partition_key="m-1"))
    assert stored_meeting == {
        **original.model_dump(mode="json", by_alias=True),
        "id": "m-1",
        "meetingId": "m-1",
        "type": "meeting",
    }
    assert stored_meeting["startsAt"] == "2026-11-25T09:00:00Z"
    assert user_fields(await users.read_item("membership-m-1", partition_key="bob")) == {
        "id": "membership-m-1",
        "type": "membership",
        "userId": "bob",
        "meetingId": "m-1",
        "role": "attendee",
        "organizerId": "alice",
        "title": "Planning",
        "startsAt": "2026-11-25T09:00:00Z",
        "endsAt": "2026-11-25T10:00:00Z",
        "status": "scheduled",
        "version": 2,
    }
    assert user_fields(await users.read_item("membership-m-1", partition_key="carol")) == {
        "id": "membership-m-1",
        "type": "membership",
        "userId": "carol",
        "meetingId": "m-1",
        "version": 3,
        "removed": True,
    }
    assert user_fields(await users.read_item("acs-identity", partition_key="bob")) == {
        "id": "acs-identity",
        "type": "identity",
        "userId": "bob",
        "acsUserId": "8:acs:bob",
        "createdAt": "2026-11-25T09:00:00Z",
    }


# --- the version guard under concurrency ---------------------------------------------------------------


async def test_concurrent_membership_writes_keep_the_highest_version(
    store: CosmosStore, transport: EmulatorTransport
) -> None:
    for _ in range(3):
        meeting_id = f"m-{uuid.uuid4().hex[:6]}"
        versions = [3, 6, 1, 5, 2, 4]
        await asyncio.gather(
            *(store.put_membership(entry("bob", meeting_id, version=v, title=f"v{v}")) for v in versions)
        )
        page = await store.list_memberships(
            "bob", ends_after=None, starts_before=None, limit=100, continuation=None
        )
        assert [(e.version, e.title) for e in page.items if e.meeting_id == meeting_id] == [(6, "v6")]
    # The writers did race: some lost a conditional write and went round again.
    assert {409, 412} & {s.status for s in transport.documents()}


async def test_concurrent_put_and_remove_end_with_the_higher_version(store: CosmosStore) -> None:
    await store.put_membership(entry("bob", "m-1", version=1))
    await asyncio.gather(
        store.remove_membership("bob", "m-1", 4),
        store.put_membership(entry("bob", "m-1", version=3)),
        store.put_membership(entry("bob", "m-1", version=2)),
    )
    page = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=5, continuation=None
    )
    assert page.items == []


async def test_the_version_guard_gives_up_after_bounded_attempts(
    store: CosmosStore, transport: EmulatorTransport
) -> None:
    await store.put_membership(entry("bob", "m-1", version=1))

    def always_stale(request: HttpRequest) -> None:
        # As if another writer always changed the entry between our read and our replace.
        if request.method == "PUT" and "if-match" in {k.lower() for k in request.headers}:
            request.headers["If-Match"] = '"someone-else"'

    transport.before = always_stale
    transport.sent.clear()
    with pytest.raises(StoreUnavailable, match="kept changing"):
        await store.put_membership(entry("bob", "m-1", version=2))
    assert [s.status for s in transport.documents("PUT")] == [412] * VERSION_ATTEMPTS
    transport.before = None
    page = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=5, continuation=None
    )
    assert [e.version for e in page.items] == [1]


# --- errors: never the SDK's ---------------------------------------------------------------------------


def throttle(status: int = 429) -> Callable[[HttpRequest, AsyncHttpResponse], None]:
    def after(request: HttpRequest, response: AsyncHttpResponse) -> None:
        if request.method == "GET" and DOCUMENT_PATH.search(request.url):
            response.status_code = status
            response.headers["x-ms-retry-after-ms"] = "5"

    return after


async def test_throttling_is_retried_by_the_sdk(store: CosmosStore, transport: EmulatorTransport) -> None:
    await store.create_meeting(meeting())
    answers = iter([429, 429])

    def twice(request: HttpRequest, response: AsyncHttpResponse) -> None:
        status = next(answers, None)
        if status is not None:
            throttle(status)(request, response)

    transport.after = twice
    transport.sent.clear()
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert [s.status for s in transport.sent] == [429, 429, 200]
    assert store.operations["reads"] == 1  # one call; the retries are the SDK's


async def test_throttling_past_the_sdk_retries_is_store_unavailable(
    store: CosmosStore, transport: EmulatorTransport
) -> None:
    await store.create_meeting(meeting())
    transport.after = throttle()
    transport.sent.clear()
    with pytest.raises(StoreUnavailable, match="429") as caught:
        await store.get_meeting("m-1")
    assert caught.value.retry_after == 0.005
    # The retry options set on the client: the first attempt and THROTTLE_RETRIES more.
    assert len(transport.sent) == 1 + THROTTLE_RETRIES


async def test_an_unreachable_account_is_store_unavailable() -> None:
    store = CosmosStore(
        "https://127.0.0.1:9/", "a2V5", database="x", create_if_missing=True, connection_verify=False
    )
    try:
        with pytest.raises(StoreUnavailable, match="could not be reached"):
            await store.get_meeting("m-1")
    finally:
        await store.aclose()


@pytest.mark.parametrize(("status", "says"), [(400, "rejected"), (403, "role assignment")])
async def test_a_refused_request_is_a_store_error_not_the_sdks(
    store: CosmosStore, transport: EmulatorTransport, status: int, says: str
) -> None:
    await store.create_meeting(meeting())
    transport.after = throttle(status)
    with pytest.raises(StoreError, match=says) as caught:
        await store.get_meeting("m-1")
    assert type(caught.value) is StoreError  # not retryable, and not the SDK's own exception


async def test_ids_cosmos_cannot_hold_are_absent_not_errors(
    store: CosmosStore, transport: EmulatorTransport
) -> None:
    # A meeting id comes from the URL; the SDK refuses "/", "\\", "?", "#" (ValueError) or misroutes.
    await store.get_meeting("warm-up")
    transport.sent.clear()
    for bad in ("a/b", "a?b", "a#b", "a\\b", "trailing ", ""):
        assert await store.get_meeting(bad) is None
        with pytest.raises(EtagMismatch):
            await store.replace_meeting(meeting(bad), '"etag"')
        await store.remove_membership("bob", bad, 1)
        with pytest.raises(StoreError, match="cannot be"):
            await store.create_meeting(meeting(bad))
        with pytest.raises(StoreError, match="cannot be"):
            await store.put_membership(entry("bob", bad))
    assert transport.sent == []


async def test_without_the_workaround_the_emulator_gap_is_an_unavailable_store(
    cosmos_emulator: CosmosEmulator,
) -> None:
    # What the emulator really answers for a missing document: 500, which Cosmos DB never does for
    # that. The adapter reads it as a server failure (StoreUnavailable), not as a leaked SDK error and
    # not as "absent": only a 404 means absent.
    transport = EmulatorTransport(rewrite_missing=False)
    store = emulator_store(cosmos_emulator, fresh_database(), transport=transport)
    try:
        with pytest.raises(StoreUnavailable, match="500"):
            await store.get_meeting("m-1")
    finally:
        await store.aclose()
    assert {s.status for s in transport.documents("GET")} == {500}


# --- cold start, construction ------------------------------------------------------------------------


def test_importing_and_constructing_load_no_sdk() -> None:
    code = (
        "import sys\n"
        "from shared.adapters.cosmos_store import CosmosStore\n"
        "CosmosStore('https://x.invalid/', 'a2V5', database='d', create_if_missing=False)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('azure.cosmos', 'azure.identity')))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_build_cosmos_store_with_a_key_creates_what_is_missing() -> None:
    settings = Settings(
        store="cosmos",
        cosmos_endpoint="https://127.0.0.1:8081/",
        cosmos_key=SecretStr("a2V5"),
        cosmos_database="vs",
    )
    store = build_cosmos_store(settings)
    assert (store._endpoint, store._credential, store._database) == ("https://127.0.0.1:8081/", "a2V5", "vs")
    assert store._create_if_missing is True


async def test_build_cosmos_store_in_azure_uses_the_identity_and_creates_nothing(
    tmp_path: Any,
) -> None:
    from azure.identity.aio import DefaultAzureCredential

    settings = Settings(
        store="cosmos",
        cosmos_endpoint="https://account.documents.azure.com:443/",
        auth_mode="easyauth",
        signing_key=SecretStr("k" * 32),
        website_instance_id="instance-1",
        data_dir=tmp_path,
    )
    store = build_cosmos_store(settings)
    try:
        assert isinstance(store._credential, DefaultAzureCredential)
        assert store._create_if_missing is False
    finally:
        await store.aclose()


def test_build_cosmos_store_needs_an_endpoint() -> None:
    with pytest.raises(ConfigurationError, match="COSMOS_ENDPOINT"):
        build_cosmos_store(Settings(store="cosmos"))


class _Credential:
    def __init__(self) -> None:
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("not used")

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> _Credential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


async def test_aclose_closes_a_token_credential_even_if_never_used() -> None:
    credential = _Credential()
    store = CosmosStore("https://x.invalid/", credential, database="d", create_if_missing=False)
    await store.aclose()
    assert credential.closed
