"""The live channel's door: a client access URL for the caller, in the groups of their meetings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.domain.models import MeetingStatus
from shared.ports import ClientAccess, UserStore
from shared.realtime.events import EventPublisher
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

# The meetings a connection follows: those not over for more than this (their recordings may still be
# processed), nearest first, at most MAX_GROUPS (a token names its groups, and a URL has a length). A
# meeting created or joined later reaches open connections through add_user_to_group.
RECENT = timedelta(days=30)
MAX_GROUPS = 100
PAGE = 100


class RealtimeService:
    def __init__(
        self, store: UserStore, events: EventPublisher, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock

    async def negotiate(self, caller: str) -> ClientAccess:
        meetings: list[str] = []
        continuation: str | None = None
        while len(meetings) < MAX_GROUPS:
            page = await self._store.list_memberships(
                caller,
                ends_after=self._clock() - RECENT,
                starts_before=None,
                limit=PAGE,
                continuation=continuation,
            )
            meetings += [m.meeting_id for m in page.items if m.status is not MeetingStatus.CANCELLED]
            continuation = page.continuation
            if continuation is None:
                break
        if len(meetings) > MAX_GROUPS:
            log.info("the caller is in more than %d recent meetings: the first are followed", MAX_GROUPS)
        return await self._events.client_access(caller, meetings[:MAX_GROUPS])
