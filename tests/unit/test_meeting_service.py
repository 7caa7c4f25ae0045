"""MeetingService against the in-memory store and ACS: the rules of who may do what, and the ACS room
kept in step (including the order of ACS calls and document writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Unavailable,
    UpstreamFailed,
)
from shared.domain.models import AcsIdentity, Meeting, MeetingStatus, Membership, Role
from shared.ports import (
    CommunicationRejected,
    CommunicationUnavailable,
    RoomMember,
    RoomNotFound,
    Stored,
)
from shared.schemas import CreateMeeting, ListMeetingsQuery, UpdateMeeting
from shared.services.meetings import MeetingService
from shared.signing import Signer
from shared.timefmt import iso
from tests.fakes import FakeCommunication, FixedClock, InMemoryStore, Journal

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)


@dataclass
class World:
    store: InMemoryStore
    acs: FakeCommunication
    clock: FixedClock
    journal: Journal
    service: MeetingService

    async def identity(self, user_id: str) -> str:
        """Gives the user an ACS identity, as their first join would."""
        acs_user_id = await self.acs.create_user()
        await self.store.create_identity(
            AcsIdentity(user_id=user_id, acs_user_id=acs_user_id, created_at=self.clock())
        )
        return acs_user_id

    async def stored(self, meeting_id: str) -> Stored[Meeting]:
        stored = await self.store.get_meeting(meeting_id)
        assert stored is not None
        return stored

    async def entries(self, user_id: str) -> list[Membership]:
        page = await self.store.list_memberships(
            user_id, ends_after=None, starts_before=None, limit=100, continuation=None
        )
        return page.items

    def mark(self) -> int:
        """How many calls ACS has received so far, to look only at those that follow."""
        return len(self.acs.calls)


def make_world(store: InMemoryStore | None = None) -> World:
    journal: Journal = []
    clock = FixedClock(NOW)
    store = store if store is not None else InMemoryStore()
    store.journal = journal
    acs = FakeCommunication(clock=clock, journal=journal)
    service = MeetingService(store, acs, Signer(b"k" * 32, "continuation"), clock)
    return World(store, acs, clock, journal, service)


@pytest.fixture
def world() -> World:
    return make_world()


def create_body(
    participants: list[tuple[str, str]] | None = None,
    *,
    starts_at: datetime = START,
    ends_at: datetime = END,
    title: str = "Planning",
) -> CreateMeeting:
    body: dict[str, Any] = {"title": title, "startsAt": iso(starts_at), "endsAt": iso(ends_at)}
    if participants is not None:
        body["participants"] = [{"userId": user, "role": role} for user, role in participants]
    return CreateMeeting.model_validate(body)


def changes(**fields: Any) -> UpdateMeeting:
    body: dict[str, Any] = {}
    for key, given in fields.items():
        value = given
        if isinstance(given, datetime):
            value = iso(given)
        if key == "participants":
            value = [{"userId": user, "role": role} for user, role in given]
        body[{"starts_at": "startsAt", "ends_at": "endsAt"}.get(key, key)] = value
    return UpdateMeeting.model_validate(body)


def roles(meeting: Meeting) -> list[tuple[str, str]]:
    return [(p.user_id, p.role.value) for p in meeting.participants]


async def create(world: World, participants: list[tuple[str, str]] | None = None, **kw: Any) -> Meeting:
    stored = await world.service.create("alice", create_body(participants, **kw))
    return stored.value


def room_of(meeting: Meeting) -> str:
    assert meeting.room_id is not None
    return meeting.room_id


# --- create ------------------------------------------------------------------------------------------


async def test_create_puts_the_organizer_first_as_presenter(world: World) -> None:
    created = await world.service.create("alice", create_body([("bob", "attendee"), ("carol", "consumer")]))
    meeting = created.value
    assert roles(meeting) == [("alice", "presenter"), ("bob", "attendee"), ("carol", "consumer")]
    assert meeting.organizer_id == "alice"
    assert meeting.status is MeetingStatus.SCHEDULED
    assert (meeting.created_at, meeting.updated_at, meeting.version) == (NOW, NOW, 1)
    stored = await world.stored(meeting.id)
    assert (stored.value, stored.etag) == (meeting, created.etag)


async def test_create_with_organizer_listed_as_presenter_lists_them_once(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("alice", "presenter")])
    assert roles(meeting) == [("alice", "presenter"), ("bob", "attendee")]


@pytest.mark.parametrize("role", ["attendee", "consumer"])
async def test_create_with_organizer_in_another_role_is_invalid(world: World, role: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.service.create("alice", create_body([("alice", role)]))
    assert caught.value.errors[0]["field"] == "participants"
    assert world.acs.calls == []
    assert world.store.operations["writes"] == 0


async def test_create_ending_in_the_past_is_invalid_and_touches_nothing(world: World) -> None:
    world.clock.now = END
    with pytest.raises(InvalidInput) as caught:
        await world.service.create("alice", create_body())
    assert caught.value.errors[0]["field"] == "endsAt"
    assert world.acs.calls == []
    assert world.store.operations["writes"] == 0


async def test_create_of_a_meeting_already_running_opens_the_room_now(world: World) -> None:
    # ACS refuses a room whose validFrom is in the past.
    world.clock.now = START + timedelta(minutes=10, microseconds=250)
    meeting = await create(world)
    assert meeting.starts_at == START
    assert world.acs.rooms[room_of(meeting)] == (START + timedelta(minutes=10), END + HALF_HOUR)


async def test_create_soon_opens_the_room_now(world: World) -> None:
    world.clock.now = START - timedelta(minutes=10)
    meeting = await create(world)
    assert world.acs.rooms[room_of(meeting)] == (START - timedelta(minutes=10), END + HALF_HOUR)


async def test_create_makes_the_room_open_half_an_hour_either_side(world: World) -> None:
    meeting = await create(world)
    room = room_of(meeting)
    assert world.acs.calls == [("create_room", iso(START - HALF_HOUR), iso(END + HALF_HOUR))]
    assert world.acs.rooms[room] == (START - HALF_HOUR, END + HALF_HOUR)
    # The room exists before the document that names it.
    assert world.journal.index(world.acs.calls[0]) < world.journal.index(("create_meeting", meeting.id))


async def test_create_writes_an_entry_for_everyone(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "consumer")])
    for user, role in (("alice", "presenter"), ("bob", "attendee"), ("carol", "consumer")):
        [entry] = await world.entries(user)
        assert entry == Membership.of(meeting, next(p for p in meeting.participants if p.user_id == user))
        assert (entry.role.value, entry.title, entry.starts_at, entry.ends_at) == (
            role,
            "Planning",
            START,
            END,
        )
    assert await world.entries("dave") == []


async def test_create_with_acs_unavailable_is_unavailable_with_retry_after(world: World) -> None:
    world.acs.fail_next(CommunicationUnavailable("throttled", retry_after=7.0))
    with pytest.raises(Unavailable) as caught:
        await world.service.create("alice", create_body([("bob", "attendee")]))
    assert caught.value.retry_after == 7.0
    assert world.store.operations["writes"] == 0
    assert await world.entries("alice") == []


async def test_create_with_acs_rejecting_is_upstream_failed(world: World) -> None:
    world.acs.fail_next(CommunicationRejected("bad window"))
    with pytest.raises(UpstreamFailed):
        await world.service.create("alice", create_body())
    assert world.store.operations["writes"] == 0


# --- get ---------------------------------------------------------------------------------------------


async def test_get_by_organizer_and_participants(world: World) -> None:
    created = await world.service.create("alice", create_body([("bob", "consumer")]))
    for caller in ("alice", "bob"):
        got = await world.service.get(caller, created.value.id)
        assert (got.value, got.etag) == (created.value, created.etag)


async def test_get_by_outsider_or_of_unknown_meeting_is_not_found(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    with pytest.raises(NotFound):
        await world.service.get("mallory", meeting.id)
    with pytest.raises(NotFound):
        await world.service.get("alice", "no-such-meeting")


# --- update ------------------------------------------------------------------------------------------


async def test_update_by_participant_is_forbidden(world: World) -> None:
    meeting = await create(world, [("bob", "presenter")])
    before = await world.stored(meeting.id)
    with pytest.raises(Forbidden):
        await world.service.update("bob", meeting.id, changes(title="Mine now"), None)
    with pytest.raises(NotFound):
        await world.service.update("mallory", meeting.id, changes(title="Mine now"), None)
    assert (await world.stored(meeting.id)).etag == before.etag


async def test_update_with_stale_if_match_is_precondition_failed(world: World) -> None:
    created = await world.service.create("alice", create_body())
    second = await world.service.update("alice", created.value.id, changes(title="Second"), None)
    with pytest.raises(PreconditionFailed):
        await world.service.update("alice", created.value.id, changes(title="Third"), created.etag)
    stored = await world.stored(created.value.id)
    assert (stored.value.title, stored.etag) == ("Second", second.etag)


@pytest.mark.parametrize("form", ["exact", "star", "weak", "list"])
async def test_update_with_matching_if_match(world: World, form: str) -> None:
    created = await world.service.create("alice", create_body())
    etag = created.etag
    if_match = {"exact": etag, "star": "*", "weak": f"W/{etag}", "list": f'"other", {etag}'}[form]
    updated = await world.service.update("alice", created.value.id, changes(title="Renamed"), if_match)
    stored = await world.stored(created.value.id)
    assert (stored.value.title, stored.value.version, stored.etag) == ("Renamed", 2, updated.etag)
    assert updated.etag != etag
    assert updated.value == stored.value


async def test_update_of_title_rewrites_entries_and_leaves_the_room_alone(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    world.clock.advance(timedelta(minutes=5))
    mark = world.mark()
    updated = (await world.service.update("alice", meeting.id, changes(title="Retro"), None)).value
    assert updated.updated_at == NOW + timedelta(minutes=5)
    assert updated.created_at == NOW
    assert world.acs.calls[mark:] == []
    for user in ("alice", "bob"):
        [entry] = await world.entries(user)
        assert (entry.title, entry.version) == ("Retro", 2)


async def test_update_of_times_moves_the_room_window(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    room = room_of(meeting)
    new_start, new_end = START + timedelta(hours=3), START + timedelta(hours=5)
    mark = world.mark()
    updated = (
        await world.service.update("alice", meeting.id, changes(starts_at=new_start, ends_at=new_end), None)
    ).value
    assert (updated.starts_at, updated.ends_at) == (new_start, new_end)
    assert world.acs.calls[mark:] == [
        ("update_room", room, iso(new_start - HALF_HOUR), iso(new_end + HALF_HOUR))
    ]
    assert world.acs.rooms[room] == (new_start - HALF_HOUR, new_end + HALF_HOUR)
    for user in ("alice", "bob"):
        [entry] = await world.entries(user)
        assert (entry.starts_at, entry.ends_at) == (new_start, new_end)


async def test_update_to_start_soon_opens_the_room_now(world: World) -> None:
    meeting = await create(world)
    await world.service.update("alice", meeting.id, changes(starts_at=NOW + timedelta(minutes=5)), None)
    assert world.acs.rooms[room_of(meeting)] == (NOW, END + HALF_HOUR)


async def test_update_of_end_alone_moves_the_room_window(world: World) -> None:
    meeting = await create(world)
    new_end = END + timedelta(hours=2)
    await world.service.update("alice", meeting.id, changes(ends_at=new_end), None)
    assert world.acs.rooms[room_of(meeting)] == (START - HALF_HOUR, new_end + HALF_HOUR)


@pytest.mark.parametrize(
    "fields",
    [
        {"starts_at": END},
        {"starts_at": END + timedelta(hours=1)},
        {"ends_at": START - timedelta(minutes=1)},
        {"ends_at": START + timedelta(hours=24, seconds=1)},
        {"starts_at": START + timedelta(hours=5), "ends_at": START + timedelta(hours=4)},
        {"ends_at": NOW - timedelta(minutes=1), "starts_at": NOW - timedelta(hours=1)},
    ],
    ids=["start-at-end", "start-after-end", "end-before-start", "too-long", "both-reversed", "in-the-past"],
)
async def test_update_breaking_the_schedule_is_invalid(world: World, fields: dict[str, Any]) -> None:
    meeting = await create(world)
    before = await world.stored(meeting.id)
    mark = world.mark()
    with pytest.raises(InvalidInput):
        await world.service.update("alice", meeting.id, changes(**fields), None)
    assert (await world.stored(meeting.id)).etag == before.etag
    assert world.acs.calls[mark:] == []


async def test_update_with_organizer_in_another_role_is_invalid(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    with pytest.raises(InvalidInput):
        await world.service.update(
            "alice", meeting.id, changes(participants=[("alice", "attendee"), ("bob", "attendee")]), None
        )
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter"), ("bob", "attendee")]


async def test_update_participants_keeps_organizer_first_when_omitted(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    updated = (
        await world.service.update("alice", meeting.id, changes(participants=[("carol", "consumer")]), None)
    ).value
    assert roles(updated) == [("alice", "presenter"), ("carol", "consumer")]
    assert [e.role for e in await world.entries("carol")] == [Role.CONSUMER]
    assert await world.entries("bob") == []


async def test_removal_via_patch_leaves_room_and_revokes_before_the_document_changes(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "attendee"), ("dave", "consumer")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    dave = await world.identity("dave")
    await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    await world.service.put_participant("alice", meeting.id, "dave", Role.ATTENDEE)
    assert await world.acs.room_members(room) == {bob: "presenter", dave: "attendee"}
    bobs_token = await world.acs.issue_token(bob, ["voip.join"], timedelta(hours=1))
    mark = world.mark()
    start = len(world.journal)

    await world.service.update("alice", meeting.id, changes(participants=[("dave", "attendee")]), None)

    # bob (with an ACS identity) leaves the room and loses his tokens, before the document changes and
    # again after (a join racing the PATCH); carol (none) needs no ACS call.
    leave = [("remove_room_members", room, bob), ("revoke_tokens", bob)]
    assert world.acs.calls[mark:] == leave * 2
    after = world.journal[start:]
    replaced = after.index(("replace_meeting", meeting.id))
    assert all(after.index(step) < replaced for step in leave)
    assert len([step for step in after[replaced:] if step in leave]) == 2
    assert await world.acs.room_members(room) == {dave: "attendee"}
    assert await world.acs.verify_token(bobs_token.token) is None
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter"), ("dave", "attendee")]
    assert await world.entries("bob") == []
    assert await world.entries("carol") == []
    assert [e.version for e in await world.entries("dave")] == [4]


async def test_removal_via_patch_when_acs_fails_leaves_the_document_as_it_was(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    bob = await world.identity("bob")
    before = await world.stored(meeting.id)
    world.acs.fail_next(CommunicationUnavailable("down", retry_after=3), method="revoke_tokens")
    with pytest.raises(Unavailable) as caught:
        await world.service.update("alice", meeting.id, changes(participants=[]), None)
    assert caught.value.retry_after == 3
    after = await world.stored(meeting.id)
    assert (after.etag, roles(after.value)) == (before.etag, [("alice", "presenter"), ("bob", "attendee")])
    assert len(await world.entries("bob")) == 1
    # The retry finishes the job.
    await world.service.update("alice", meeting.id, changes(participants=[]), None)
    # Failed once before the write, then before and after it.
    assert world.acs.calls_to("revoke_tokens") == [("revoke_tokens", bob)] * 3
    assert await world.entries("bob") == []


async def test_role_change_via_patch_is_pushed_to_the_room(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "attendee")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    mark = world.mark()
    await world.service.update(
        "alice", meeting.id, changes(participants=[("bob", "consumer"), ("carol", "presenter")]), None
    )
    # Only bob has an identity, so only bob reaches ACS.
    assert world.acs.calls[mark:] == [("upsert_room_members", room, f"{bob}=consumer")]
    assert await world.acs.room_members(room) == {bob: "consumer"}
    assert [e.role for e in await world.entries("carol")] == [Role.PRESENTER]


# --- participants ------------------------------------------------------------------------------------


async def test_put_participant_adds_a_user_without_identity_without_acs(world: World) -> None:
    meeting = await create(world)
    mark = world.mark()
    result = await world.service.put_participant("alice", meeting.id, "bob", Role.CONSUMER)
    assert (result.user_id, result.role) == ("bob", Role.CONSUMER)
    stored = await world.stored(meeting.id)
    assert roles(stored.value) == [("alice", "presenter"), ("bob", "consumer")]
    assert stored.value.version == 2
    assert [(e.role, e.version) for e in await world.entries("bob")] == [(Role.CONSUMER, 2)]
    assert world.acs.calls[mark:] == []
    # A newly added participant may now read the meeting.
    assert (await world.service.get("bob", meeting.id)).value.role_of("bob") is Role.CONSUMER


async def test_put_participant_pushes_the_role_for_users_with_identity(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    mark = world.mark()
    await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    assert world.acs.calls[mark:] == [("upsert_room_members", room, f"{bob}=presenter")]
    assert await world.acs.room_members(room) == {bob: "presenter"}
    assert [e.role for e in await world.entries("bob")] == [Role.PRESENTER]
    # The document changes before the room is told (only removals go the other way).
    start = world.journal.index(("replace_meeting", meeting.id))
    assert world.journal.index(("upsert_room_members", room, f"{bob}=presenter")) > start


async def test_put_participant_with_the_same_role_writes_nothing_new(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    before = await world.stored(meeting.id)
    await world.service.put_participant("alice", meeting.id, "bob", Role.ATTENDEE)
    after = await world.stored(meeting.id)
    assert (after.etag, after.value.version) == (before.etag, 1)


async def test_organizer_role_change_is_conflict(world: World) -> None:
    meeting = await create(world)
    with pytest.raises(Conflict):
        await world.service.put_participant("alice", meeting.id, "alice", Role.ATTENDEE)
    # Asserting what is already true is fine.
    assert (await world.service.put_participant("alice", meeting.id, "alice", Role.PRESENTER)).role is (
        Role.PRESENTER
    )
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter")]


async def test_organizer_removal_is_conflict(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    with pytest.raises(Conflict):
        await world.service.remove_participant("alice", meeting.id, "alice")
    assert roles((await world.stored(meeting.id)).value)[0] == ("alice", "presenter")


async def test_participant_changes_by_others_are_refused(world: World) -> None:
    meeting = await create(world, [("bob", "presenter")])
    with pytest.raises(Forbidden):
        await world.service.put_participant("bob", meeting.id, "carol", Role.ATTENDEE)
    with pytest.raises(Forbidden):
        await world.service.remove_participant("bob", meeting.id, "alice")
    with pytest.raises(NotFound):
        await world.service.put_participant("mallory", meeting.id, "mallory", Role.PRESENTER)
    assert (await world.stored(meeting.id)).value.version == 1


async def test_350_participants_at_most(world: World) -> None:
    others = [(f"user{n:03d}", "attendee") for n in range(349)]
    meeting = await create(world, others)
    assert len(meeting.participants) == 350
    with pytest.raises(Conflict):
        await world.service.put_participant("alice", meeting.id, "one-too-many", Role.CONSUMER)
    assert len((await world.stored(meeting.id)).value.participants) == 350
    # Changing a role at the limit is fine, and so is adding once someone has left.
    await world.service.put_participant("alice", meeting.id, "user000", Role.CONSUMER)
    await world.service.remove_participant("alice", meeting.id, "user001")
    await world.service.put_participant("alice", meeting.id, "one-too-many", Role.CONSUMER)
    assert len((await world.stored(meeting.id)).value.participants) == 350


async def test_create_with_350_others_is_invalid(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.service.create("alice", create_body([(f"user{n:03d}", "attendee") for n in range(350)]))
    assert world.acs.calls == []


async def test_remove_participant_with_identity_leaves_room_and_revokes_first(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "consumer")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    carol = await world.identity("carol")
    await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    await world.service.put_participant("alice", meeting.id, "carol", Role.ATTENDEE)
    bobs_token = await world.acs.issue_token(bob, ["voip.join"], timedelta(hours=1))
    carols_token = await world.acs.issue_token(carol, ["voip.join"], timedelta(hours=1))
    mark, start = world.mark(), len(world.journal)

    await world.service.remove_participant("alice", meeting.id, "bob")

    # Out of the room and revoked before the document changes, and again after it (a join racing this).
    leave = [("remove_room_members", room, bob), ("revoke_tokens", bob)]
    assert world.acs.calls[mark:] == leave * 2
    after = world.journal[start:]
    replaced = after.index(("replace_meeting", meeting.id))
    assert all(after.index(step) < replaced for step in leave)
    assert len([step for step in after[replaced:] if step in leave]) == 2
    assert await world.acs.room_members(room) == {carol: "attendee"}
    assert await world.acs.verify_token(bobs_token.token) is None
    assert await world.acs.verify_token(carols_token.token) is not None
    stored = await world.stored(meeting.id)
    assert roles(stored.value) == [("alice", "presenter"), ("carol", "attendee")]
    assert await world.entries("bob") == []
    with pytest.raises(NotFound):
        await world.service.get("bob", meeting.id)


async def test_remove_participant_without_identity_makes_no_acs_call(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    mark = world.mark()
    await world.service.remove_participant("alice", meeting.id, "bob")
    assert world.acs.calls[mark:] == []
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter")]
    assert await world.entries("bob") == []


async def test_remove_participant_when_acs_fails_keeps_them_listed(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.identity("bob")
    before = await world.stored(meeting.id)
    world.acs.fail_next(CommunicationRejected("nope"), method="revoke_tokens")
    with pytest.raises(UpstreamFailed):
        await world.service.remove_participant("alice", meeting.id, "bob")
    assert (await world.stored(meeting.id)).etag == before.etag
    assert len(await world.entries("bob")) == 1


async def test_remove_participant_whose_room_is_gone_still_revokes(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    bob = await world.identity("bob")
    await world.acs.delete_room(room_of(meeting))
    await world.service.remove_participant("alice", meeting.id, "bob")
    assert world.acs.calls[-1] == ("revoke_tokens", bob)
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter")]


async def test_remove_of_someone_not_listed_is_a_no_op(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    before = await world.stored(meeting.id)
    mark = world.mark()
    await world.service.remove_participant("alice", meeting.id, "carol")
    assert (await world.stored(meeting.id)).etag == before.etag
    assert world.acs.calls[mark:] == []


async def test_removing_again_finishes_the_acs_part_a_failed_removal_left(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    # The document was written but ACS failed after it: the retry finds bob gone and still revokes.
    removals = 0
    original = world.acs.remove_room_members

    async def second_fails(room_id: str, acs_user_ids: Any) -> None:
        nonlocal removals
        removals += 1
        if removals == 2:
            raise CommunicationUnavailable("down")
        await original(room_id, acs_user_ids)

    world.acs.remove_room_members = second_fails  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        await world.service.remove_participant("alice", meeting.id, "bob")
    assert roles((await world.stored(meeting.id)).value) == [("alice", "presenter")]
    await world.acs.upsert_room_members(room, [RoomMember(bob, Role.ATTENDEE)])
    token = await world.acs.issue_token(bob, ["voip.join"], timedelta(hours=1))
    world.clock.advance(timedelta(seconds=1))
    before = await world.stored(meeting.id)
    await world.service.remove_participant("alice", meeting.id, "bob")
    assert (await world.stored(meeting.id)).etag == before.etag
    assert await world.acs.room_members(room) == {}
    assert await world.acs.verify_token(token.token) is None


# --- cancel ------------------------------------------------------------------------------------------


async def test_cancel_deletes_the_room_revokes_tokens_and_marks_every_entry(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "consumer")])
    room = room_of(meeting)
    alice = await world.identity("alice")
    bob = await world.identity("bob")
    token = await world.acs.issue_token(bob, ["voip.join"], timedelta(hours=1))
    world.clock.advance(timedelta(minutes=1))
    mark = world.mark()

    await world.service.cancel("alice", meeting.id, None)

    stored = await world.stored(meeting.id)
    assert stored.value.status is MeetingStatus.CANCELLED
    assert stored.value.updated_at == NOW + timedelta(minutes=1)
    assert stored.value.version == 2
    assert room not in world.acs.rooms
    new_calls = world.acs.calls[mark:]
    assert new_calls[0] == ("delete_room", room)
    assert sorted(new_calls[1:]) == sorted([("revoke_tokens", alice), ("revoke_tokens", bob)])
    assert await world.acs.verify_token(token.token) is None
    for user in ("alice", "bob", "carol"):
        [entry] = await world.entries(user)
        assert (entry.status, entry.version) == (MeetingStatus.CANCELLED, 2)


async def test_cancel_twice_is_fine_and_runs_the_acs_cleanup_again(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    room = room_of(meeting)
    bob = await world.identity("bob")
    await world.service.cancel("alice", meeting.id, None)
    first = await world.stored(meeting.id)
    mark = world.mark()
    await world.service.cancel("alice", meeting.id, None)
    assert world.acs.calls[mark:] == [("delete_room", room), ("revoke_tokens", bob)]
    assert (await world.stored(meeting.id)).etag == first.etag


async def test_cancel_after_a_failed_acs_cleanup_finishes_it(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    room = room_of(meeting)
    world.acs.fail_next(CommunicationUnavailable("down"), method="delete_room")
    with pytest.raises(Unavailable):
        await world.service.cancel("alice", meeting.id, None)
    assert (await world.stored(meeting.id)).value.status is MeetingStatus.CANCELLED
    assert room in world.acs.rooms
    await world.service.cancel("alice", meeting.id, None)
    assert room not in world.acs.rooms
    assert [e.status for e in await world.entries("bob")] == [MeetingStatus.CANCELLED]


async def test_cancel_by_participant_is_forbidden_and_stale_if_match_fails(world: World) -> None:
    created = await world.service.create("alice", create_body([("bob", "attendee")]))
    meeting_id = created.value.id
    with pytest.raises(Forbidden):
        await world.service.cancel("bob", meeting_id, None)
    with pytest.raises(NotFound):
        await world.service.cancel("mallory", meeting_id, None)
    await world.service.update("alice", meeting_id, changes(title="Moved"), None)
    with pytest.raises(PreconditionFailed):
        await world.service.cancel("alice", meeting_id, created.etag)
    assert (await world.stored(meeting_id)).value.status is MeetingStatus.SCHEDULED
    assert room_of(created.value) in world.acs.rooms


async def test_cancel_with_matching_if_match(world: World) -> None:
    created = await world.service.create("alice", create_body())
    await world.service.cancel("alice", created.value.id, created.etag)
    assert (await world.stored(created.value.id)).value.status is MeetingStatus.CANCELLED


async def test_changes_to_a_cancelled_meeting_are_conflict(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.service.cancel("alice", meeting.id, None)
    cancelled = await world.stored(meeting.id)
    with pytest.raises(Conflict):
        await world.service.update("alice", meeting.id, changes(title="Revived"), None)
    with pytest.raises(Conflict):
        await world.service.put_participant("alice", meeting.id, "carol", Role.ATTENDEE)
    with pytest.raises(Conflict):
        await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    assert (await world.stored(meeting.id)).etag == cancelled.etag


async def test_removing_a_participant_from_a_cancelled_meeting_is_conflict(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.service.cancel("alice", meeting.id, None)
    cancelled = await world.stored(meeting.id)
    with pytest.raises(Conflict):
        await world.service.remove_participant("alice", meeting.id, "bob")
    assert (await world.stored(meeting.id)).etag == cancelled.etag
    assert [e.status for e in await world.entries("bob")] == [MeetingStatus.CANCELLED]


# --- list --------------------------------------------------------------------------------------------


def query(**fields: Any) -> ListMeetingsQuery:
    body: dict[str, Any] = {}
    for key, value in fields.items():
        body[{"from_": "from", "continuation_token": "continuationToken"}.get(key, key)] = (
            iso(value) if isinstance(value, datetime) else value
        )
    return ListMeetingsQuery.model_validate(body)


async def make_meetings(world: World, count: int) -> list[Meeting]:
    made = []
    for n in range(count):
        # Created out of order, and two share a start: the list is by (startsAt, id) whatever the order.
        start = START + timedelta(hours=(count - n) // 2 * 2)
        made.append(
            await create(world, [("bob", "attendee")], starts_at=start, ends_at=start + timedelta(hours=1))
        )
    return sorted(made, key=lambda m: (m.starts_at, m.id))


async def test_list_pages_through_with_signed_tokens(world: World) -> None:
    expected = await make_meetings(world, 5)
    await create(world, [("carol", "attendee")])  # bob is not in this one
    seen: list[str] = []
    tokens: list[str | None] = []
    token: str | None = None
    for _ in range(5):
        page = await world.service.list("bob", query(limit=2, continuation_token=token))
        seen.extend(e.meeting_id for e in page.items)
        assert all(e.user_id == "bob" for e in page.items)
        token = page.continuation_token
        tokens.append(token)
        if token is None:
            break
    assert seen == [m.id for m in expected]
    assert tokens[-1] is None
    assert len(tokens) == 3
    # The store's own continuation is not what the caller sees: it is wrapped and signed.
    first = tokens[0]
    assert first is not None
    assert first.count(".") == 1
    raw = await world.store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=2, continuation=None
    )
    assert raw.continuation is not None
    assert first != raw.continuation


async def test_list_filters_by_from_and_to(world: World) -> None:
    meetings = await make_meetings(world, 4)
    # from: meetings ending after it; to: meetings starting before it.
    frm = meetings[1].ends_at - timedelta(seconds=1)
    to = meetings[3].starts_at
    page = await world.service.list("bob", query(from_=frm, to=to, limit=10))
    assert [e.meeting_id for e in page.items] == [m.id for m in meetings[1:3]]
    assert page.continuation_token is None


async def test_list_with_a_tampered_token_is_invalid_input(world: World) -> None:
    await make_meetings(world, 3)
    page = await world.service.list("bob", query(limit=1))
    token = page.continuation_token
    assert token is not None
    body, mac = token.split(".")
    for bad in (f"{body}x.{mac}", f"{body}.{mac[::-1]}", "garbage", "\u00fc.\u00df", body):
        with pytest.raises(InvalidInput):
            await world.service.list("bob", query(limit=1, continuation_token=bad))


async def test_list_with_the_stores_raw_continuation_is_invalid_input(world: World) -> None:
    await make_meetings(world, 3)
    raw = await world.store.list_memberships(
        "bob", ends_after=None, starts_before=None, limit=1, continuation=None
    )
    assert raw.continuation is not None
    with pytest.raises(InvalidInput):
        await world.service.list("bob", query(limit=1, continuation_token=raw.continuation))


async def test_list_with_a_signed_token_the_store_cannot_resume_is_invalid_input(world: World) -> None:
    # E.g. a token minted before STORE changed: our signature, but a position this store cannot read.
    await make_meetings(world, 3)
    token = Signer(b"k" * 32, "continuation").sign({"u": "bob", "f": None, "t": None, "c": "garbage"})
    with pytest.raises(InvalidInput):
        await world.service.list("bob", query(limit=1, continuation_token=token))


async def test_list_with_another_users_token_is_invalid_input(world: World) -> None:
    await make_meetings(world, 3)
    alices = await world.service.list("alice", query(limit=1))
    assert alices.continuation_token is not None
    with pytest.raises(InvalidInput):
        await world.service.list("bob", query(limit=1, continuation_token=alices.continuation_token))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {"from_": START}),
        ({"from_": START}, {}),
        ({"from_": START}, {"from_": START + timedelta(seconds=1)}),
        ({"to": START + timedelta(days=5)}, {"to": START + timedelta(days=6)}),
        ({"to": START + timedelta(days=5)}, {"from_": START + timedelta(days=5)}),
    ],
    ids=["added-from", "dropped-from", "moved-from", "moved-to", "to-as-from"],
)
async def test_list_with_a_token_for_other_filters_is_invalid_input(
    world: World, first: dict[str, Any], second: dict[str, Any]
) -> None:
    await make_meetings(world, 4)
    page = await world.service.list("bob", query(limit=1, **first))
    assert page.continuation_token is not None
    with pytest.raises(InvalidInput):
        await world.service.list("bob", query(limit=1, continuation_token=page.continuation_token, **second))


async def test_list_token_may_change_limit(world: World) -> None:
    meetings = await make_meetings(world, 4)
    page = await world.service.list("bob", query(limit=1))
    rest = await world.service.list("bob", query(limit=10, continuation_token=page.continuation_token))
    assert [e.meeting_id for e in rest.items] == [m.id for m in meetings[1:]]


async def test_list_shows_cancelled_meetings_as_cancelled(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.service.cancel("alice", meeting.id, None)
    page = await world.service.list("bob", query())
    assert [(e.meeting_id, e.status) for e in page.items] == [(meeting.id, MeetingStatus.CANCELLED)]


# --- ACS failures ------------------------------------------------------------------------------------


async def test_room_window_update_with_acs_unavailable_is_unavailable(world: World) -> None:
    meeting = await create(world)
    world.acs.fail_next(CommunicationUnavailable("throttled", retry_after=12.5), method="update_room")
    with pytest.raises(Unavailable) as caught:
        await world.service.update("alice", meeting.id, changes(ends_at=END + timedelta(hours=1)), None)
    assert caught.value.retry_after == 12.5


async def test_role_push_with_acs_rejecting_is_upstream_failed(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.identity("bob")
    world.acs.fail_next(CommunicationRejected("bad role"), method="upsert_room_members")
    with pytest.raises(UpstreamFailed):
        await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)


async def test_room_missing_in_acs_on_window_update_is_conflict(world: World) -> None:
    meeting = await create(world)
    world.acs.fail_next(RoomNotFound(room_of(meeting)), method="update_room")
    with pytest.raises(Conflict):
        await world.service.update("alice", meeting.id, changes(ends_at=END + timedelta(hours=1)), None)


# --- concurrent writes -------------------------------------------------------------------------------


class RacingStore(InMemoryStore):
    """Before each of the next `races` meeting replacements, someone else changes the description."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 0
        self.rival_writes = 0

    async def replace_meeting(self, meeting: Meeting, etag: str) -> str:
        if self.races > 0:
            self.races -= 1
            current = await self.get_meeting(meeting.id)
            assert current is not None
            self.rival_writes += 1
            rival = current.value.model_copy(
                update={
                    "description": f"rival {self.rival_writes}",
                    "version": current.value.version + 1,
                }
            )
            await super().replace_meeting(rival, current.etag)
        return await super().replace_meeting(meeting, etag)


