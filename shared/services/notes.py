"""Notes people can trust: reading a summary's current version, editing and approving it (organizer), its
history, and naming the speakers of a transcript, all without asking a provider again.

Every change is a new version (shared/services/summary_files.py), listed in the recording with who made it
and when; the ETag of a summary is its version (`"summary-<n>"`), and an edit or approval with `If-Match`
of another version is refused (412). An edit's evidence is checked again (shared/notes/evidence.py): what
still checks out is kept, the rest marked unverified. An edit clears the approval (it approved other
words); approving marks the current version approved by the organizer.

SUMMARY_VISIBILITY=approved: participants other than the organizer read the latest approved version only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from shared.domain.models import Meeting
from shared.domain.recording_paths import ARTIFACTS, SUMMARY_FILES, TRANSCRIPT_FILES, artifact_blob
from shared.domain.recordings import Recording, RecordingStatus, SummaryVersion
from shared.notes.evidence import recheck
from shared.ports import BlobNotFound, BlobStore, Store, Stored
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services import recording_state
from shared.services.meetings import MeetingService
from shared.services.search import NO_INDEXING, SearchIndexing
from shared.services.summary_files import new_version_name, read_version, write_current, write_version
from shared.summaries import Notes, Summary, to_markdown
from shared.timefmt import now as utc_now
from shared.transcripts import Transcript, to_json, to_srt, to_txt, to_vtt

log = logging.getLogger(__name__)

Visibility = Literal["drafts", "approved"]


def summary_etag(version: int) -> str:
    return f'"summary-{version}"'


def _matches(if_match: str | None, version: int) -> bool:
    if if_match is None or if_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    return f"summary-{version}" in wanted


def _entry(recording: Recording) -> SummaryVersion:
    """The current version; a summary written before versions were kept is version 1, its summary.json."""
    if recording.summary_versions:
        return recording.summary_versions[-1]
    return SummaryVersion(version=1, blob=SUMMARY_FILES["json"][0], kind="generated", at=recording.updated_at)


@dataclass(frozen=True, slots=True)
class CurrentSummary:
    summary: Summary
    etag: str
    # A summary while summarizing: only a regeneration has one then, and this is the previous one.
    regenerating: bool = False


class NotesService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        meetings: MeetingService,
        *,
        visibility: Visibility = "drafts",
        clock: Callable[[], datetime] = utc_now,
        events: EventPublisher = NO_EVENTS,
        search: SearchIndexing = NO_INDEXING,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._meetings = meetings
        self._visibility = visibility
        self._clock = clock
        self._events = events
        self._search = search

    # --- reading -------------------------------------------------------------------------------------

    async def summary(self, caller: str, meeting_id: str, recording_id: str) -> CurrentSummary:
        """The version the caller may read (see SUMMARY_VISIBILITY); 409 while there is none."""
        meeting, stored = await self._recording(caller, meeting_id, recording_id)
        recording = stored.value
        if SUMMARY_FILES["json"][0] not in recording.artifacts:
            raise Conflict(f"the summary is not ready: the recording is {recording.status.value}")
        entry = _entry(recording)
        if self._visibility == "approved" and caller != meeting.organizer_id:
            approved = [v for v in recording.summary_versions if v.approved]
            if not approved:
                raise Conflict(
                    "the summary is not approved yet: the organizer approves it before it is shown"
                )
            entry = approved[-1]
        summary = await self._read(recording, entry)
        regenerating = recording.status == RecordingStatus.SUMMARIZING
        return CurrentSummary(summary, summary_etag(entry.version), regenerating)

    async def readable(self, caller: str, meeting: Meeting, recording: Recording) -> Summary | None:
        """The version of `recording`'s summary the caller may read (as `summary` serves it); None if none
        (not written yet, or not approved yet where participants read approved ones only)."""
        if SUMMARY_FILES["json"][0] not in recording.artifacts:
            return None
        entry = _entry(recording)
        if self._visibility == "approved" and caller != meeting.organizer_id:
            approved = [v for v in recording.summary_versions if v.approved]
            if not approved:
                return None
            entry = approved[-1]
        try:
            return await read_version(self._blobs, recording, entry)
        except BlobNotFound:
            return None

    async def markdown(self, caller: str, meeting_id: str, recording_id: str) -> str:
        current = await self.summary(caller, meeting_id, recording_id)
        meeting = await self._meetings.get(caller, meeting_id)
        return to_markdown(current.summary, title=meeting.value.title)

    async def versions(self, caller: str, meeting_id: str, recording_id: str) -> list[SummaryVersion]:
        meeting, stored = await self._recording(caller, meeting_id, recording_id)
        recording = stored.value
        versions = recording.summary_versions
        if not versions and SUMMARY_FILES["json"][0] in recording.artifacts:
            versions = [_entry(recording)]
        if self._visibility == "approved" and caller != meeting.organizer_id:
            return [v for v in versions if v.approved]
        return list(versions)

    # --- changing --------------------------------------------------------------------------------------

    async def edit(
        self, caller: str, meeting_id: str, recording_id: str, notes: Notes, if_match: str | None
    ) -> CurrentSummary:
        """A new version with the organizer's notes; their evidence checked again against the transcript."""
        meeting, stored = await self._for_organizer(caller, meeting_id, recording_id, "edit")
        current = await self._latest(stored.value, if_match)
        transcript = await self._transcript(stored.value)
        checked = recheck(notes, transcript)
        at = self._clock()
        edited = Summary(
            **dict(checked),
            model=current.model,
            generated_at=current.generated_at,
            version=current.version + 1,
            edited_by=caller,
            edited_at=at,
        )
        return await self._add_version(
            meeting, stored, edited, kind="edited", by=caller, based_on=current.version
        )

    async def approve(
        self, caller: str, meeting_id: str, recording_id: str, if_match: str | None
    ) -> CurrentSummary:
        meeting, stored = await self._for_organizer(caller, meeting_id, recording_id, "approve")
        current = await self._latest(stored.value, if_match)
        at = self._clock()
        approved = current.model_copy(
            update={"version": current.version + 1, "approved_by": caller, "approved_at": at}
        )
        return await self._add_version(
            meeting, stored, approved, kind="approved", by=caller, based_on=current.version
        )

    async def name_speaker(
        self,
        caller: str,
        meeting_id: str,
        recording_id: str,
        speaker_id: str,
        *,
        user_id: str | None,
        display_name: str | None,
    ) -> Transcript:
        """Names a transcript's speaker; the transcript files and the summary are rendered again from it."""
        meeting, stored = await self._for_organizer(caller, meeting_id, recording_id, "name a speaker")
        recording = stored.value
        transcript = await self._transcript(recording)
        speaker = next((s for s in transcript.speakers if s.id == speaker_id), None)
        if speaker is None:
            raise NotFound(f"the transcript has no speaker {speaker_id}")
        if user_id is not None and meeting.role_of(user_id) is None:
            raise InvalidInput(f"{user_id} is not a participant of the meeting")
        old_name = transcript.speaker_name(speaker_id)
        name = display_name or (meeting.display_names().get(user_id) if user_id else None)
        renamed = speaker.model_copy(update={"user_id": user_id, "display_name": name})
        transcript = transcript.model_copy(
            update={"speakers": [renamed if s.id == speaker_id else s for s in transcript.speakers]}
        )
        renderings = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}
        for fmt, (file, media_type) in TRANSCRIPT_FILES.items():
            await self._blobs.put(
                ARTIFACTS,
                artifact_blob(meeting_id, recording_id, file),
                renderings[fmt](transcript).encode(),
                content_type=media_type,
            )
        new_name = transcript.speaker_name(speaker_id)
        if SUMMARY_FILES["json"][0] not in recording.artifacts:
            await self._search.recording_changed(meeting, recording)  # else the new version indexes it
        else:
            current = await self._read(recording, _entry(recording))
            owners = {old_name, speaker_id} - {None}
            items = [
                item.model_copy(update={"owner": new_name}) if item.owner in owners else item
                for item in current.action_items
            ]
            renamed_summary = recheck(
                current.model_copy(update={"action_items": items, "version": current.version + 1}), transcript
            )
            try:
                await self._add_version(
                    meeting, stored, renamed_summary, kind="speakers", by=caller, based_on=current.version
                )
            except PreconditionFailed:
                log.warning("the summary changed while a speaker was named: its owners keep the old name")
                await self._search.recording_changed(meeting, recording)
        log.info("speaker %s of recording %s named", speaker_id, recording_id)
        return transcript

    # --- helpers -----------------------------------------------------------------------------------------

    async def _add_version(
        self,
        meeting: Meeting,
        stored: Stored[Recording],
        summary: Summary,
        *,
        kind: Literal["edited", "approved", "speakers"],
        by: str,
        based_on: int,
    ) -> CurrentSummary:
        recording = stored.value
        name = new_version_name()
        await write_version(self._blobs, recording, name, summary)
        stale: list[bool] = []

        def append(current: Recording) -> Recording | None:
            if _entry(current).version != based_on:
                stale.append(True)
                return None
            current.summary_versions.append(
                SummaryVersion(
                    version=based_on + 1,
                    blob=name,
                    kind=kind,
                    by=by,
                    at=self._clock(),
                    approved=summary.approved_by is not None,
                )
            )
            return current

        updated = await recording_state.update(
            self._store, recording.meeting_id, recording.id, append, clock=self._clock, events=self._events
        )
        if updated is None:
            raise NotFound(f"recording {recording.id} was not found")
        if stale:
            await self._blobs.delete(ARTIFACTS, artifact_blob(recording.meeting_id, recording.id, name))
            raise PreconditionFailed("the summary changed since it was read: read it again")
        await write_current(self._blobs, updated.value, summary, meeting.title)
        await self._search.recording_changed(meeting, updated.value)
        return CurrentSummary(summary, summary_etag(summary.version))

    async def _latest(self, recording: Recording, if_match: str | None) -> Summary:
        if SUMMARY_FILES["json"][0] not in recording.artifacts:
            raise Conflict(f"there is no summary to change: the recording is {recording.status.value}")
        entry = _entry(recording)
        if not _matches(if_match, entry.version):
            raise PreconditionFailed(f"the summary is at version {entry.version} now: read it again")
        return await self._read(recording, entry)

    async def _read(self, recording: Recording, entry: SummaryVersion) -> Summary:
        try:
            return await read_version(self._blobs, recording, entry)
        except BlobNotFound:
            raise NotFound(f"recording {recording.id} was not found") from None

    async def _transcript(self, recording: Recording) -> Transcript:
        if TRANSCRIPT_FILES["json"][0] not in recording.artifacts:
            raise Conflict(f"the transcript is not ready: the recording is {recording.status.value}")
        name = artifact_blob(recording.meeting_id, recording.id, TRANSCRIPT_FILES["json"][0])
        try:
            return Transcript.model_validate_json(await self._blobs.get(ARTIFACTS, name))
        except BlobNotFound:
            raise NotFound(f"recording {recording.id} was not found") from None

    async def _recording(
        self, caller: str, meeting_id: str, recording_id: str
    ) -> tuple[Meeting, Stored[Recording]]:
        meeting = (await self._meetings.get(caller, meeting_id)).value
        stored = await self._store.get_recording(meeting_id, recording_id)
        if stored is None:
            raise NotFound(f"recording {recording_id} was not found")
        return meeting, stored

    async def _for_organizer(
        self, caller: str, meeting_id: str, recording_id: str, what: str
    ) -> tuple[Meeting, Stored[Recording]]:
        meeting, stored = await self._recording(caller, meeting_id, recording_id)
        if meeting.organizer_id != caller:
            raise Forbidden(f"only the organizer may {what}")
        return meeting, stored
