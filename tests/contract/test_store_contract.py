"""One contract for every Store adapter: what the meeting service relies on, checked the same way on each.

A new adapter joins by adding a factory to STORES (and to REOPENABLE if it keeps data across instances).
A factory gets the test's request (to reach a session fixture such as an emulator) and its tmp_path.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devhost.emulators import CosmosEmulator
from shared.adapters.sqlite_store import SqliteStore
from shared.domain.erasure import Erasure, ErasureStatus, erasure_key
from shared.domain.models import AcsIdentity, Meeting, MeetingStatus, Membership, Participant, Role
from shared.domain.recordings import (
    Recording,
    RecordingChannel,
    RecordingError,
    RecordingStage,
    RecordingStatus,
)
from shared.ports import AlreadyExists, EtagMismatch, InvalidContinuation, Store
from tests.contract.test_cosmos_store import emulator_store
from tests.fakes import InMemoryStore

StoreFactory = Callable[[pytest.FixtureRequest, Path], Store]


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / "store.sqlite3")


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return InMemoryStore()


def _cosmos(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    # One emulator per session, one database per test (named after its tmp_path, so that a second
    # instance in the same test opens the same data), created by the store itself.
    emulator: CosmosEmulator = request.getfixturevalue("cosmos_emulator")
    database = "contract-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:16]
    return emulator_store(emulator, database)


STORES = [
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_memory, id="memory"),
    pytest.param(_cosmos, id="cosmos"),
]
# Adapters whose data outlives the object: a second instance on the same place sees the first's writes.
REOPENABLE = [pytest.param(_sqlite, id="sqlite"), pytest.param(_cosmos, id="cosmos")]

BASE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory: StoreFactory = request.param
    adapter = factory(request, tmp_path)
    yield adapter
    await adapter.aclose()


def meeting(meeting_id: str = "m-1", *, title: str = "Planning", version: int = 1) -> Meeting:
    return Meeting(
        id=meeting_id,
        title=title,
        description="quarterly",
        organizer_id="alice",
        starts_at=BASE,
        ends_at=BASE + timedelta(hours=1),
        participants=[
            Participant(user_id="alice", role=Role.PRESENTER),
            Participant(user_id="bob", role=Role.ATTENDEE),
        ],
        room_id="12345678901234567890",
        created_at=BASE - timedelta(days=1),
        updated_at=BASE - timedelta(days=1),
        version=version,
    )


def entry(
    user_id: str,
    meeting_id: str,
    *,
    starts_at: datetime = BASE,
    length: timedelta = timedelta(hours=1),
    version: int = 1,
    title: str = "Planning",
    role: Role = Role.ATTENDEE,
    status: MeetingStatus = MeetingStatus.SCHEDULED,
) -> Membership:
    return Membership(
        user_id=user_id,
        meeting_id=meeting_id,
        role=role,
        organizer_id="alice",
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + length,
        status=status,
        version=version,
    )


async def all_entries(store: Store, user_id: str, **filters: datetime | None) -> list[Membership]:
    page = await store.list_memberships(
        user_id,
        ends_after=filters.get("ends_after"),
        starts_before=filters.get("starts_before"),
        limit=100,
        continuation=None,
    )
    assert page.continuation is None
    return page.items


# --- meetings ----------------------------------------------------------------------------------------


async def test_get_of_unknown_meeting_is_none(store: Store) -> None:
    assert await store.get_meeting("nope") is None


async def test_create_then_get_returns_the_same_meeting_and_etag(store: Store) -> None:
    original = meeting()
    etag = await store.create_meeting(original)
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert stored.value == original
    assert stored.etag == etag
    assert etag


async def test_create_with_a_taken_id_is_already_exists_and_keeps_the_first(store: Store) -> None:
    etag = await store.create_meeting(meeting(title="first"))
    with pytest.raises(AlreadyExists):
        await store.create_meeting(meeting(title="second"))
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert (stored.value.title, stored.etag) == ("first", etag)


async def test_replace_with_current_etag_changes_the_document_and_the_etag(store: Store) -> None:
    first = await store.create_meeting(meeting())
    second = await store.replace_meeting(meeting(title="Renamed", version=2), first)
    assert second != first
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert (stored.value.title, stored.value.version, stored.etag) == ("Renamed", 2, second)
    # Every write gets a fresh ETag, even when the body is the same.
    third = await store.replace_meeting(meeting(title="Renamed", version=2), second)
    assert third not in (first, second)


async def test_replace_with_stale_etag_is_etag_mismatch_and_changes_nothing(store: Store) -> None:
    first = await store.create_meeting(meeting())
    second = await store.replace_meeting(meeting(title="Renamed", version=2), first)
    with pytest.raises(EtagMismatch):
        await store.replace_meeting(meeting(title="Lost update", version=3), first)
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert (stored.value.title, stored.etag) == ("Renamed", second)


async def test_replace_of_missing_meeting_is_etag_mismatch(store: Store) -> None:
    with pytest.raises(EtagMismatch):
        await store.replace_meeting(meeting("ghost"), '"whatever"')
    assert await store.get_meeting("ghost") is None


async def test_meetings_are_kept_apart(store: Store) -> None:
    await store.create_meeting(meeting("m-1", title="one"))
    await store.create_meeting(meeting("m-2", title="two"))
    one, two = await store.get_meeting("m-1"), await store.get_meeting("m-2")
    assert one is not None
    assert two is not None
    assert (one.value.title, two.value.title) == ("one", "two")
    assert one.etag != two.etag


async def test_meeting_fields_round_trip_including_status_and_no_room(store: Store) -> None:
    original = meeting().model_copy(
        update={"status": MeetingStatus.CANCELLED, "room_id": None, "description": None, "version": 7}
    )
    await store.create_meeting(original)
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert stored.value == original


async def test_display_names_round_trip_in_the_meeting_document(store: Store) -> None:
    original = meeting().model_copy(
        update={
            "participants": [
                Participant(user_id="alice", role=Role.PRESENTER, display_name="Alice Liddell"),
                Participant(user_id="bob", role=Role.ATTENDEE, display_name="Bøb «the builder» 🛠"),
                Participant(user_id="carol", role=Role.CONSUMER),
            ]
        }
    )
    etag = await store.create_meeting(original)
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert stored.value == original
    assert stored.value.display_names() == {"alice": "Alice Liddell", "bob": "Bøb «the builder» 🛠"}
    renamed = original.model_copy(
        update={
            "participants": [
                original.participants[0].model_copy(update={"display_name": None}),
                *original.participants[1:],
            ],
            "version": 2,
        }
    )
    await store.replace_meeting(renamed, etag)
    again = await store.get_meeting("m-1")
    assert again is not None
    assert again.value.participants[0].display_name is None
    assert again.value == renamed


# --- recordings --------------------------------------------------------------------------------------


def recording(
    recording_id: str = "r-1",
    meeting_id: str = "m-1",
    *,
    created_at: datetime = BASE,
    status: RecordingStatus = RecordingStatus.AWAITING_UPLOAD,
    version: int = 1,
) -> Recording:
    return Recording(
        id=recording_id,
        meeting_id=meeting_id,
        created_by="alice",
        file_name="standup.wav",
        content_type="audio/wav",
        size_bytes=1_234_567,
        status=status,
        source_blob=f"{meeting_id}/{recording_id}/source.wav",
        created_at=created_at,
        updated_at=created_at,
        version=version,
    )


async def test_get_of_unknown_recording_is_none(store: Store) -> None:
    await store.create_meeting(meeting())
    assert await store.get_recording("m-1", "nope") is None
    assert await store.get_recording("m-9", "r-1") is None
    # The meeting document shares the partition but is not a recording.
    assert await store.get_recording("m-1", "m-1") is None


async def test_create_then_get_returns_the_same_recording_and_etag(store: Store) -> None:
    await store.create_meeting(meeting())
    original = recording()
    etag = await store.create_recording(original)
    stored = await store.get_recording("m-1", "r-1")
    assert stored is not None
    assert stored.value == original
    assert stored.etag == etag
    assert etag


async def test_recording_fields_round_trip(store: Store) -> None:
    original = recording().model_copy(
        update={
            "channels": [
                RecordingChannel(channel=0, user_id="alice"),
                RecordingChannel(channel=1, user_id="bob"),
            ],
            "language": "en",
            "status": RecordingStatus.FAILED,
            "stage": RecordingStage.TRANSCRIPT,
            "progress": 0.5,
            "error": RecordingError(code="transcription_failed", detail="the provider refused the audio"),
            "updated_at": BASE + timedelta(minutes=5),
            "version": 4,
        }
    )
    await store.create_recording(original)
    stored = await store.get_recording("m-1", "r-1")
    assert stored is not None
    assert stored.value == original


async def test_create_recording_with_a_taken_id_is_already_exists_and_keeps_the_first(store: Store) -> None:
    etag = await store.create_recording(recording())
    with pytest.raises(AlreadyExists):
        await store.create_recording(recording(status=RecordingStatus.QUEUED))
    stored = await store.get_recording("m-1", "r-1")
    assert stored is not None
    assert (stored.value.status, stored.etag) == (RecordingStatus.AWAITING_UPLOAD, etag)


async def test_replace_recording_with_current_etag_changes_it_and_the_etag(store: Store) -> None:
    first = await store.create_recording(recording())
    second = await store.replace_recording(recording(status=RecordingStatus.QUEUED, version=2), first)
    assert second != first
    stored = await store.get_recording("m-1", "r-1")
    assert stored is not None
    assert (stored.value.status, stored.value.version, stored.etag) == (RecordingStatus.QUEUED, 2, second)


async def test_replace_recording_with_stale_etag_is_etag_mismatch_and_changes_nothing(store: Store) -> None:
    first = await store.create_recording(recording())
    second = await store.replace_recording(recording(status=RecordingStatus.QUEUED, version=2), first)
    with pytest.raises(EtagMismatch):
        await store.replace_recording(recording(status=RecordingStatus.FAILED, version=3), first)
    stored = await store.get_recording("m-1", "r-1")
    assert stored is not None
    assert (stored.value.status, stored.etag) == (RecordingStatus.QUEUED, second)


async def test_replace_of_missing_recording_is_etag_mismatch(store: Store) -> None:
    await store.create_meeting(meeting())
    with pytest.raises(EtagMismatch):
        await store.replace_recording(recording("ghost"), '"whatever"')
    assert await store.get_recording("m-1", "ghost") is None


async def test_recordings_are_listed_per_meeting_by_created_at_then_id(store: Store) -> None:
    await store.create_meeting(meeting("m-1"))
    await store.create_meeting(meeting("m-2"))
    await store.create_recording(recording("r-c", created_at=BASE + timedelta(minutes=2)))
    await store.create_recording(recording("r-b", created_at=BASE))
    await store.create_recording(recording("r-z", created_at=BASE - timedelta(hours=1)))
    await store.create_recording(recording("r-a", created_at=BASE))
    await store.create_recording(recording("r-other", "m-2"))
    await store.create_recording(recording("r-m1x", "m-1x"))  # a meeting id that extends m-1's
    assert [r.id for r in await store.list_recordings("m-1")] == ["r-z", "r-a", "r-b", "r-c"]
    assert [r.id for r in await store.list_recordings("m-2")] == ["r-other"]
    assert await store.list_recordings("m-3") == []
    listed = await store.list_recordings("m-2")
    assert listed == [recording("r-other", "m-2")]


async def test_recordings_are_listed_by_status_across_meetings_oldest_update_first(store: Store) -> None:
    await store.create_meeting(meeting("m-1"))
    await store.create_meeting(meeting("m-2"))
    for recording_id, meeting_id, status, minutes in (
        ("r-late", "m-1", RecordingStatus.AWAITING_UPLOAD, 5),
        ("r-early", "m-2", RecordingStatus.AWAITING_UPLOAD, -5),
        ("r-mid", "m-1", RecordingStatus.AWAITING_UPLOAD, 0),
        ("r-busy", "m-2", RecordingStatus.TRANSCRIBING, 0),
    ):
        created = recording(
            recording_id, meeting_id, status=status, created_at=BASE + timedelta(minutes=minutes)
        )
        await store.create_recording(created)
    waiting = await store.list_recordings_by_status(RecordingStatus.AWAITING_UPLOAD, limit=10)
    assert [r.id for r in waiting] == ["r-early", "r-mid", "r-late"]
    assert waiting[0] == recording(
        "r-early", "m-2", status=RecordingStatus.AWAITING_UPLOAD, created_at=BASE - timedelta(minutes=5)
    )
    assert [
        r.id for r in await store.list_recordings_by_status(RecordingStatus.AWAITING_UPLOAD, limit=2)
    ] == [
        "r-early",
        "r-mid",
    ]
    assert [r.id for r in await store.list_recordings_by_status(RecordingStatus.TRANSCRIBING, limit=10)] == [
        "r-busy"
    ]
    assert await store.list_recordings_by_status(RecordingStatus.COMPLETED, limit=10) == []


async def test_recordings_by_status_page_on_from_the_last_one_seen(store: Store) -> None:
    # Five failed recordings in three meetings, two updated at the same instant (the id orders those).
    for recording_id, meeting_id, minutes, micros in (
        ("r-4", "m-1", 4, 0),
        ("r-1", "m-2", 1, 0),
        ("r-3b", "m-3", 3, 250),
        ("r-3a", "m-1", 3, 250),
        ("r-2", "m-3", 2, 0),
    ):
        at = BASE + timedelta(minutes=minutes, microseconds=micros)
        created = recording(recording_id, meeting_id, status=RecordingStatus.FAILED, created_at=at)
        await store.create_recording(created)
    await store.create_recording(recording("r-ok", "m-2", status=RecordingStatus.COMPLETED, created_at=BASE))
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = await store.list_recordings_by_status(RecordingStatus.FAILED, limit=2, after=after)
        seen += [r.id for r in page]
        if len(page) < 2:
            break
        after = (page[-1].updated_at, page[-1].id)
    assert seen == ["r-1", "r-2", "r-3a", "r-3b", "r-4"]
    last = await store.list_recordings_by_status(RecordingStatus.FAILED, limit=10, after=after)
    assert [r.id for r in last] == ["r-4"]


async def test_recordings_past_retention_are_listed_oldest_transcript_first(store: Store) -> None:
    await store.create_meeting(meeting("m-1"))
    await store.create_meeting(meeting("m-2"))
    for recording_id, meeting_id, written, deleted in (
        ("r-new", "m-1", BASE + timedelta(days=1), None),
        ("r-old", "m-2", BASE - timedelta(days=40), None),
        ("r-mid", "m-1", BASE - timedelta(days=31, seconds=-1), None),
        ("r-gone", "m-2", BASE - timedelta(days=50), BASE - timedelta(days=10)),
        ("r-never", "m-1", None, None),  # never transcribed: retention has nothing to count from
    ):
        created = recording(recording_id, meeting_id, status=RecordingStatus.COMPLETED).model_copy(
            update={"transcript_written_at": written, "source_deleted_at": deleted}
        )
        await store.create_recording(created)
    kept = await store.list_recordings_transcribed_before(BASE, source_kept=True, limit=10)
    assert [r.id for r in kept] == ["r-old", "r-mid"]
    assert kept[0].transcript_written_at == BASE - timedelta(days=40)
    assert [
        r.id for r in await store.list_recordings_transcribed_before(BASE, source_kept=False, limit=10)
    ] == ["r-gone", "r-old", "r-mid"]
    assert [
        r.id for r in await store.list_recordings_transcribed_before(BASE, source_kept=True, limit=1)
    ] == ["r-old"]
    before = BASE - timedelta(days=31)
    assert await store.list_recordings_transcribed_before(before, source_kept=True, limit=10) != []
    assert [
        r.id for r in await store.list_recordings_transcribed_before(before, source_kept=True, limit=10)
    ] == ["r-old"]


async def test_a_recording_in_the_partition_does_not_confuse_the_meeting(store: Store) -> None:
    meeting_etag = await store.create_meeting(meeting())
    await store.create_recording(recording())
    stored = await store.get_meeting("m-1")
    assert stored is not None
    assert (stored.value, stored.etag) == (meeting(), meeting_etag)
    await store.replace_meeting(meeting(title="Renamed", version=2), meeting_etag)
    assert [r.id for r in await store.list_recordings("m-1")] == ["r-1"]
    assert await store.get_recording("m-1", "r-1") is not None


async def test_delete_recording_is_idempotent_and_touches_nothing_else(store: Store) -> None:
    await store.create_meeting(meeting())
    await store.create_recording(recording("r-1"))
    await store.create_recording(recording("r-2"))
    await store.delete_recording("m-1", "r-1")
    await store.delete_recording("m-1", "r-1")
    await store.delete_recording("m-1", "never")
    await store.delete_recording("m-9", "r-2")
    await store.delete_recording("m-1", "m-1")  # the meeting document is not a recording
    assert await store.get_recording("m-1", "r-1") is None
    assert [r.id for r in await store.list_recordings("m-1")] == ["r-2"]
    assert await store.get_meeting("m-1") is not None
    # Deleted means gone: the id can be created again.
    await store.create_recording(recording("r-1"))
    assert [r.id for r in await store.list_recordings("m-1")] == ["r-1", "r-2"]


def test_a_recording_id_cannot_be_its_meetings_id() -> None:
    with pytest.raises(ValueError, match="differ"):
        recording("m-1", "m-1")


async def test_call_recordings_map_to_ours_in_one_read(store: Store) -> None:
    acs_id = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiIxMDA/+=="  # ACS ids are base64: '/' and '+' included
    assert await store.get_call_recording_ref(acs_id) is None
    await store.put_call_recording_ref(acs_id, "m-1", "r-1")
    before = dict(store.operations)
    assert await store.get_call_recording_ref(acs_id) == ("m-1", "r-1")
    assert store.operations["reads"] == before["reads"] + 1
    await store.put_call_recording_ref(acs_id, "m-1", "r-2")  # replaced, not refused
    assert await store.get_call_recording_ref(acs_id) == ("m-1", "r-2")
    assert await store.get_call_recording_ref(acs_id + "x") is None
    assert await store.list_recordings("m-1") == []  # the entry is no recording of the meeting


async def test_recording_operations_are_counted(store: Store) -> None:
    counted = getattr(store, "operations", None)
    assert isinstance(counted, dict)
    await store.create_meeting(meeting())
    before = dict(counted)
    etag = await store.create_recording(recording())
    after_create = dict(counted)
    await store.get_recording("m-1", "r-1")
    after_get = dict(counted)
    await store.list_recordings("m-1")
    after_list = dict(counted)
    await store.replace_recording(recording(version=2), etag)
    await store.delete_recording("m-1", "r-1")
    after = dict(counted)

    def delta(later: dict[str, int], earlier: dict[str, int]) -> tuple[int, int, int]:
        return (
            later["reads"] - earlier["reads"],
            later["queries"] - earlier["queries"],
            later["writes"] - earlier["writes"],
        )

    assert delta(after_create, before) == (0, 0, 1)
    assert delta(after_get, after_create) == (1, 0, 0)
    assert delta(after_list, after_get) == (0, 1, 0)
    assert delta(after, after_list) == (0, 0, 2)


# --- memberships -------------------------------------------------------------------------------------


async def test_put_membership_creates_an_entry(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", role=Role.CONSUMER))
    assert await all_entries(store, "bob") == [entry("bob", "m-1", role=Role.CONSUMER)]


async def test_newer_or_equal_version_replaces_the_entry(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", version=1, title="old"))
    await store.put_membership(entry("bob", "m-1", version=2, title="new"))
    assert [e.title for e in await all_entries(store, "bob")] == ["new"]
    await store.put_membership(entry("bob", "m-1", version=2, title="rewritten"))
    assert [e.title for e in await all_entries(store, "bob")] == ["rewritten"]


async def test_older_version_is_ignored(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", version=5, title="newest"))
    await store.put_membership(entry("bob", "m-1", version=4, title="late and stale"))
    assert [(e.title, e.version) for e in await all_entries(store, "bob")] == [("newest", 5)]


async def test_remove_deletes_when_stored_version_is_not_newer(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", version=3))
    await store.put_membership(entry("bob", "m-2", version=3))
    await store.remove_membership("bob", "m-1", 3)
    await store.remove_membership("bob", "m-2", 4)
    assert await all_entries(store, "bob") == []


async def test_remove_keeps_a_newer_entry(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", version=3))
    await store.remove_membership("bob", "m-1", 2)
    assert [e.version for e in await all_entries(store, "bob")] == [3]


async def test_an_older_write_arriving_after_a_removal_does_not_bring_the_entry_back(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1", version=3))
    await store.remove_membership("bob", "m-1", 5)
    await store.put_membership(entry("bob", "m-1", version=4))  # a slower writer, from before the removal
    assert await all_entries(store, "bob") == []
    await store.put_membership(entry("bob", "m-1", version=6))  # invited again later
    assert [e.version for e in await all_entries(store, "bob")] == [6]


async def test_remove_of_absent_entry_is_fine_and_touches_nobody_else(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1"))
    await store.remove_membership("carol", "m-1", 10)
    await store.remove_membership("bob", "m-9", 10)
    assert [e.meeting_id for e in await all_entries(store, "bob")] == ["m-1"]


async def test_entries_are_listed_by_starts_at_then_meeting_id(store: Store) -> None:
    await store.put_membership(entry("bob", "m-c", starts_at=BASE + timedelta(hours=2)))
    await store.put_membership(entry("bob", "m-b", starts_at=BASE))
    await store.put_membership(entry("bob", "m-z", starts_at=BASE - timedelta(days=3)))
    await store.put_membership(entry("bob", "m-a", starts_at=BASE))
    assert [e.meeting_id for e in await all_entries(store, "bob")] == ["m-z", "m-a", "m-b", "m-c"]


async def test_other_users_entries_never_appear(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1"))
    await store.put_membership(entry("carol", "m-2"))
    await store.put_membership(entry("bobby", "m-3"))
    await store.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:bob", created_at=BASE))
    assert [e.meeting_id for e in await all_entries(store, "bob")] == ["m-1"]
    assert [e.meeting_id for e in await all_entries(store, "carol")] == ["m-2"]
    assert await all_entries(store, "nobody") == []


async def test_listing_filters_by_end_after_and_start_before(store: Store) -> None:
    # m-early: 08:00-09:00, m-mid: 09:00-10:00, m-late: 10:00-11:00
    for meeting_id, offset in (("m-early", -1), ("m-mid", 0), ("m-late", 1)):
        await store.put_membership(entry("bob", meeting_id, starts_at=BASE + timedelta(hours=offset)))

    def ids(entries: list[Membership]) -> list[str]:
        return [e.meeting_id for e in entries]

    # ends_after is strict: a meeting ending exactly at `from` is over.
    assert ids(await all_entries(store, "bob", ends_after=BASE)) == ["m-mid", "m-late"]
    assert ids(await all_entries(store, "bob", ends_after=BASE - timedelta(seconds=1))) == [
        "m-early",
        "m-mid",
        "m-late",
    ]
    # starts_before is strict: a meeting starting exactly at `to` has not started.
    assert ids(await all_entries(store, "bob", starts_before=BASE + timedelta(hours=1))) == [
        "m-early",
        "m-mid",
    ]
    assert ids(
        await all_entries(
            store, "bob", ends_after=BASE + timedelta(minutes=30), starts_before=BASE + timedelta(minutes=90)
        )
    ) == ["m-mid", "m-late"]
    assert ids(await all_entries(store, "bob", ends_after=BASE + timedelta(hours=5))) == []


async def test_paging_through_45_entries_by_20(store: Store) -> None:
    expected = []
    for n in range(45):
        # Groups of three share a start, so the meeting id decides within a group and across pages.
        starts_at = BASE + timedelta(hours=n // 3)
        meeting_id = f"m-{44 - n:02d}"
        expected.append((starts_at, meeting_id))
        await store.put_membership(entry("bob", meeting_id, starts_at=starts_at))
        await store.put_membership(entry("carol", f"c-{n:02d}", starts_at=starts_at))
    expected.sort()

    sizes: list[int] = []
    seen: list[tuple[datetime, str]] = []
    token: str | None = None
    for _ in range(10):
        page = await store.list_memberships(
            "bob", ends_after=None, starts_before=None, limit=20, continuation=token
        )
        sizes.append(len(page.items))
        seen.extend((e.starts_at, e.meeting_id) for e in page.items)
        token = page.continuation
        if token is None:
            break
    assert sizes == [20, 20, 5]
    assert seen == expected
    assert len(set(seen)) == 45


async def test_exact_page_has_no_continuation(store: Store) -> None:
    for n in range(4):
        await store.put_membership(entry("bob", f"m-{n}", starts_at=BASE + timedelta(hours=n)))
    first = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=2, continuation=None
    )
    assert first.continuation is not None
    second = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=2, continuation=first.continuation
    )
    assert [e.meeting_id for e in second.items] == ["m-2", "m-3"]
    assert second.continuation is None


async def test_paging_keeps_filters(store: Store) -> None:
    for n in range(10):
        await store.put_membership(entry("bob", f"m-{n}", starts_at=BASE + timedelta(hours=n)))
    token: str | None = None
    seen: list[str] = []
    for _ in range(10):
        page = await store.list_memberships(
            "bob",
            ends_after=BASE + timedelta(hours=2),
            starts_before=BASE + timedelta(hours=8),
            limit=2,
            continuation=token,
        )
        seen.extend(e.meeting_id for e in page.items)
        token = page.continuation
        if token is None:
            break
    assert seen == ["m-2", "m-3", "m-4", "m-5", "m-6", "m-7"]


async def test_continuation_resumes_after_an_entry_that_changed_meanwhile(store: Store) -> None:
    for n in range(3):
        await store.put_membership(entry("bob", f"m-{n}", starts_at=BASE + timedelta(hours=n)))
    first = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=1, continuation=None
    )
    assert first.continuation is not None
    # Keyset paging: the position is a key, so a removed entry does not shift the rest.
    await store.remove_membership("bob", "m-0", 1)
    rest = await store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=10, continuation=first.continuation
    )
    assert [e.meeting_id for e in rest.items] == ["m-1", "m-2"]


@pytest.mark.parametrize("garbage", ["garbage", "", "{}", "[1, 2]", "\u00fc\u00df\u2603"])
async def test_garbage_continuation_is_invalid_continuation(store: Store, garbage: str) -> None:
    await store.put_membership(entry("bob", "m-1"))
    with pytest.raises(InvalidContinuation):
        await store.list_memberships(
            "bob", ends_after=None, starts_before=None, limit=10, continuation=garbage
        )


# --- identities --------------------------------------------------------------------------------------


async def test_identity_absent_then_created_then_duplicate_refused(store: Store) -> None:
    assert await store.get_identity("bob") is None
    first = AcsIdentity(user_id="bob", acs_user_id="8:acs:first", created_at=BASE)
    await store.create_identity(first)
    assert await store.get_identity("bob") == first
    with pytest.raises(AlreadyExists):
        await store.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:second", created_at=BASE))
    assert await store.get_identity("bob") == first
    assert await store.get_identity("carol") is None


async def test_identity_and_entries_share_a_partition_without_clashing(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1"))
    await store.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:bob", created_at=BASE))
    assert [e.meeting_id for e in await all_entries(store, "bob")] == ["m-1"]
    identity = await store.get_identity("bob")
    assert identity is not None
    assert identity.acs_user_id == "8:acs:bob"


async def test_a_users_partition_is_purged_and_nobody_elses(store: Store) -> None:
    await store.put_membership(entry("bob", "m-1"))
    await store.put_membership(entry("bob", "m-2"))
    await store.remove_membership("bob", "m-2", 5)  # a tombstone: it holds bob's id too
    await store.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:bob", created_at=BASE))
    await store.put_membership(entry("carol", "m-1"))
    assert await store.purge_user("bob") == 3
    assert await all_entries(store, "bob") == []
    assert await store.get_identity("bob") is None
    assert [e.meeting_id for e in await all_entries(store, "carol")] == ["m-1"]
    assert await store.purge_user("bob") == 0
    # The tombstone went too: an older write may now bring an entry back (erasure runs after the meeting
    # documents stopped listing the user, so no later write of theirs does).


async def test_an_erasure_document_is_created_once_and_replaced_by_etag(store: Store) -> None:
    key = erasure_key("bob")
    assert await store.get_erasure(key) is None
    job = Erasure(id="job-1", key=key, user_id="bob", new_organizer="carol", created_at=BASE, updated_at=BASE)
    etag = await store.put_erasure(job, None)
    with pytest.raises(AlreadyExists):
        await store.put_erasure(job, None)
    stored = await store.get_erasure(key)
    assert stored is not None
    assert (stored.value, stored.etag) == (job, etag)
    done = job.model_copy(update={"status": ErasureStatus.COMPLETED, "user_id": None, "cursor": 2})
    new_etag = await store.put_erasure(done, etag)
    with pytest.raises(EtagMismatch):
        await store.put_erasure(done, etag)
    again = await store.get_erasure(key)
    assert again is not None
    assert (again.value, again.etag) == (done, new_etag)
    # Its partition is the hash, not the user's: purging the user leaves the job's record.
    assert await store.purge_user("bob") == 0
    assert await store.get_erasure(key) is not None


async def test_operations_are_counted(store: Store) -> None:
    counted = getattr(store, "operations", None)
    assert isinstance(counted, dict)
    before = dict(counted)
    etag = await store.create_meeting(meeting())
    await store.get_meeting("m-1")
    await store.replace_meeting(meeting(version=2), etag)
    await store.put_membership(entry("bob", "m-1"))
    await store.list_memberships("bob", ends_after=None, starts_before=None, limit=5, continuation=None)
    await store.get_identity("bob")
    assert counted["reads"] - before["reads"] == 2
    assert counted["queries"] - before["queries"] == 1
    assert counted["writes"] - before["writes"] == 3


# --- durability --------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", REOPENABLE)
async def test_data_survives_reopening(
    factory: StoreFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    first = factory(request, tmp_path)
    etag = await first.create_meeting(meeting())
    await first.put_membership(entry("bob", "m-1", version=2))
    await first.create_identity(AcsIdentity(user_id="bob", acs_user_id="8:acs:bob", created_at=BASE))
    await first.aclose()

    second = factory(request, tmp_path)
    try:
        stored = await second.get_meeting("m-1")
        assert stored is not None
        assert (stored.value, stored.etag) == (meeting(), etag)
        assert await all_entries(second, "bob") == [entry("bob", "m-1", version=2)]
        assert await second.get_identity("bob") is not None
        # The version guard still holds against what the first instance wrote.
        await second.put_membership(entry("bob", "m-1", version=1, title="stale"))
        assert [e.title for e in await all_entries(second, "bob")] == ["Planning"]
        await second.replace_meeting(meeting(version=2), etag)
    finally:
        await second.aclose()