@pytest.fixture
def racing() -> tuple[World, RacingStore]:
    store = RacingStore()
    return make_world(store), store


async def test_lost_race_without_if_match_is_retried_on_fresh_data(racing: tuple[World, RacingStore]) -> None:
    world, store = racing
    meeting = await create(world, [("bob", "attendee")])
    store.races = 1
    updated = await world.service.update("alice", meeting.id, changes(title="Ours"), None)
    stored = await world.stored(meeting.id)
    # Both writes survive: the rival's description and our title, on top of the rival's version.
    assert (stored.value.title, stored.value.description, stored.value.version) == ("Ours", "rival 1", 3)
    assert stored.etag == updated.etag
    assert [(e.title, e.version) for e in await world.entries("bob")] == [("Ours", 3)]


async def test_lost_race_with_if_match_is_precondition_failed(racing: tuple[World, RacingStore]) -> None:
    world, store = racing
    created = await world.service.create("alice", create_body([("bob", "attendee")]))
    store.races = 1
    with pytest.raises(PreconditionFailed):
        await world.service.update("alice", created.value.id, changes(title="Ours"), created.etag)
    stored = await world.stored(created.value.id)
    assert (stored.value.title, stored.value.description) == ("Planning", "rival 1")
    assert [e.title for e in await world.entries("bob")] == ["Planning"]


