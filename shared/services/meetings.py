"""Meetings and their participants: the rules of who may do what, kept in step with the ACS room.

The meeting document is the source of truth. Each participant's membership entry (for "my meetings")
is a projection of it, rewritten on every change of the meeting, so any later write repairs an earlier
partial failure. ACS is told about changes in the order that fails safe: a removed participant leaves
the room and loses their tokens before the document says so, and again after it says so (a join that read
the old document may have added them back meanwhile: see JoinService._confirm); everything else follows
the document (and joining re-asserts a member's role, so a missed room update heals at the next join).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from shared.domain.erasure import ERASED_USER_ID
from shared.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Unavailable,
    UpstreamFailed,
)
from shared.domain.models import Meeting, MeetingStatus, Membership, Participant, Role
from shared.domain.rules import MAX_PARTICIPANTS, check_horizon, check_schedule, room_window
from shared.logs import bind_meeting
from shared.ports import (
    Communication,
    CommunicationError,
    CommunicationRejected,
    CommunicationUnavailable,
    EtagMismatch,
    InvalidContinuation,
    RoomMember,
    RoomNotFound,
    Store,
    Stored,
)
from shared.realtime import events as ev
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.schemas import CreateMeeting, ListMeetingsQuery, UpdateMeeting
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.signing import BadSignature, Signer
from shared.timefmt import iso
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)
T = TypeVar("T")

# Writes to many partitions (one per participant) go out concurrently, but not all 350 at once.
FAN_OUT = 16
# Without If-Match a lost race is retried on fresh data: the caller asked for no precondition.
WRITE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class MeetingPage:
    items: list[Membership]
    continuation_token: str | None


async def fan_out(items: Iterable[T], work: Callable[[T], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(FAN_OUT)

    async def one(item: T) -> None:
        async with gate:
            await work(item)

    await asyncio.gather(*(one(item) for item in items))


def etag_matches(if_match: str | None, etag: str) -> bool:
    if if_match is None or if_match.strip() == "*":
        return True
    # Compared without quotes: stores differ in whether their ETags carry them (Cosmos does, its
    # emulator and SQLite do not), while HTTP always quotes them.
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    return etag.strip('"') in wanted


class MeetingService:
    def __init__(
        self,
        store: Store,
        communication: Communication,
        signer: Signer,
        clock: Callable[[], datetime] = utc_now,
        *,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
    ) -> None:
        self._store = store
        self._acs = communication
        self._signer = signer
        self._clock = clock
        self._events = events
        self._search = search

    # --- reading -----------------------------------------------------------------------------------

    async def get(self, caller: str, meeting_id: str) -> Stored[Meeting]:
        bind_meeting(meeting_id)
        stored = await self._store.get_meeting(meeting_id)
        # An outsider learns nothing, not even that the meeting exists.
        if stored is None or stored.value.role_of(caller) is None:
            raise NotFound(f"meeting {meeting_id} was not found")
        return stored

    async def list(self, caller: str, query: ListMeetingsQuery) -> MeetingPage:
        scope: dict[str, str | None] = {
            "u": caller,
            "f": iso(query.from_) if query.from_ else None,
            "t": iso(query.to) if query.to else None,
        }
        store_token = None
        if query.continuation_token is not None:
            store_token = self._open_continuation(query.continuation_token, scope)
        try:
            page = await self._store.list_memberships(
                caller,
                ends_after=query.from_,
                starts_before=query.to,
                limit=query.limit,
                continuation=store_token,
            )
        except InvalidContinuation as exc:
            raise InvalidInput("continuationToken is not valid") from exc
        token = None if page.continuation is None else self._signer.sign({**scope, "c": page.continuation})
        return MeetingPage(page.items, token)

    def _open_continuation(self, token: str, scope: dict[str, str | None]) -> str:
        try:
            payload = self._signer.verify(token)
        except BadSignature as exc:
            raise InvalidInput("continuationToken is not valid") from exc
        if any(payload.get(key) != value for key, value in scope.items()) or not isinstance(
            payload.get("c"), str
        ):
            raise InvalidInput("continuationToken belongs to another query: repeat the same from and to")
        return str(payload["c"])

    # --- creating ----------------------------------------------------------------------------------

    async def create(self, caller: str, request: CreateMeeting) -> Stored[Meeting]:
        at = self._clock()
        check_horizon(at, request.starts_at, request.ends_at)
        participants = _with_organizer(caller, request.participants_as_domain())
        meeting_id = str(uuid.uuid4())
        bind_meeting(meeting_id)
        room_id = await call_acs(
            self._acs.create_room(*self._room_window(request.starts_at, request.ends_at))
        )
        meeting = Meeting(
            id=meeting_id,
            title=request.title,
            description=request.description,
            organizer_id=caller,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            participants=participants,
            room_id=room_id,
            recording_policy=request.recording_policy,
            auto_captions=request.auto_captions,
            created_at=at,
            updated_at=at,
        )
        etag = await self._store.create_meeting(meeting)
        log.info("meeting created with %s participants, room %s", len(participants), room_id)
        await self._project(meeting, meeting.participants, removed=())
        # Nothing to announce yet (no one was told of it), but connections open now follow it from here.
        await self._events.join(meeting.id, [p.user_id for p in meeting.participants])
        return Stored(meeting, etag)

    # --- changing ----------------------------------------------------------------------------------

    async def update(
        self, caller: str, meeting_id: str, changes: UpdateMeeting, if_match: str | None
    ) -> Stored[Meeting]:
        for _ in range(WRITE_ATTEMPTS):
            stored = await self._for_organizer(caller, meeting_id, if_match)
            old = stored.value
            _require_scheduled(old)
            new = self._apply(old, changes)
            removed = [p for p in old.participants if new.role_of(p.user_id) is None]
            await self._leave_room(old, [p.user_id for p in removed])
            try:
                etag = await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                if if_match is not None:
                    raise PreconditionFailed("the meeting changed since it was read") from None
                continue
            # Again now that the document says so: see remove_participant.
            await self._leave_room(new, [p.user_id for p in removed])
            if changes.starts_at is not None or changes.ends_at is not None:
                await self._sync_room_window(new)
            await self._sync_room_roles(new, _changed_roles(old, new))
            await self._project(new, new.participants, removed)
            await self._announce_update(old, new, [p.user_id for p in removed])
            return Stored(new, etag)
        raise Conflict("the meeting is being changed by others: try again")

    def _apply(self, old: Meeting, changes: UpdateMeeting) -> Meeting:
        given = changes.model_fields_set
        update: dict[str, object] = {
            "version": old.version + 1,
            "updated_at": self._clock(),
        }
        for field in ("title", "description", "starts_at", "ends_at", "recording_policy", "auto_captions"):
            if field in given:
                update[field] = getattr(changes, field)
        if "participants" in given and changes.participants is not None:
            named = changes.display_names_given()
            update["participants"] = [
                p if p.user_id in named else p.model_copy(update={"display_name": _name_in(old, p.user_id)})
                for p in _with_organizer(old.organizer_id, changes.participants_as_domain())
            ]
        new = old.model_copy(update=update)
        if "starts_at" in given or "ends_at" in given:
            check_schedule(new.starts_at, new.ends_at)
            check_horizon(self._clock(), new.starts_at, new.ends_at)
        return new

    async def cancel(self, caller: str, meeting_id: str, if_match: str | None) -> None:
        for _ in range(WRITE_ATTEMPTS):
            stored = await self._for_organizer(caller, meeting_id, if_match)
            meeting = stored.value
            if meeting.status is MeetingStatus.CANCELLED:
                # Cancelling again finishes whatever a failed earlier attempt left undone in ACS.
                break
            meeting = meeting.model_copy(
                update={
                    "status": MeetingStatus.CANCELLED,
                    "version": meeting.version + 1,
                    "updated_at": self._clock(),
                }
            )
            try:
                await self._store.replace_meeting(meeting, stored.etag)
            except EtagMismatch:
                if if_match is not None:
                    raise PreconditionFailed("the meeting changed since it was read") from None
                continue
            break
        else:
            raise Conflict("the meeting is being changed by others: try again")
        if meeting.room_id is not None:
            await call_acs(self._acs.delete_room(meeting.room_id))
        await self._revoke([p.user_id for p in meeting.participants])
        await self._project(meeting, meeting.participants, removed=())
        # Told to everyone, then everyone leaves the group: a cancelled meeting has nothing more to say.
        await self._events.publish(ev.meeting_cancelled(meeting))
        await self._events.leave(meeting.id, [p.user_id for p in meeting.participants])
        log.info("meeting cancelled")

    async def put_participant(
        self,
        caller: str,
        meeting_id: str,
        user_id: str,
        role: Role,
        *,
        display_name: str | None = None,
        set_name: bool = False,
    ) -> Participant:
        """Invites `user_id` or changes their role; their display name too when `set_name` (None clears
        it), else they keep theirs."""
        for _ in range(WRITE_ATTEMPTS):
            stored = await self._for_organizer(caller, meeting_id, None)
            old = stored.value
            _require_scheduled(old)
            if user_id == old.organizer_id and role is not Role.PRESENTER:
                raise Conflict("the organizer is always a presenter")
            current = old.role_of(user_id)
            name = display_name if set_name else _name_in(old, user_id)
            participant = Participant(user_id=user_id, role=role, display_name=name)
            if current is role and name == _name_in(old, user_id):
                # Nothing changes; still re-assert the room and the entry, so a retry repairs them.
                await self._sync_room_roles(old, [participant])
                await self._project(old, [participant], removed=())
                await self._events.join(old.id, [user_id])
                return participant
            if current is None and len(old.participants) >= MAX_PARTICIPANTS:
                raise Conflict(f"a meeting has at most {MAX_PARTICIPANTS} participants")
            others = [p for p in old.participants if p.user_id != user_id]
            new = old.model_copy(
                update={
                    "participants": [*others, participant],
                    "version": old.version + 1,
                    "updated_at": self._clock(),
                }
            )
            try:
                await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                continue
            if current is not role:  # a new name alone is nothing ACS holds
                await self._sync_room_roles(new, [participant])
            await self._project(new, [participant], removed=())
            await self._events.join(new.id, [user_id])
            if current is not role:
                await self._events.publish(ev.participant_added(new, participant, current))
            return participant
        raise Conflict("the meeting is being changed by others: try again")

    async def rename_participant(
        self, caller: str, meeting_id: str, user_id: str, display_name: str | None, if_match: str | None
    ) -> Stored[Participant]:
        """Sets (None: clears) a participant's display name: the organizer names anyone, a participant
        only themself. Returns the participant with the meeting's new ETag (the meeting changed)."""
        for _ in range(WRITE_ATTEMPTS):
            stored = await self.get(caller, meeting_id)
            old = stored.value
            if caller not in (old.organizer_id, user_id):
                raise Forbidden("a participant may name only themself; the organizer names anyone")
            if not etag_matches(if_match, stored.etag):
                raise PreconditionFailed("the meeting changed since it was read (If-Match does not match)")
            _require_scheduled(old)
            if old.role_of(user_id) is None:
                raise NotFound(f"{user_id} is not a participant of meeting {meeting_id}")
            participants = [
                p.model_copy(update={"display_name": display_name}) if p.user_id == user_id else p
                for p in old.participants
            ]
            [participant] = [p for p in participants if p.user_id == user_id]
            if display_name == _name_in(old, user_id):
                return Stored(participant, stored.etag)  # nothing changes: the meeting keeps its ETag
            new = old.model_copy(
                update={"participants": participants, "version": old.version + 1, "updated_at": self._clock()}
            )
            try:
                etag = await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                if if_match is not None:
                    raise PreconditionFailed("the meeting changed since it was read") from None
                continue
            # Membership entries and the ACS room hold no names: nothing else to keep in step.
            return Stored(participant, etag)
        raise Conflict("the meeting is being changed by others: try again")

    async def remove_participant(self, caller: str, meeting_id: str, user_id: str) -> None:
        for _ in range(WRITE_ATTEMPTS):
            stored = await self._for_organizer(caller, meeting_id, None)
            old = stored.value
            _require_scheduled(old)
            if user_id == old.organizer_id:
                raise Conflict("the organizer cannot be removed: cancel the meeting instead")
            if old.role_of(user_id) is None:
                # Already gone: DELETE is idempotent, and a retry finishes what a failed one left undone in
                # ACS (the organizer could take anyone's tokens by inviting and removing them anyway).
                await self._leave_room(old, [user_id])
                return
            # Out of the room and its tokens revoked first: if that or the write fails, the document still
            # lists them and a retry does it again.
            await self._leave_room(old, [user_id])
            new = old.model_copy(
                update={
                    "participants": [p for p in old.participants if p.user_id != user_id],
                    "version": old.version + 1,
                    "updated_at": self._clock(),
                }
            )
            try:
                await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                continue
            # And again once the document no longer lists them: a join that read the old document may have
            # put them back in the room or got a token after the first revocation. Its own re-read after
            # issuing sees this write, or came before it, so this revocation (issued-before-now) covers its
            # token: between the two, no interleaving leaves them a token or a seat (JoinService._confirm).
            await self._leave_room(new, [user_id])
            await self._project(new, [], removed=[Participant(user_id=user_id, role=Role.ATTENDEE)])
            await self._announce_removal(new, [user_id])
            return
        raise Conflict("the meeting is being changed by others: try again")

    async def consent(self, caller: str, meeting_id: str, accepted: bool) -> Meeting:
        """Records the caller's answer to the meeting's recording notice (any participant, any policy)."""
        for _ in range(WRITE_ATTEMPTS):
            stored = await self.get(caller, meeting_id)
            old = stored.value
            _require_scheduled(old)
            if old.consents.get(caller) is accepted:
                return old
            new = old.model_copy(
                update={
                    "consents": {**old.consents, caller: accepted},
                    "version": old.version + 1,
                    "updated_at": self._clock(),
                }
            )
            try:
                await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                continue
            log.info("recording consent %s", "accepted" if accepted else "declined")
            return new
        raise Conflict("the meeting is being changed by others: try again")

    async def forget(self, meeting_id: str, user_id: str, new_organizer: str | None) -> str | None:
        """Erasure's part in one meeting: `user_id` leaves it whatever its state, without a caller's rules.

        Their organizer's seat goes to `new_organizer` if that names another participant (`handed_over`),
        else the meeting is cancelled and its organizer becomes ERASED_USER_ID (`cancelled`); a participant
        just leaves (`left`). None when the meeting does not list them (any more): a rerun of a step.
        """
        for _ in range(WRITE_ATTEMPTS):
            stored = await self._store.get_meeting(meeting_id)
            if stored is None:
                return None
            old = stored.value
            organizer = old.organizer_id == user_id
            if old.role_of(user_id) is None and not organizer:
                if await self._drop_consent(stored, user_id):
                    return None
                continue
            others = [p for p in old.participants if p.user_id != user_id]
            update: dict[str, object] = {"version": old.version + 1, "updated_at": self._clock()}
            outcome = "left"
            if organizer and new_organizer is not None and old.role_of(new_organizer) is not None:
                outcome = "handed_over"
                others = [
                    p.model_copy(update={"role": Role.PRESENTER}) if p.user_id == new_organizer else p
                    for p in others
                ]
                update["organizer_id"] = new_organizer
            elif organizer:
                outcome = "cancelled"
                update.update({"organizer_id": ERASED_USER_ID, "status": MeetingStatus.CANCELLED})
            # Out of the room and tokens revoked first: if that fails, the document still lists them.
            if old.status is MeetingStatus.SCHEDULED:
                await self._leave_room(old, [user_id])
            else:
                await self._revoke([user_id])
            consents = {u: a for u, a in old.consents.items() if u != user_id}
            new = old.model_copy(update={**update, "participants": others, "consents": consents})
            try:
                await self._store.replace_meeting(new, stored.etag)
            except EtagMismatch:
                continue
            if outcome == "cancelled" and old.status is MeetingStatus.SCHEDULED:
                if new.room_id is not None:
                    await call_acs(self._acs.delete_room(new.room_id))
                await self._revoke([p.user_id for p in others])
                await self._events.publish(ev.meeting_cancelled(new))
                await self._events.leave(new.id, [p.user_id for p in others])
            if outcome == "handed_over" and new.status is MeetingStatus.SCHEDULED:
                await self._sync_room_roles(new, [p for p in others if p.user_id == new_organizer])
            await self._project(new, others, removed=[Participant(user_id=user_id, role=Role.ATTENDEE)])
            await self._announce_removal(new, [user_id])
            log.info("erasure: a participant %s the meeting", outcome.replace("_", " "))
            return outcome
        raise Conflict("the meeting is being changed by others: try again")

    async def _drop_consent(self, stored: Stored[Meeting], user_id: str) -> bool:
        """Forgets the answer of someone no longer listed (removed before); False: lost a race to a write."""
        old = stored.value
        if user_id not in old.consents:
            return True
        forgotten = {u: a for u, a in old.consents.items() if u != user_id}
        changed = {"consents": forgotten, "version": old.version + 1, "updated_at": self._clock()}
        try:
            await self._store.replace_meeting(old.model_copy(update=changed), stored.etag)
        except EtagMismatch:
            return False
        return True

    # --- events ------------------------------------------------------------------------------------

    async def _announce_update(self, old: Meeting, new: Meeting, removed: Sequence[str]) -> None:
        await self._announce_removal(new, removed)
        changed = _changed_roles(old, new)
        await self._events.join(new.id, [p.user_id for p in changed if old.role_of(p.user_id) is None])
        await self._events.publish(
            ev.meeting_updated(new), *(ev.participant_added(new, p, old.role_of(p.user_id)) for p in changed)
        )

    async def _announce_removal(self, meeting: Meeting, user_ids: Sequence[str]) -> None:
        """Out of the group first, then told: the removed user hears of their removal (sent to them
        directly), and of the meeting nothing after it."""
        await self._events.leave(meeting.id, user_ids)
        for user_id in user_ids:
            await self._events.publish(ev.participant_removed(meeting, user_id), also_to=[user_id])

    # --- helpers -----------------------------------------------------------------------------------

    async def _for_organizer(self, caller: str, meeting_id: str, if_match: str | None) -> Stored[Meeting]:
        stored = await self.get(caller, meeting_id)
        if stored.value.organizer_id != caller:
            raise Forbidden("only the organizer may change this meeting")
        if not etag_matches(if_match, stored.etag):
            raise PreconditionFailed("the meeting changed since it was read (If-Match does not match)")
        return stored

    async def _project(
        self, meeting: Meeting, participants: Sequence[Participant], removed: Sequence[Participant]
    ) -> None:
        """Writes the membership entries: one per participant, in the user's partition."""

        async def put(participant: Participant) -> None:
            await self._store.put_membership(Membership.of(meeting, participant))

        async def drop(participant: Participant) -> None:
            await self._store.remove_membership(participant.user_id, meeting.id, meeting.version)

        # Title, times and status are copied into every entry: when they change, every entry changes.
        await fan_out(participants, put)
        await fan_out(removed, drop)
        # Who may find the meeting's passages in search follows the same write.
        await self._search.members_changed(meeting)

    async def _acs_ids(self, user_ids: Iterable[str]) -> dict[str, str]:
        """App user id to ACS user id, for those who have joined at least once (the others have none)."""
        found: dict[str, str] = {}

        async def look(user_id: str) -> None:
            identity = await self._store.get_identity(user_id)
            if identity is not None:
                found[user_id] = identity.acs_user_id

        await fan_out(user_ids, look)
        return found

    async def _leave_room(self, meeting: Meeting, user_ids: Sequence[str]) -> None:
        if not user_ids:
            return
        acs_ids = await self._acs_ids(user_ids)
        if not acs_ids:
            return
        if meeting.room_id is not None:
            with contextlib.suppress(Conflict):  # the room is gone: nobody is in it
                await call_acs(self._acs.remove_room_members(meeting.room_id, list(acs_ids.values())))
        await fan_out(acs_ids.values(), lambda acs_id: call_acs(self._acs.revoke_tokens(acs_id)))

    async def _revoke(self, user_ids: Sequence[str]) -> None:
        acs_ids = await self._acs_ids(user_ids)
        await fan_out(acs_ids.values(), lambda acs_id: call_acs(self._acs.revoke_tokens(acs_id)))

    async def _sync_room_window(self, meeting: Meeting) -> None:
        if meeting.room_id is not None:
            window = self._room_window(meeting.starts_at, meeting.ends_at)
            await call_acs(self._acs.update_room(meeting.room_id, *window))

    def _room_window(self, starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
        """The room's window, never opening in the past (ACS refuses a validFrom before now)."""
        opens, closes = room_window(starts_at, ends_at)
        return max(opens, self._clock().replace(microsecond=0)), closes

    async def _sync_room_roles(self, meeting: Meeting, participants: Sequence[Participant]) -> None:
        if meeting.room_id is None or not participants:
            return
        acs_ids = await self._acs_ids(p.user_id for p in participants)
        members = [RoomMember(acs_ids[p.user_id], p.role) for p in participants if p.user_id in acs_ids]
        if members:
            await call_acs(self._acs.upsert_room_members(meeting.room_id, members))


async def call_acs(call: Awaitable[T]) -> T:
    """Awaits an ACS call, turning the port's errors into the domain's (Conflict, 503, 502)."""
    try:
        return await call
    except RoomNotFound as exc:
        raise Conflict("the meeting's ACS room no longer exists") from exc
    except CommunicationUnavailable as exc:
        raise Unavailable("Azure Communication Services is unavailable: try again", exc.retry_after) from exc
    except CommunicationRejected as exc:
        log.error("ACS rejected a request: %s", exc)
        raise UpstreamFailed("Azure Communication Services rejected the request") from exc
    except CommunicationError as exc:
        log.error("ACS failed: %s", exc)
        raise Unavailable("Azure Communication Services failed: try again") from exc


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise Conflict("the meeting is cancelled")


def _with_organizer(organizer_id: str, participants: Sequence[Participant]) -> list[Participant]:
    """The organizer is always a presenter, and always first."""
    for participant in participants:
        if participant.user_id == organizer_id and participant.role is not Role.PRESENTER:
            raise InvalidInput(
                "the organizer is always a presenter",
                [{"field": "participants", "message": "the organizer's role must be presenter"}],
            )
    others = [p for p in participants if p.user_id != organizer_id]
    given = next((p for p in participants if p.user_id == organizer_id), None)
    if len(others) + 1 > MAX_PARTICIPANTS:
        raise InvalidInput(
            f"a meeting has at most {MAX_PARTICIPANTS} participants, the organizer included",
            [{"field": "participants", "message": f"at most {MAX_PARTICIPANTS - 1} besides the organizer"}],
        )
    name = None if given is None else given.display_name
    return [Participant(user_id=organizer_id, role=Role.PRESENTER, display_name=name), *others]


def _name_in(meeting: Meeting, user_id: str) -> str | None:
    return next((p.display_name for p in meeting.participants if p.user_id == user_id), None)


def _changed_roles(old: Meeting, new: Meeting) -> list[Participant]:
    return [p for p in new.participants if old.role_of(p.user_id) is not p.role]
