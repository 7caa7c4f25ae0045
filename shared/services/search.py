"""Search across meetings: the caller's meetings only, ranked, paged; and keeping the index in step.

The index trims every query to the meetings whose members include the caller (SearchIndex). Membership in
the index follows the meeting document a moment later (it is written after it), so a removed participant
could still match for that moment, or longer if the index missed the update: each page is checked again
against the store (belt and braces), and hits of meetings the caller is no longer part of, or of recordings
that are gone, are dropped. Removal takes effect at once; a page may then hold fewer than `limit` hits.

The first page also names the caller's meetings whose title holds every word (as the start of one of its
words: "budg" finds "Budget sync"), read from the caller's membership entries (one partition), so a meeting
is found by its title before anyone said the word in a recording. Those entries exist only while the caller
is a member: removal holds at once here too. Cancelled meetings are listed, with their status.

The continuation token is signed and bound to the caller and the query's words, so it cannot be replayed
by another user or for another query. Snippets are plain text with the offsets of the matched words
(UTF-16 code units, as JavaScript strings count), so a client highlights them without rendering markup.

Indexing (SearchIndexing) never fails what triggered it: a recording's transcript and summary, a membership
change or a deletion are done, and stored, whatever the index says; a failure is logged, and the next change
to that recording or meeting writes its documents again whole.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from shared.domain.errors import InvalidInput, Unavailable, UpstreamFailed
from shared.domain.models import Meeting, MeetingStatus, Membership
from shared.domain.recording_paths import ARTIFACTS, SUMMARY_FILES, TRANSCRIPT_FILES, artifact_blob
from shared.domain.recordings import Recording
from shared.notes.search_text import (
    MAX_TERMS,
    documents,
    search_terms,
    title_matches,
    utf16_offsets,
)
from shared.ports import (
    BlobNotFound,
    BlobStore,
    SearchError,
    SearchHit,
    SearchIndex,
    SearchUnavailable,
    Store,
)
from shared.services.summary_files import read_version
from shared.signing import BadSignature, Signer
from shared.summaries import Summary
from shared.transcripts import Transcript

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
PAGE_SIZE = 20
# The deepest a continuation goes: past it, nobody reads on (and an index pays for every skipped hit).
MAX_SKIP = 1000
# Meetings found by their title, most recent first: a short list above the passages, not a second result set.
MAX_MEETINGS = 10
# The most membership entries one search reads (in pages of MEMBERSHIP_PAGE). Every first page of every search
# reads them, and a search is typed often: the cap bounds its cost (a few one-partition queries) for the rare
# user with a huge history. 2,000 is years of meetings for one person; past it the entries are not read (the
# store pages by start, oldest first, so those are the latest ones), and that is logged.
MAX_MEMBERSHIPS = 2000
MEMBERSHIP_PAGE = 500


@dataclass(frozen=True, slots=True)
class Found:
    meeting_id: str
    meeting_title: str
    recording_id: str
    kind: Literal["transcript", "summary"]
    start: float | None
    end: float | None
    speaker: str | None
    snippet: str
    highlights: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class MeetingFound:
    meeting_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    highlights: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[Found]
    continuation_token: str | None
    meetings: list[MeetingFound]


def member_ids(meeting: Meeting) -> list[str]:
    return list(dict.fromkeys([meeting.organizer_id, *(p.user_id for p in meeting.participants)]))


class SearchService:
    def __init__(self, index: SearchIndex, store: Store, signer: Signer) -> None:
        self._index = index
        self._store = store
        self._signer = signer

    async def search(
        self, caller: str, q: str, continuation_token: str | None, *, limit: int = PAGE_SIZE
    ) -> SearchPage:
        # What the schema allows is never refused here (the OpenAPI document tells the whole truth): no word
        # to search for finds nothing, and words past the first MAX_TERMS are not searched for.
        terms = search_terms(q)[:MAX_TERMS]
        if not terms:
            return SearchPage([], None, [])
        scope = {"u": caller, "q": " ".join(terms)}
        skip = 0 if continuation_token is None else self._open(continuation_token, scope)
        try:
            hits = await self._index.query(terms, caller, skip=skip, top=limit)
        except SearchUnavailable as exc:
            raise Unavailable("the search index is busy or unavailable: try again") from exc
        except SearchError as exc:
            log.error("search failed: %s", exc)
            raise UpstreamFailed("the search index refused the query") from exc
        visible = await self._visible(caller, hits)
        token = None
        if len(hits) == limit and skip + limit < MAX_SKIP:
            token = self._signer.sign({**scope, "s": skip + limit})
        # Only the first page: a later one carries on with the passages alone.
        meetings = await self._titled(caller, terms) if continuation_token is None else []
        return SearchPage(
            [_found(hit, visible.titles[hit.meeting_id]) for hit in hits if visible(hit)], token, meetings
        )

    async def _titled(self, caller: str, terms: list[str]) -> list[MeetingFound]:
        """The caller's meetings whose title matches every term, most recent start first (at most
        MAX_MEETINGS), from at most MAX_MEMBERSHIPS of their membership entries."""
        matches: list[tuple[Membership, tuple[tuple[int, int], ...]]] = []
        read = 0
        continuation: str | None = None
        while True:
            page = await self._store.list_memberships(
                caller,
                ends_after=None,
                starts_before=None,
                limit=min(MEMBERSHIP_PAGE, MAX_MEMBERSHIPS - read),
                continuation=continuation,
            )
            read += len(page.items)
            for entry in page.items:
                ranges = title_matches(entry.title, terms)
                if ranges is not None:
                    matches.append((entry, ranges))
            continuation = page.continuation
            if continuation is None:
                break
            if read >= MAX_MEMBERSHIPS:
                log.info("the caller has more than %d meetings: the first are searched by title", read)
                break
        latest = heapq.nlargest(
            MAX_MEETINGS, matches, key=lambda match: (match[0].starts_at, match[0].meeting_id)
        )
        return [
            MeetingFound(
                meeting_id=entry.meeting_id,
                title=entry.title,
                starts_at=entry.starts_at,
                ends_at=entry.ends_at,
                status=entry.status,
                highlights=utf16_offsets(entry.title, ranges),
            )
            for entry, ranges in latest
        ]

    def _open(self, token: str, scope: dict[str, str]) -> int:
        try:
            payload = self._signer.verify(token)
        except BadSignature as exc:
            raise InvalidInput("continuationToken is not valid") from exc
        skip = payload.get("s")
        if any(payload.get(key) != value for key, value in scope.items()) or not isinstance(skip, int):
            raise InvalidInput("continuationToken belongs to another search: repeat the same q")
        return skip

    async def _visible(self, caller: str, hits: list[SearchHit]) -> _Visible:
        """Which hits the caller may see now, by the store: one point read per meeting and per recording on
        the page (at most a page's worth), whatever the index believed."""
        meetings: dict[str, bool] = {}
        titles: dict[str, str] = {}
        recordings: dict[tuple[str, str], bool] = {}
        for hit in hits:
            if hit.meeting_id not in meetings:
                stored = await self._store.get_meeting(hit.meeting_id)
                meetings[hit.meeting_id] = stored is not None and stored.value.role_of(caller) is not None
                titles[hit.meeting_id] = stored.value.title if stored is not None else ""
            key = (hit.meeting_id, hit.recording_id)
            if meetings[hit.meeting_id] and key not in recordings:
                recordings[key] = await self._store.get_recording(*key) is not None
        return _Visible(meetings, titles, recordings)


@dataclass(frozen=True, slots=True)
class _Visible:
    meetings: dict[str, bool]
    titles: dict[str, str]
    recordings: dict[tuple[str, str], bool]

    def __call__(self, hit: SearchHit) -> bool:
        return self.meetings.get(hit.meeting_id, False) and self.recordings.get(
            (hit.meeting_id, hit.recording_id), False
        )


def _found(hit: SearchHit, title: str) -> Found:
    return Found(
        meeting_id=hit.meeting_id,
        meeting_title=title,
        recording_id=hit.recording_id,
        kind=hit.kind,
        start=hit.start,
        end=hit.end,
        speaker=hit.speaker,
        snippet=hit.snippet,
        highlights=utf16_offsets(hit.snippet, hit.highlights),
    )


class SearchIndexing:
    """Keeps the index in step with recordings and memberships; `None` for an index does nothing (the
    services' default, for tests and tools that do not search)."""

    def __init__(
        self,
        index: SearchIndex | None,
        blobs: BlobStore | None = None,
        *,
        visibility: Literal["drafts", "approved"] = "drafts",
    ) -> None:
        self._index = index
        self._blobs = blobs
        self._visibility = visibility

    @property
    def enabled(self) -> bool:
        return self._index is not None and self._blobs is not None

    async def recording_changed(self, meeting: Meeting, recording: Recording) -> None:
        """Indexes the recording's transcript and the summary its participants read (SUMMARY_VISIBILITY:
        the latest, or the latest approved), replacing what was indexed for it before."""
        if self._index is None or self._blobs is None:
            return
        try:
            transcript = await self._transcript(recording)
            summary = await self._summary(recording)
            found = documents(meeting.id, recording.id, transcript, summary)
            await self._index.replace_recording(meeting.id, recording.id, found, member_ids(meeting))
        except (SearchError, BlobNotFound, ValidationError) as exc:
            log.warning("recording %s not indexed for search: %s", recording.id, exc)
            return
        log.info("recording %s indexed for search: %d passages", recording.id, len(found))

    async def recording_removed(self, meeting_id: str, recording_id: str) -> None:
        if self._index is None:
            return
        try:
            await self._index.remove_recording(meeting_id, recording_id)
        except SearchError as exc:
            log.warning("recording %s not removed from search: %s", recording_id, exc)

    async def meeting_removed(self, meeting_id: str) -> None:
        if self._index is None:
            return
        try:
            await self._index.remove_meeting(meeting_id)
        except SearchError as exc:
            log.warning("meeting %s not removed from search: %s", meeting_id, exc)

    async def members_changed(self, meeting: Meeting) -> None:
        if self._index is None:
            return
        try:
            await self._index.set_members(meeting.id, member_ids(meeting))
        except SearchError as exc:
            # Removal still holds (every page is checked against the store); an added member finds the
            # meeting's passages once they are indexed again.
            log.warning("members of meeting %s not updated in search: %s", meeting.id, exc)

    async def _transcript(self, recording: Recording) -> Transcript | None:
        name = TRANSCRIPT_FILES["json"][0]
        if self._blobs is None or name not in recording.artifacts:
            return None
        body = await self._blobs.get(ARTIFACTS, artifact_blob(recording.meeting_id, recording.id, name))
        return Transcript.model_validate_json(body)

    async def _summary(self, recording: Recording) -> Summary | None:
        name = SUMMARY_FILES["json"][0]
        if self._blobs is None or name not in recording.artifacts:
            return None
        if self._visibility == "approved":
            approved = [v for v in recording.summary_versions if v.approved]
            return await read_version(self._blobs, recording, approved[-1]) if approved else None
        body = await self._blobs.get(ARTIFACTS, artifact_blob(recording.meeting_id, recording.id, name))
        return Summary.model_validate_json(body)


NO_INDEXING = SearchIndexing(None)