async def test_losing_every_race_is_conflict(racing: tuple[World, RacingStore]) -> None:
    world, store = racing
    meeting = await create(world)
    store.races = 100
    with pytest.raises(Conflict):
        await world.service.update("alice", meeting.id, changes(title="Ours"), None)
    assert store.rival_writes == 3
    assert (await world.stored(meeting.id)).value.title == "Planning"


async def test_participant_changes_retry_a_lost_race(racing: tuple[World, RacingStore]) -> None:
    world, store = racing
    meeting = await create(world, [("bob", "attendee")])
    store.races = 1
    await world.service.put_participant("alice", meeting.id, "carol", Role.CONSUMER)
    store.races = 1
    await world.service.remove_participant("alice", meeting.id, "bob")
    stored = await world.stored(meeting.id)
    assert roles(stored.value) == [("alice", "presenter"), ("carol", "consumer")]
    assert stored.value.description == "rival 2"


async def test_cancel_retries_a_lost_race(racing: tuple[World, RacingStore]) -> None:
    world, store = racing
    meeting = await create(world)
    store.races = 1
    await world.service.cancel("alice", meeting.id, None)
    stored = await world.stored(meeting.id)
    assert (stored.value.status, stored.value.description) == (MeetingStatus.CANCELLED, "rival 1")


