"""Joining a meeting: an invited user gets an ACS token for the meeting's room, nobody else does."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.domain.errors import Conflict, NotFound
from shared.domain.models import RECORDING_NOTICE, Meeting, MeetingStatus, RecordingPolicy, Role
from shared.domain.rules import room_window, token_lifetime
from shared.ports import Communication, RoomMember
from shared.services.identities import IdentityService
from shared.services.meetings import MeetingService, call_acs
from shared.timefmt import iso
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

# The least a rooms call needs: join calls the identity is allowed into, nothing else (no chat, no
# starting calls with arbitrary users).
JOIN_SCOPES = ("voip.join",)


@dataclass(frozen=True, slots=True)
class Joined:
    acs_user_id: str
    token: str
    expires_on: datetime
    room_id: str
    role: Role
    endpoint: str
    consent: Consent
    meeting: Meeting  # as read for this join: what else the join does (captions) need not read it again


@dataclass(frozen=True, slots=True)
class Consent:
    """The recording notice a participant sees before joining, and their answer."""

    required: bool
    notice: str | None
    accepted: bool | None

    @classmethod
    def of(cls, meeting: Meeting, user_id: str) -> Consent:
        required = meeting.recording_policy is RecordingPolicy.CONSENT
        return cls(required, RECORDING_NOTICE if required else None, meeting.consent_of(user_id))


class JoinService:
    def __init__(
        self,
        meetings: MeetingService,
        identities: IdentityService,
        communication: Communication,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._meetings = meetings
        self._identities = identities
        self._acs = communication
        self._clock = clock

    async def join(self, caller: str, meeting_id: str) -> Joined:
        stored = await self._meetings.get(caller, meeting_id)  # outsiders: 404
        meeting = stored.value
        role = meeting.role_of(caller)
        assert role is not None, "get() admits only the organizer and participants"
        if meeting.status is MeetingStatus.CANCELLED or meeting.room_id is None:
            raise Conflict("the meeting is cancelled")
        at = self._clock()
        opens, closes = room_window(meeting.starts_at, meeting.ends_at)
        if at < opens:
            raise Conflict(f"the meeting's room opens at {iso(opens)}, 30 minutes before it starts")
        if at >= closes:
            raise Conflict(f"the meeting's room closed at {iso(closes)}, 30 minutes after it ended")
        acs_user_id = await call_acs(self._identities.acs_user_id(caller))
        # Re-asserting the member on every join makes the room follow the meeting even if an earlier
        # room update was lost: the meeting document decides who may be in the room, with what role.
        await call_acs(self._acs.upsert_room_members(meeting.room_id, [RoomMember(acs_user_id, role)]))
        token = await call_acs(self._acs.issue_token(acs_user_id, JOIN_SCOPES, token_lifetime(at, meeting)))
        await self._confirm(caller, meeting, acs_user_id)
        log.info("token issued for role %s, expiring %s", role.value, iso(token.expires_on))
        return Joined(
            acs_user_id,
            token.token,
            token.expires_on,
            meeting.room_id,
            role,
            self._acs.endpoint,
            Consent.of(meeting, caller),
            meeting,
        )

    async def _confirm(self, caller: str, meeting: Meeting, acs_user_id: str) -> None:
        """Reads the meeting again now that the room lists the caller and their token exists; if they were
        removed (or the meeting cancelled) meanwhile, takes both back and answers as if they had come late.

        Why this closes the race with a removal: removal writes the document first and only then takes the
        user out of the room and revokes their tokens (MeetingService). Either this read comes after that
        write, and sees the removal, so we undo what we just did; or it comes before it, and then our room
        update and our token came before it too, hence before the removal's revocation, which undoes them.
        No lock and no second document: it holds across instances and under retries, because each side
        re-reads or re-revokes after its own write, and a retried join or removal runs the same steps.
        The price: a user removed and re-invited within one join may see a fresh token revoked by the
        slower join's clean-up; joining again gives a new one (failing closed, never open).
        """
        try:
            current = (await self._meetings.get(caller, meeting.id)).value
        except NotFound:
            current = None
        except BaseException:
            # Unknown whether they are still in: fail closed (a member simply joins again).
            with contextlib.suppress(Exception):
                await self._take_back(meeting, acs_user_id)
            raise
        if current is not None and current.status is MeetingStatus.SCHEDULED:
            return
        log.info("removed or cancelled while joining: the token and the room membership are taken back")
        await self._take_back(meeting, acs_user_id)
        if current is None:
            raise NotFound(f"meeting {meeting.id} was not found")
        raise Conflict("the meeting is cancelled")

    async def _take_back(self, meeting: Meeting, acs_user_id: str) -> None:
        assert meeting.room_id is not None, "only a meeting with a room is joined"
        with contextlib.suppress(Conflict):  # the room is gone (cancelled): nobody is in it
            await call_acs(self._acs.remove_room_members(meeting.room_id, [acs_user_id]))
        await call_acs(self._acs.revoke_tokens(acs_user_id))
