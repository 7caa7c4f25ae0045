"""Changing a recording document safely: read, change, write with its ETag, again on a lost race.

Every writer (the HTTP routes, the upload event, the jobs, the poison handler) goes through `update`, so
no write ever overwrites a change it did not see, and every stored change is announced (recording.status,
transcript.ready, ...) once it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.domain.recordings import Recording, RecordingStatus
from shared.ports import EtagMismatch, MeetingStore, Stored
from shared.realtime.events import NO_EVENTS, EventPublisher, recording_changes
from shared.telemetry import metrics
from shared.timefmt import now as utc_now

WRITE_ATTEMPTS = 5

# Returns the changed recording, or None to leave it as it is (the change no longer applies).
Change = Callable[[Recording], Recording | None]


async def update(
    store: MeetingStore,
    meeting_id: str,
    recording_id: str,
    change: Change,
    *,
    clock: Callable[[], datetime] = utc_now,
    current: Stored[Recording] | None = None,
    events: EventPublisher = NO_EVENTS,
) -> Stored[Recording] | None:
    """Applies `change` to the stored recording; the stored result (unchanged if `change` said None).

    None when the recording does not exist. `current` saves the first read when the caller has just read.
    """
    for _ in range(WRITE_ATTEMPTS):
        stored = current or await store.get_recording(meeting_id, recording_id)
        current = None
        if stored is None:
            return None
        changed = change(stored.value.model_copy(deep=True))
        if changed is None:
            return stored
        changed.version = stored.value.version + 1
        changed.updated_at = clock()
        try:
            etag = await store.replace_recording(changed, stored.etag)
        except EtagMismatch:
            continue
        _count_finished(stored.value, changed)
        await events.publish(*recording_changes(stored.value, changed))
        return Stored(changed, etag)
    raise EtagMismatch(f"recording {recording_id} kept changing under {WRITE_ATTEMPTS} attempts to write it")


FINAL = (RecordingStatus.COMPLETED, RecordingStatus.FAILED)


def _count_finished(before: Recording, after: Recording) -> None:
    """Every writer comes through here, so a recording reaching a final status is counted once, whoever
    moved it there (a job, the poison queue, the reconciler, a failed call recording)."""
    if after.status not in FINAL or after.status == before.status:
        return
    metrics.add(
        metrics.RECORDINGS_FINISHED,
        1,
        {
            metrics.STATUS: after.status.value,
            metrics.ERROR_CODE: after.error.code if after.error is not None else metrics.NO_ERROR,
            metrics.STAGE: after.stage.value,
        },
    )
