"""What operators do without the portal: list the recordings that failed or do not move, across every
meeting, and start one again.

Operators are the users holding the `Operator` app role (Entra ID, or App Service authentication), and
locally the users ADMIN_USERS names (AUTH_MODE=dev only). Anyone else gets 403: the routes say nothing
about meetings to a caller who is not an operator.

Stuck: in a job's status (queued, transcribing, summarizing) and unchanged for STUCK_AFTER. A running job
renews its claim every 20 s (each renewal is a write), so a recording that has not changed for that long
has no live job: its message was lost, or its instance died and the reconciler has not yet found it.

A retry reuses what exists: a failed recording with a transcript summarizes again (as the organizer's
regenerate), one without transcribes again from its file (as a new upload would), and stuck work has its
job queued again (as the reconciler does for a claim that ran out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.auth import Caller
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.domain.recording_paths import RECORDINGS, TRANSCRIPT_FILES, RecordingRef
from shared.domain.recordings import Recording, RecordingStatus
from shared.logs import bind_meeting, bind_recording
from shared.ports import BlobStore, Store
from shared.services.reconciler import STUCK_QUEUES, Reconciler
from shared.services.recordings import RecordingService
from shared.signing import BadSignature, Signer
from shared.timefmt import now as utc_now
from shared.timefmt import stored_instant

log = logging.getLogger(__name__)

# The Entra app role (and App Service principal role) that makes a user an operator.
OPERATOR_ROLE = "Operator"
# Unchanged this long in a job's status: no job is working on it (see the module's docstring).
STUCK_AFTER = timedelta(minutes=30)

Listing = Literal["failed", "stuck"]
_STATUSES: dict[Listing, tuple[RecordingStatus, ...]] = {
    "failed": (RecordingStatus.FAILED,),
    "stuck": tuple(STUCK_QUEUES),
}


@dataclass(frozen=True, slots=True)
class OperatorPage:
    items: list[Recording]
    continuation_token: str | None


class OperatorService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        recordings: RecordingService,
        reconciler: Reconciler,
        signer: Signer,
        *,
        admin_users: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = utc_now,
        stuck_after: timedelta = STUCK_AFTER,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._recordings = recordings
        self._reconciler = reconciler
        self._signer = signer
        self._admin_users = admin_users
        self._clock = clock
        self._stuck_after = stuck_after

    def authorize(self, caller: Caller) -> None:
        if OPERATOR_ROLE in caller.roles or caller.user_id in self._admin_users:
            return
        raise Forbidden(
            f"only operators (the {OPERATOR_ROLE} app role) may see or retry recordings across meetings"
        )

    async def list(
        self, caller: Caller, listing: Listing, *, limit: int, continuation: str | None
    ) -> OperatorPage:
        """Failed or stuck recordings of every meeting, oldest update first, a page at a time."""
        self.authorize(caller)
        statuses = _STATUSES[listing]
        index, after = self._open(continuation, listing) if continuation is not None else (0, None)
        cutoff = self._clock() - self._stuck_after
        items: list[Recording] = []
        while index < len(statuses) and len(items) < limit:
            wanted = limit - len(items)
            page = await self._store.list_recordings_by_status(statuses[index], limit=wanted, after=after)
            done = len(page) < wanted
            if listing == "stuck":
                # Oldest update first: from the first recording that changed lately, none is stuck.
                old = [r for r in page if r.updated_at < cutoff]
                done = done or len(old) < len(page)
                page = old
            items += page
            if page:
                after = (page[-1].updated_at, page[-1].id)
            if done:
                index, after = index + 1, None
        token = None if index >= len(statuses) else self._seal(listing, index, after)
        return OperatorPage(items, token)

    async def retry(self, caller: Caller, meeting_id: str, recording_id: str) -> Recording:
        """Starts a failed or stuck recording again; the recording as it is now (its job queued)."""
        self.authorize(caller)
        bind_meeting(meeting_id)
        bind_recording(recording_id)
        stored = await self._store.get_recording(meeting_id, recording_id)
        if stored is None:
            raise NotFound(f"recording {recording_id} of meeting {meeting_id} was not found")
        recording = stored.value
        if recording.status == RecordingStatus.FAILED:
            if TRANSCRIPT_FILES["json"][0] in recording.artifacts:
                log.warning("an operator retries the summary of recording %s", recording_id)
                return await self._recordings.restart_summary(stored)
            return await self._transcribe_again(recording)
        if recording.status in STUCK_QUEUES:
            if not await self._reconciler.requeue(recording):
                claim = recording.claim
                until = claim.expires_at.isoformat() if claim is not None else "now"
                raise Conflict(
                    f"a job is working on the recording (its claim runs until {until}): wait for it"
                )
            log.warning("an operator queued the %s recording %s again", recording.status.value, recording_id)
            return await self._current(meeting_id, recording_id)
        raise Conflict(f"the recording is {recording.status.value}: there is nothing to retry")

    async def _transcribe_again(self, recording: Recording) -> Recording:
        parts = recording.source_parts or [recording.source_blob]
        for name in parts:
            if await self._blobs.info(RECORDINGS, name) is None:
                raise Conflict(
                    "the recording's file is not in storage (never uploaded, or deleted): "
                    "it must be uploaded again (POST .../upload gives a fresh URL)"
                )
        ref = RecordingRef(recording.meeting_id, recording.id)
        if not await self._recordings.queue_transcription(ref):
            raise Conflict("the recording changed meanwhile: read it again")
        log.warning("an operator queued recording %s for transcription again", recording.id)
        return await self._current(recording.meeting_id, recording.id)

    async def _current(self, meeting_id: str, recording_id: str) -> Recording:
        stored = await self._store.get_recording(meeting_id, recording_id)
        if stored is None:
            raise NotFound(f"recording {recording_id} of meeting {meeting_id} was not found")
        return stored.value

    # --- continuation tokens ------------------------------------------------------------------------------

    def _seal(self, listing: Listing, index: int, after: tuple[datetime, str] | None) -> str:
        at, last = (stored_instant(after[0]), after[1]) if after is not None else (None, None)
        return self._signer.sign({"l": listing, "i": index, "u": at, "r": last})

    def _open(self, token: str, listing: Listing) -> tuple[int, tuple[datetime, str] | None]:
        try:
            payload = self._signer.verify(token)
        except BadSignature:
            raise InvalidInput("continuationToken is not valid") from None
        if payload.get("l") != listing:
            raise InvalidInput("continuationToken belongs to another listing: repeat the same status")
        index, at, last = payload.get("i"), payload.get("u"), payload.get("r")
        if not isinstance(index, int) or not 0 <= index < len(_STATUSES[listing]):
            raise InvalidInput("continuationToken is not valid")
        if isinstance(at, str) and isinstance(last, str):
            try:
                return index, (datetime.fromisoformat(at), last)
            except ValueError:
                raise InvalidInput("continuationToken is not valid") from None
        return index, None