# --- display names -------------------------------------------------------------------------------------


async def test_a_new_name_alone_changes_the_document_not_the_room(world: World) -> None:
    meeting = await create(world, [("bob", "attendee")])
    await world.identity("bob")
    mark = world.mark()
    named = await world.service.put_participant(
        "alice", meeting.id, "bob", Role.ATTENDEE, display_name="Bob", set_name=True
    )
    assert named.display_name == "Bob"
    after = await world.stored(meeting.id)
    assert after.value.version == 2
    assert after.value.display_names() == {"bob": "Bob"}
    assert world.acs.calls[mark:] == []
    # Without set_name the name stays, whatever the role does.
    kept = await world.service.put_participant("alice", meeting.id, "bob", Role.PRESENTER)
    assert (kept.role, kept.display_name) == (Role.PRESENTER, "Bob")
    assert [c[0] for c in world.acs.calls[mark:]] == ["upsert_room_members"]


async def test_a_rename_racing_another_write_is_retried_or_412_with_if_match(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = await create(world, [("bob", "attendee")])
    original = world.store.replace_meeting
    raced: list[str] = []

    async def racing(changed: Meeting, etag: str) -> str:
        if not raced:  # another writer gets in between the read and this write, once
            raced.append(etag)
            current = await world.stored(changed.id)
            await original(current.value.model_copy(update={"title": "Other", "version": 2}), current.etag)
        return await original(changed, etag)

    monkeypatch.setattr(world.store, "replace_meeting", racing)
    before = await world.stored(meeting.id)
    with pytest.raises(PreconditionFailed):
        await world.service.rename_participant("bob", meeting.id, "bob", "Bob", before.etag)
    raced.clear()
    renamed = await world.service.rename_participant("bob", meeting.id, "bob", "Bob", None)
    stored = await world.stored(meeting.id)
    assert renamed.etag == stored.etag
    assert (stored.value.title, stored.value.display_names()) == ("Other", {"bob": "Bob"})


async def test_rename_rules(world: World) -> None:
    meeting = await create(world, [("bob", "attendee"), ("carol", "consumer")])
    with pytest.raises(Forbidden):
        await world.service.rename_participant("bob", meeting.id, "carol", "C", None)
    with pytest.raises(NotFound):
        await world.service.rename_participant("mallory", meeting.id, "mallory", "M", None)
    with pytest.raises(NotFound):
        await world.service.rename_participant("alice", meeting.id, "zed", "Z", None)
    assert (
        await world.service.rename_participant("carol", meeting.id, "carol", "C", None)
    ).value.display_name == "C"
    assert (
        await world.service.rename_participant("alice", meeting.id, "carol", None, None)
    ).value.display_name is None
