"""One ACS identity per app user, created at most once.

Concurrent first joins by the same user in one worker share a single creation (single flight). Two
workers racing each create one, the store keeps the first mapping written, and the loser deletes the
identity it made, so every user ends with exactly one identity and no orphan is left in ACS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from shared.domain.models import AcsIdentity
from shared.ports import AlreadyExists, Communication, CommunicationError, UserStore
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

_MAX_REMEMBERED = 10_000


class IdentityService:
    def __init__(
        self, store: UserStore, communication: Communication, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._store = store
        self._acs = communication
        self._clock = clock
        self._in_flight: dict[str, asyncio.Task[str]] = {}
        # Identities this worker created, so that a caller whose store read raced a finishing creation
        # does not start a second one. Bounded: cleared when full (the store still has them all).
        self._created: dict[str, str] = {}

    async def acs_user_id(self, user_id: str) -> str:
        """The user's ACS identity: one point read when it exists, created once when it does not."""
        existing = await self._store.get_identity(user_id)
        if existing is not None:
            return existing.acs_user_id
        # Created by this worker since our read: the read raced a creation that has just finished.
        created = self._created.get(user_id)
        if created is not None:
            return created
        task = self._in_flight.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._create(user_id))
            self._in_flight[user_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(user_id, None))
        # shield: one caller giving up (a dropped request) must not cancel the others' creation.
        return await asyncio.shield(task)

    async def _create(self, user_id: str) -> str:
        acs_user_id = await self._acs.create_user()
        try:
            await self._store.create_identity(
                AcsIdentity(user_id=user_id, acs_user_id=acs_user_id, created_at=self._clock())
            )
        except AlreadyExists:
            winner = await self._store.get_identity(user_id)
            assert winner is not None, "an identity that exists can be read"
            log.info("another worker created the ACS identity first; deleting ours")
            with contextlib.suppress(CommunicationError):
                await self._acs.delete_user(acs_user_id)
            return winner.acs_user_id
        except BaseException:
            # The mapping was not written: do not leave an identity nobody will ever use.
            with contextlib.suppress(CommunicationError):
                await self._acs.delete_user(acs_user_id)
            raise
        log.info("ACS identity created")
        if len(self._created) >= _MAX_REMEMBERED:
            self._created.clear()
        self._created[user_id] = acs_user_id
        return acs_user_id
