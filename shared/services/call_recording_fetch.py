"""The fetch job: a finished call recording's files from ACS into the recording's source blob(s).

Claims, duplicates, retries and the poison queue follow shared/services/jobs.py. The metadata's
participant-to-channel map becomes the recording's `channels` (ACS identities mapped back to the
meeting's users) before the source is written, so the storage event of the source finds them. One file
is written as `source.<ext>`, whose storage event queues the transcription as for an upload; a recording
ACS cut into chunks is written as `chunks/NNN.<ext>` and queued here. A file ACS no longer has (it keeps
them 48 hours) or a location that is not ACS's fails the recording at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from shared.domain.recording_paths import FETCH_JOBS, RECORDINGS, RecordingRef, chunk_blob, recording_prefix
from shared.domain.recordings import (
    CallRecording,
    Recording,
    RecordingChannel,
    RecordingStage,
    RecordingStatus,
)
from shared.ports import (
    BlobStore,
    CallRecorder,
    CallRecordingNotFound,
    CommunicationRejected,
    QueueStore,
    Store,
)
from shared.realtime.events import NO_EVENTS, EventPublisher
from shared.services.jobs import HEARTBEAT_SECONDS, ClaimLost, Job, Outcome, RecordingJob, Stage
from shared.services.recordings import RecordingService
from shared.timefmt import now as utc_now

log = logging.getLogger(__name__)

FETCH_STAGE = Stage(
    stage=RecordingStage.UPLOAD,
    working=RecordingStatus.AWAITING_UPLOAD,
    claimable_from=frozenset({RecordingStatus.AWAITING_UPLOAD}),
    queue=FETCH_JOBS,
    failure_code="recording_download_failed",
)


class UnusableMetadata(Exception):
    pass


class CallRecordingFetch(RecordingJob):
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queues: QueueStore,
        *,
        recorder: CallRecorder,
        recordings: RecordingService,
        clock: Callable[[], datetime] = utc_now,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        events: EventPublisher = NO_EVENTS,
    ) -> None:
        super().__init__(
            FETCH_STAGE, store, queues, clock=clock, heartbeat_seconds=heartbeat_seconds, events=events
        )
        self._blobs = blobs
        self._recorder = recorder
        self._recordings = recordings

    def _permanent(self, exc: Exception) -> tuple[str, str] | None:
        if isinstance(exc, CallRecordingNotFound):
            return "recording_download_failed", f"ACS no longer has the recording's file ({exc})"
        if isinstance(exc, CommunicationRejected | UnusableMetadata):
            return "recording_download_failed", f"the recording's file cannot be fetched: {exc}"
        return None

    async def _work(self, job: Job, recording: Recording) -> Outcome:
        call = recording.call
        if call is None or not call.chunks or call.state == "fetched":
            log.info("nothing to fetch: no file announced yet, or fetched already (a duplicate job)")
            await self._release(job, None)
            return Outcome.SKIPPED
        ref = job.ref
        chunked = len(call.chunks) > 1
        names = [chunk_blob(ref.meeting_id, ref.recording_id, c.index, call.format) for c in call.chunks]
        async with self._keeping_claim(job):
            channels = await self._channels(recording, call)
            await self._update_held(job, lambda r: _prepared(r, channels, names if chunked else []))
            size = 0
            for chunk, name in zip(call.chunks, names if chunked else [recording.source_blob], strict=True):
                written = await self._blobs.upload(
                    RECORDINGS,
                    name,
                    self._recorder.download(chunk.content),
                    content_type=recording.content_type,
                )
                size += written.size

        def done(stored: Recording) -> Recording:
            stored.size_bytes = size
            if stored.call is not None:
                stored.call.state = "fetched"
            if stored.claim is not None and stored.claim.owner == job.message_id:
                stored.claim = None
            stored.error = None
            return stored

        # The source's storage event may already have queued the transcription: the size is written
        # whatever the status, the claim let go only if it is still ours.
        await self._update(ref, done)
        log.info("call recording fetched: %d bytes in %d chunk(s)", size, len(call.chunks))
        if chunked:
            # The chunks' own storage events are not a source's: queue the transcription here.
            await self._recordings.queue_transcription(ref)
        return Outcome.DONE

    async def _deleted_meanwhile(self, ref: RecordingRef) -> None:
        # What was downloaded after the delete must not outlive the recording.
        await self._blobs.delete_prefix(RECORDINGS, recording_prefix(ref.meeting_id, ref.recording_id))

    async def _update_held(self, job: Job, change: Callable[[Recording], Recording]) -> None:
        def held(recording: Recording) -> Recording:
            if not self._holds(recording, job.message_id):
                raise ClaimLost
            return change(recording)

        if await self._update(job.ref, held) is None:
            raise ClaimLost

    async def _channels(self, recording: Recording, call: CallRecording) -> list[RecordingChannel]:
        """Who speaks on which channel of an unmixed recording, from ACS's metadata."""
        location = call.chunks[0].metadata
        if call.channels != "unmixed" or location is None:
            return []
        raw = b"".join([part async for part in self._recorder.download(location)])
        try:
            metadata = json.loads(raw)
        except ValueError as exc:
            raise UnusableMetadata(f"the recording's metadata is not JSON ({exc})") from None
        users = await self._users_by_acs_id(recording.meeting_id)
        channels: dict[int, str] = {}
        for acs_id, channel in _participants(metadata):
            user = users.get(acs_id)
            if user is None:
                log.info("channel %d is someone not invited (ACS id unknown): no user for it", channel)
                continue
            channels.setdefault(channel, user)
        return [RecordingChannel(channel=c, user_id=u) for c, u in sorted(channels.items())]

    async def _users_by_acs_id(self, meeting_id: str) -> dict[str, str]:
        meeting = await self._store.get_meeting(meeting_id)
        if meeting is None:
            return {}
        users: dict[str, str] = {}
        for participant in meeting.value.participants:
            identity = await self._store.get_identity(participant.user_id)
            if identity is not None:
                users[identity.acs_user_id] = participant.user_id
        return users


def _prepared(recording: Recording, channels: list[RecordingChannel], parts: list[str]) -> Recording:
    recording.channels = channels
    recording.source_parts = parts
    return recording


def _participants(metadata: Any) -> list[tuple[str, int]]:
    raw = metadata.get("participants") if isinstance(metadata, Mapping) else None
    found: list[tuple[str, int]] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("participantId"), str):
            channel = item.get("channel")
            if isinstance(channel, int):
                found.append((item["participantId"], channel))
    return found
