"""`DELETE /api/me`: a user's erasure, as a job on the `erasure-jobs` queue (idempotent and resumable).

The request writes the job's document (shared/domain/erasure.py) and queues a message naming only its
key (a hash): no queue message holds the user's id. The job then works in steps, each recorded with an
ETag write before the next begins, so a crash or a second delivery redoes at most the step in flight,
and every step can be redone without harm:

1. the plan: the meetings the user is part of (their membership entries) and the names they go by;
2. per meeting (the cursor counts those done): in each recording, their transcript segments become
   "[removed]" and their speaker "a former participant" (JSON and the three renderings), their words
   and names in every summary version likewise (and `summary.md` rendered again), the recording
   document forgets them (creator, channel, summary editor); then the meeting: they leave it, or the
   meetings they organize are handed over (`?newOrganizer=`, a participant) or cancelled;
3. the ACS identity deleted (its tokens die with it);
4. the search index told: the scrubbed recordings indexed again, the meetings' member ids rewritten;
5. their partition purged (membership entries, tombstones, the identity mapping), and the job's
   document completed: counts kept, the user id, names and plan wiped.

Not reached: meetings they were removed from before (no membership entry leads there), and the audio
of recordings (a voice is not text; retention deletes sources).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.erasure import (
    ERASED_USER_ID,
    FORMER_PARTICIPANT,
    REMOVED_WORDS,
    Erasure,
    ErasureStatus,
    erasure_key,
)
from shared.domain.errors import Conflict, InvalidInput, NotFound
from shared.domain.models import Meeting
from shared.domain.recording_paths import (
    ARTIFACTS,
    SUMMARY_FILES,
    TRANSCRIPT_FILES,
    artifact_blob,
    recording_prefix,
)
from shared.domain.recordings import Recording
from shared.logs import log_context
from shared.ports import AlreadyExists, BlobStore, Communication, EtagMismatch, QueueStore, Store
from shared.services import recording_state
from shared.services.export import memberships_of, read_transcript
from shared.services.meetings import MeetingService, call_acs
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.summaries import Summary, to_markdown
from shared.timefmt import now as utc_now
from shared.transcripts import to_json, to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

ERASURE_JOBS = "erasure-jobs"
# Names shorter than this are replaced only where a whole field is the name: as words they would hit
# ordinary text ("a", "al").
MIN_NAME_IN_TEXT = 3
SUMMARY_VERSIONS = "/summary-versions/"


def job_message(key: str) -> str:
    return json.dumps({"erasure": key})


def parse_job_message(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    key = body.get("erasure") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key.startswith("erasure-") else None


class ErasureInterrupted(Exception):
    """Another delivery of the job wrote its document meanwhile: this one stops; the queue retries it."""


@dataclass(frozen=True, slots=True)
class _Subject:
    user_id: str
    names: frozenset[str]


class ErasureService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        communication: Communication,
        meetings: MeetingService,
        *,
        clock: Callable[[], datetime] = utc_now,
        search: SearchIndexing = NO_INDEXING,
    ) -> None:
        self._search = search
        self._store = store
        self._blobs = blobs
        self._queues = queues
        self._acs = communication
        self._meetings = meetings
        self._clock = clock

    # --- the requests --------------------------------------------------------------------------------

    async def request(self, user_id: str, new_organizer: str | None) -> Erasure:
        """Starts the caller's erasure, or resumes the one under way (its message is queued again)."""
        if new_organizer == user_id:
            raise InvalidInput("newOrganizer must name someone else", [_field_error("newOrganizer")])
        key = erasure_key(user_id)
        for _ in range(3):
            stored = await self._store.get_erasure(key)
            if stored is not None and stored.value.status is not ErasureStatus.COMPLETED:
                await self._queues.send(ERASURE_JOBS, job_message(key))
                return stored.value
            now = self._clock()
            erasure = Erasure(
                id=str(uuid.uuid4()),
                key=key,
                user_id=user_id,
                new_organizer=new_organizer,
                created_at=now,
                updated_at=now,
            )
            try:
                await self._store.put_erasure(erasure, None if stored is None else stored.etag)
            except (AlreadyExists, EtagMismatch):
                continue  # a second request at the same time: read what it wrote
            await self._queues.send(ERASURE_JOBS, job_message(key))
            log.info("erasure %s queued", erasure.id)
            return erasure
        raise Conflict("the erasure is being requested by another request: try again")

    async def status(self, user_id: str) -> Erasure:
        stored = await self._store.get_erasure(erasure_key(user_id))
        if stored is None:
            raise NotFound("no erasure was requested")
        return stored.value

    # --- the job --------------------------------------------------------------------------------------

    async def run(self, key: str) -> Erasure | None:
        """Runs the job from where it stands; the completed document (None: no such job)."""
        stored = await self._store.get_erasure(key)
        if stored is None:
            log.warning("erasure job for an unknown key: dropped")
            return None
        erasure, etag = stored.value, stored.etag
        log.info("erasure %s: %s", erasure.id, erasure.status.value)
        if erasure.status is ErasureStatus.COMPLETED:
            return erasure
        assert erasure.user_id is not None  # only a completed job has none
        user_id = erasure.user_id
        if erasure.meeting_ids is None:
            erasure.meeting_ids, erasure.names = await self._plan(user_id)
            erasure.status = ErasureStatus.RUNNING
            erasure.attempts += 1
            etag = await self._save(erasure, etag)
        subject = _Subject(user_id, frozenset({user_id, *erasure.names}))
        while erasure.cursor < len(erasure.meeting_ids):
            meeting_id = erasure.meeting_ids[erasure.cursor]
            with log_context(meeting=meeting_id):
                etag = await self._in_meeting(erasure, etag, meeting_id, subject)
        if not erasure.identity_done:
            identity = await self._store.get_identity(user_id)
            if identity is not None:
                await call_acs(self._acs.delete_user(identity.acs_user_id))
                erasure.counts.acs_identity_deleted = True
            erasure.identity_done = True
            etag = await self._save(erasure, etag)
        erasure.counts.search_index_updated = await self._update_search_index(user_id, erasure.meeting_ids)
        erasure.counts.documents_deleted += await self._store.purge_user(user_id)
        erasure.status = ErasureStatus.COMPLETED
        erasure.completed_at = self._clock()
        erasure.user_id = None
        erasure.new_organizer = None
        erasure.names = []
        erasure.meeting_ids = []
        await self._save(erasure, etag)
        log.info("erasure completed: %s", erasure.counts.model_dump_json(by_alias=True))
        return erasure

    async def _plan(self, user_id: str) -> tuple[list[str], list[str]]:
        meeting_ids: list[str] = []
        names: set[str] = set()
        async for membership in memberships_of(self._store, user_id):
            meeting_ids.append(membership.meeting_id)
            stored = await self._store.get_meeting(membership.meeting_id)
            if stored is not None:
                name = stored.value.display_names().get(user_id)
                if name:
                    names.add(name)
        return meeting_ids, sorted(names)

    async def _save(self, erasure: Erasure, etag: str) -> str:
        erasure.updated_at = self._clock()
        try:
            return await self._store.put_erasure(erasure, etag)
        except EtagMismatch:
            raise ErasureInterrupted("another delivery of this erasure job moved it on") from None

    async def _update_search_index(self, user_id: str, meeting_ids: list[str]) -> bool:
        """The scrubbed recordings of `meeting_ids` indexed again (the user's words gone from the passages)
        and each meeting's member ids rewritten without them. False when the app has no search index.

        An index that fails here is logged by SearchIndexing and does not hold the erasure up: searches
        are checked against the store, so the user finds nothing and nobody finds them by membership;
        the passages are replaced at the recording's next change."""
        del user_id  # gone from the meetings already: their member ids are rewritten from the store
        if not self._search.enabled:
            return False
        for meeting_id in meeting_ids:
            stored = await self._store.get_meeting(meeting_id)
            if stored is None:
                await self._search.meeting_removed(meeting_id)
                continue
            await self._search.members_changed(stored.value)
            for recording in await self._store.list_recordings(meeting_id):
                await self._search.recording_changed(stored.value, recording)
        return True

    # --- one meeting ------------------------------------------------------------------------------------

    async def _in_meeting(self, erasure: Erasure, etag: str, meeting_id: str, subject: _Subject) -> str:
        """Erases the user from one meeting, a step per recording then one for the meeting, each recorded
        (the cursor moves, counts added) before the next: a rerun redoes only the step in flight."""
        stored = await self._store.get_meeting(meeting_id)
        meeting = stored.value if stored is not None else None
        for recording in await self._store.list_recordings(meeting_id):
            if recording.id in erasure.recordings_done:
                continue
            segments = await self._scrub_recording(recording, meeting, subject)
            if segments is not None:
                erasure.counts.recordings_scrubbed += 1
                erasure.counts.segments_removed += segments
            erasure.recordings_done.append(recording.id)
            etag = await self._save(erasure, etag)
        outcome = await self._meetings.forget(meeting_id, subject.user_id, erasure.new_organizer)
        erasure.counts.meetings_left += outcome == "left"
        erasure.counts.meetings_handed_over += outcome == "handed_over"
        erasure.counts.meetings_cancelled += outcome == "cancelled"
        erasure.counts.memberships_removed += 1
        erasure.cursor += 1
        erasure.recordings_done = []
        return await self._save(erasure, etag)

    async def _scrub_recording(
        self, recording: Recording, meeting: Meeting | None, subject: _Subject
    ) -> int | None:
        """Their words and names out of the recording's notes and document; segments removed, or None
        when the recording held nothing of theirs."""
        transcript = await read_transcript(self._blobs, recording)
        theirs: set[str] = set()
        words: list[str] = []
        names = set(subject.names)
        removed = 0
        if transcript is not None:
            theirs = {s.id for s in transcript.speakers if s.user_id == subject.user_id}
            names |= {s.display_name for s in transcript.speakers if s.id in theirs and s.display_name}
            words = sorted(
                {s.text.strip() for s in transcript.segments if s.speaker in theirs and s.text.strip()}
                - {REMOVED_WORDS},
                key=len,
                reverse=True,
            )
            scrubber = _Scrubber(names, words)
            scrubbed = transcript.model_copy(
                update={
                    "speakers": [
                        s.model_copy(update={"user_id": None, "display_name": FORMER_PARTICIPANT})
                        if s.id in theirs
                        else s
                        for s in transcript.speakers
                    ],
                    "segments": [
                        seg.model_copy(
                            update={
                                "text": REMOVED_WORDS if seg.speaker in theirs else scrubber.text(seg.text)
                            }
                        )
                        for seg in transcript.segments
                    ],
                }
            )
            removed = sum(
                1 for seg in transcript.segments if seg.speaker in theirs and seg.text != REMOVED_WORDS
            )
            if scrubbed != transcript:
                renderings = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}
                for fmt, (file, media_type) in TRANSCRIPT_FILES.items():
                    await self._blobs.put(
                        ARTIFACTS,
                        artifact_blob(recording.meeting_id, recording.id, file),
                        renderings[fmt](scrubbed).encode(),
                        content_type=media_type,
                    )
        summaries_changed = await self._scrub_summaries(recording, meeting, _Scrubber(names, words), theirs)
        document_changed = await self._scrub_document(recording, subject.user_id)
        if removed or summaries_changed or document_changed or (transcript is not None and theirs):
            return removed
        return None

    async def _scrub_summaries(
        self, recording: Recording, meeting: Meeting | None, scrubber: _Scrubber, theirs: set[str]
    ) -> bool:
        changed = False
        current: Summary | None = None
        prefix = recording_prefix(recording.meeting_id, recording.id)
        current_name = prefix + SUMMARY_FILES["json"][0]
        async for blob in self._blobs.list_blobs(ARTIFACTS, prefix=prefix):
            if blob.name != current_name and SUMMARY_VERSIONS not in "/" + blob.name:
                continue
            body = json.loads(await self._blobs.get(ARTIFACTS, blob.name))
            scrubbed = scrubber.summary(body, theirs)
            summary = Summary.model_validate(scrubbed)  # still a summary: never write one that is not
            if blob.name == current_name:
                current = summary
            if scrubbed != body:
                await self._blobs.put(
                    ARTIFACTS, blob.name, json.dumps(scrubbed).encode(), content_type="application/json"
                )
                changed = True
        if changed and current is not None:
            name, media_type = SUMMARY_FILES["md"]
            title = meeting.title if meeting is not None else None
            await self._blobs.put(
                ARTIFACTS,
                artifact_blob(recording.meeting_id, recording.id, name),
                to_markdown(current, title=title).encode(),
                content_type=media_type,
            )
        return changed

    async def _scrub_document(self, recording: Recording, user_id: str) -> bool:
        changed: list[bool] = []

        def forget(current: Recording) -> Recording | None:
            touched = current.created_by == user_id
            if touched:
                current.created_by = ERASED_USER_ID
            for channel in current.channels:
                if channel.user_id == user_id:
                    channel.user_id = ERASED_USER_ID
                    touched = True
            for version in current.summary_versions:
                if version.by == user_id:
                    version.by = ERASED_USER_ID
                    touched = True
            if not touched:
                return None
            changed.append(True)
            return current

        await recording_state.update(
            self._store, recording.meeting_id, recording.id, forget, clock=self._clock
        )
        return bool(changed)


class _Scrubber:
    """Replaces the user's words (whole segment texts of theirs, wherever quoted) and names in text."""

    def __init__(self, names: set[str], words: list[str]) -> None:
        self._names = names
        self._words = words
        long_names = sorted((n for n in names if len(n) >= MIN_NAME_IN_TEXT), key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in long_names) + r")(?!\w)")
            if long_names
            else None
        )

    def text(self, value: str) -> str:
        if value in self._names:
            return FORMER_PARTICIPANT
        for words in self._words:
            value = value.replace(words, REMOVED_WORDS)
        if self._pattern is not None:
            value = self._pattern.sub(FORMER_PARTICIPANT, value)
        return value

    def summary(self, value: Any, theirs: set[str]) -> Any:
        """A summary's JSON with their quotes removed and every string scrubbed."""
        if isinstance(value, dict):
            out = {k: self.summary(v, theirs) for k, v in value.items()}
            if "quote" in out and out.get("speakerId") in theirs:
                out["quote"] = REMOVED_WORDS
            return out
        if isinstance(value, list):
            return [self.summary(v, theirs) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _field_error(field: str) -> dict[str, Any]:
    return {"field": field, "message": "must name another user than the caller"}
