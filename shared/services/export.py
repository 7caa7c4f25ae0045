"""`GET /api/me/export`: everything the service holds about the caller, as one JSON document.

What counts as theirs: their ACS identity mapping, their membership entries, the meetings they organize
(whole), the transcript segments spoken by them (a speaker the transcript ties to their user id: an
unmixed recording's channel, or a diarized speaker the organizer named as them), and the action items of
the current summaries whose owner is one of their names in that transcript or meeting.

The document is produced piece by piece (an async iterator of JSON fragments, one item at a time), so
only one transcript is in memory at once while it is built. The Python worker's HTTP streaming needs the
FastAPI extension (azurefunctions-extensions-http-fastapi), which turns every function of the app into
its request/response types; without it the handler joins the pieces into one body (see functions/me.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from pydantic import BaseModel

from shared.domain.models import Meeting, Membership
from shared.domain.recording_paths import ARTIFACTS, SUMMARY_FILES, TRANSCRIPT_FILES, artifact_blob
from shared.domain.recordings import Recording
from shared.ports import BlobNotFound, BlobStore, Store
from shared.schemas import (
    AcsIdentityOut,
    ExportedActionItem,
    ExportedSegment,
    MeetingOut,
    MembershipOut,
)
from shared.summaries import Summary
from shared.timefmt import now as utc_now
from shared.transcripts import Transcript

log = logging.getLogger(__name__)

PAGE = 100


async def memberships_of(store: Store, user_id: str) -> AsyncIterator[Membership]:
    """Every membership entry of the user, page by page."""
    continuation: str | None = None
    while True:
        page = await store.list_memberships(
            user_id, ends_after=None, starts_before=None, limit=PAGE, continuation=continuation
        )
        for membership in page.items:
            yield membership
        if page.continuation is None:
            return
        continuation = page.continuation


def names_of(user_id: str, meeting: Meeting | None, transcript: Transcript | None) -> set[str]:
    """What a transcript or summary may call the user: their id, their name in the meeting, and the names
    the transcript gives the speakers tied to them."""
    names = {user_id}
    if meeting is not None:
        name = meeting.display_names().get(user_id)
        if name:
            names.add(name)
    if transcript is not None:
        names |= {s.display_name for s in transcript.speakers if s.user_id == user_id and s.display_name}
    return names


async def read_transcript(blobs: BlobStore, recording: Recording) -> Transcript | None:
    """The recording's transcript JSON, or None when it has none (yet, or any more)."""
    if TRANSCRIPT_FILES["json"][0] not in recording.artifacts:
        return None
    name = artifact_blob(recording.meeting_id, recording.id, TRANSCRIPT_FILES["json"][0])
    try:
        return Transcript.model_validate_json(await blobs.get(ARTIFACTS, name))
    except BlobNotFound:
        return None


class ExportService:
    def __init__(self, store: Store, blobs: BlobStore, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    async def export(self, user_id: str) -> AsyncIterator[bytes]:
        """The document's bytes, in pieces; joined, they are one `ExportOut`."""
        yield b'{"userId":' + _json(user_id) + b',"exportedAt":' + _json(self._clock().isoformat())
        identity = await self._store.get_identity(user_id)
        yield b',"acsIdentity":' + (
            _model(AcsIdentityOut(acs_user_id=identity.acs_user_id, created_at=identity.created_at))
            if identity is not None
            else b"null"
        )
        meeting_ids: list[str] = []
        yield b',"memberships":['
        async for membership in memberships_of(self._store, user_id):
            yield (b"," if meeting_ids else b"") + _model(MembershipOut.of(membership))
            meeting_ids.append(membership.meeting_id)
        yield b'],"meetingsOrganized":['
        first = True
        for meeting_id in meeting_ids:
            stored = await self._store.get_meeting(meeting_id)
            if stored is not None and stored.value.organizer_id == user_id:
                yield (b"" if first else b",") + _model(MeetingOut.of(stored.value))
                first = False
        # Segments first, then the action items gathered meanwhile: a transcript is read once.
        items: list[bytes] = []
        yield b'],"transcriptSegments":['
        first = True
        for meeting_id in meeting_ids:
            stored = await self._store.get_meeting(meeting_id)
            meeting = stored.value if stored is not None else None
            for recording in await self._store.list_recordings(meeting_id):
                transcript = await read_transcript(self._blobs, recording)
                if transcript is not None:
                    mine = {s.id for s in transcript.speakers if s.user_id == user_id}
                    for segment in transcript.segments:
                        if segment.speaker in mine:
                            piece = ExportedSegment(
                                meeting_id=meeting_id,
                                recording_id=recording.id,
                                start=segment.start,
                                end=segment.end,
                                text=segment.text,
                            )
                            yield (b"" if first else b",") + _model(piece)
                            first = False
                items += await self._action_items(recording, names_of(user_id, meeting, transcript))
        yield b'],"actionItems":[' + b",".join(items) + b"]}"

    async def _action_items(self, recording: Recording, names: set[str]) -> list[bytes]:
        if SUMMARY_FILES["json"][0] not in recording.artifacts:
            return []
        name = artifact_blob(recording.meeting_id, recording.id, SUMMARY_FILES["json"][0])
        try:
            summary = Summary.model_validate_json(await self._blobs.get(ARTIFACTS, name))
        except BlobNotFound:
            return []
        return [
            _model(
                ExportedActionItem(
                    meeting_id=recording.meeting_id,
                    recording_id=recording.id,
                    owner=item.owner,
                    task=item.task,
                    due=item.due,
                )
            )
            for item in summary.action_items
            if item.owner in names
        ]


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _model(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()
