"""Joining a meeting: an invited user gets an ACS token for the meeting's room, nobody else does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.domain.errors import Conflict
from shared.domain.models import MeetingStatus, Role
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
        log.info("token issued for role %s, expiring %s", role.value, iso(token.expires_on))
        return Joined(acs_user_id, token.token, token.expires_on, meeting.room_id, role, self._acs.endpoint)
