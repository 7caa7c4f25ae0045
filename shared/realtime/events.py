"""Domain events: what happened to a meeting, told to its participants (Web PubSub) and to other systems
(Event Grid, or local webhooks).

An event is `{"id", "type", "time", "meetingId", "data"}`; `data` holds ids and the new state, never a
token or a URL (an event goes to every participant and to every subscriber). Every event is published
after the state it announces is stored, so a client that reads on an event reads that state or a newer
one. Delivery is at least once: the id is derived from what the event announces (the document and its
version), so a retry that publishes the same change again sends the same id, and receivers deduplicate.

Publishing never fails the request or the job that stored the state: a failure is logged, and the state
is still there to be read (a client reconnecting reads it; a job's retry publishes its own events again).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from shared.ports import ClientAccess, EventSink, RealtimeHub
from shared.telemetry import metrics
from shared.timefmt import iso
from shared.timefmt import now as utc_now

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from shared.domain.models import Meeting, Participant, Role
    from shared.domain.recordings import Recording

log = logging.getLogger(__name__)

EventType = Literal[
    "meeting.updated",
    "meeting.cancelled",
    "participant.added",
    "participant.removed",
    "recording.created",
    "recording.status",
    "transcript.ready",
    "summary.ready",
    "callRecording.state",
    "caption",
]

# The hub every meeting's group lives in (a Web PubSub hub name: letters, digits, underscores).
HUB = "meetings"
# How long a negotiated client URL connects. Short: a URL's token puts its holder in the groups it names
# at every (re)connection, so a participant removed later must not be able to use it for long; the
# client negotiates again when it reconnects after that.
CLIENT_URL_LIFETIME = timedelta(minutes=15)
# Ids of events are UUIDs derived from what they announce, in a namespace of their own.
_ID_NAMESPACE = uuid.UUID("5b0c1c64-2f3e-4d59-9a3f-6a8e0f0d8c11")
# Group membership changes go out concurrently, but not 350 at once.
_FAN_OUT = 16


def meeting_group(meeting_id: str) -> str:
    """The Web PubSub group of a meeting's participants."""
    return f"meeting.{meeting_id}"


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    meeting_id: str
    data: dict[str, object]
    # What makes the event unique, e.g. the document and its version: the same change, the same id.
    key: str
    time: str = field(default_factory=lambda: iso(utc_now()))

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.meeting_id}/{self.type}/{self.key}"))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.type,
            "time": self.time,
            "meetingId": self.meeting_id,
            "data": self.data,
        }


# --- the events ----------------------------------------------------------------------------------------


def meeting_updated(meeting: Meeting) -> Event:
    data: dict[str, object] = {
        "title": meeting.title,
        "startsAt": iso(meeting.starts_at),
        "endsAt": iso(meeting.ends_at),
        "status": meeting.status.value,
        "version": meeting.version,
        "updatedAt": iso(meeting.updated_at),
    }
    return Event("meeting.updated", meeting.id, data, key=f"v{meeting.version}")


def meeting_cancelled(meeting: Meeting) -> Event:
    data: dict[str, object] = {"status": meeting.status.value, "version": meeting.version}
    # One cancellation per meeting: cancelling again (to finish ACS's part) announces the same event.
    return Event("meeting.cancelled", meeting.id, data, key="cancelled")


def participant_added(meeting: Meeting, participant: Participant, previous: Role | None) -> Event:
    data: dict[str, object] = {
        "userId": participant.user_id,
        "role": participant.role.value,
        "previousRole": None if previous is None else previous.value,
        "version": meeting.version,
    }
    return Event("participant.added", meeting.id, data, key=f"{participant.user_id}/v{meeting.version}")


def participant_removed(meeting: Meeting, user_id: str) -> Event:
    data: dict[str, object] = {"userId": user_id, "version": meeting.version}
    return Event("participant.removed", meeting.id, data, key=f"{user_id}/v{meeting.version}")


def recording_created(recording: Recording) -> Event:
    data: dict[str, object] = {
        "recordingId": recording.id,
        "status": recording.status.value,
        "createdBy": recording.created_by,
        "fileName": recording.file_name,
        "contentType": recording.content_type,
    }
    return Event("recording.created", recording.meeting_id, data, key=recording.id)


def recording_status(recording: Recording) -> Event:
    error = recording.error
    data: dict[str, object] = {
        "recordingId": recording.id,
        "status": recording.status.value,
        "stage": recording.stage.value,
        "progress": recording.progress,
        "error": None if error is None else {"code": error.code, "detail": error.detail},
        "version": recording.version,
    }
    return Event("recording.status", recording.meeting_id, data, key=f"{recording.id}/v{recording.version}")


def transcript_ready(recording: Recording) -> Event:
    data: dict[str, object] = {
        "recordingId": recording.id,
        "language": recording.language,
        "durationSeconds": recording.duration_seconds,
    }
    return Event("transcript.ready", recording.meeting_id, data, key=f"{recording.id}/v{recording.version}")


def summary_ready(recording: Recording) -> Event:
    data: dict[str, object] = {"recordingId": recording.id}
    return Event("summary.ready", recording.meeting_id, data, key=f"{recording.id}/v{recording.version}")


def call_recording_state(recording: Recording) -> Event:
    state = recording.call.state if recording.call is not None else None
    data: dict[str, object] = {"recordingId": recording.id, "state": state, "status": recording.status.value}
    return Event(
        "callRecording.state", recording.meeting_id, data, key=f"{recording.id}/{state}/v{recording.version}"
    )


def recording_changes(before: Recording | None, after: Recording) -> list[Event]:
    """The events a stored change of a recording announces, in the order a reader expects them."""
    events: list[Event] = []
    if before is None:
        return [recording_created(after)]
    before_call = before.call.state if before.call is not None else None
    after_call = after.call.state if after.call is not None else None
    if after_call != before_call:
        events.append(call_recording_state(after))
    if (before.status, before.stage, before.progress, before.error) != (
        after.status,
        after.stage,
        after.progress,
        after.error,
    ):
        events.append(recording_status(after))
    if "transcript.json" in after.artifacts and "transcript.json" not in before.artifacts:
        events.append(transcript_ready(after))
    if "summary.json" in after.artifacts and "summary.json" not in before.artifacts:
        events.append(summary_ready(after))
    return events


# --- publishing ----------------------------------------------------------------------------------------


class EventPublisher:
    """Sends events to the meeting's group and to the event sink, and keeps the groups' members in step.

    Nothing here raises: the state is stored already, and a failed publication must not turn a stored
    change into an error for the caller (who would retry a change that happened).
    """

    def __init__(self, hub: RealtimeHub | None, sink: EventSink | None) -> None:
        self._hub = hub
        self._sink = sink

    async def publish(self, *events: Event, also_to: Sequence[str] = ()) -> None:
        """Each event to its meeting's group (and to the users in `also_to`, outside the group), then all
        of them to the sink."""
        for event in events:
            body = event.to_json()
            if self._hub is not None:
                sent = await self._quietly(
                    f"send {event.type}", self._hub.send_to_group(meeting_group(event.meeting_id), body)
                )
                _count("realtime", 1, sent)
                for user_id in also_to:
                    await self._quietly(f"send {event.type} to a user", self._hub.send_to_user(user_id, body))
        if self._sink is not None and events:
            published = await self._quietly(
                f"publish {', '.join(e.type for e in events)}",
                self._sink.publish([e.to_json() for e in events]),
            )
            _count("sink", len(events), published)

    async def publish_live(self, event: Event) -> None:
        """To the meeting's group only: what is live and passing (a caption), not for other systems, whose
        events are the stored outcomes (a transcript, a summary)."""
        if self._hub is not None:
            await self._quietly(
                f"send {event.type}",
                self._hub.send_to_group(meeting_group(event.meeting_id), event.to_json()),
            )

    async def join(self, meeting_id: str, user_ids: Sequence[str]) -> None:
        """Puts the users' open connections into the meeting's group."""
        if self._hub is not None and user_ids:
            hub, group = self._hub, meeting_group(meeting_id)
            await self._each(
                user_ids, lambda user: hub.add_user_to_group(group, user), "add a user to a group"
            )

    async def leave(self, meeting_id: str, user_ids: Sequence[str]) -> None:
        """Takes the users' connections out of the meeting's group: nothing more about it reaches them."""
        if self._hub is not None and user_ids:
            hub, group = self._hub, meeting_group(meeting_id)
            await self._each(
                user_ids, lambda user: hub.remove_user_from_group(group, user), "remove a user from a group"
            )

    async def client_access(self, user_id: str, meeting_ids: Sequence[str]) -> ClientAccess:
        """The caller's client URL, in the groups of `meeting_ids` (this one raises: the caller asked)."""
        if self._hub is None:
            raise RuntimeError("no realtime hub is configured")
        groups = [meeting_group(m) for m in meeting_ids]
        return await self._hub.client_access(user_id, groups, CLIENT_URL_LIFETIME)

    async def _each(self, user_ids: Sequence[str], work: Callable[[str], Awaitable[None]], what: str) -> None:
        gate = asyncio.Semaphore(_FAN_OUT)

        async def one(user_id: str) -> None:
            async with gate:
                await self._quietly(what, work(user_id))

        await asyncio.gather(*(one(u) for u in user_ids))

    @staticmethod
    async def _quietly(what: str, call: Awaitable[None]) -> bool:
        """Whether `call` succeeded (a failure is logged, not raised)."""
        try:
            await call
        except Exception as exc:
            log.warning("could not %s: %s: %s", what, type(exc).__name__, exc)
            return False
        return True


def _count(channel: str, events: int, published: bool) -> None:
    outcome = metrics.PUBLISHED if published else metrics.FAILED
    metrics.add(metrics.EVENTS, events, {metrics.CHANNEL: channel, metrics.OUTCOME: outcome})


# Services built without live events (tools, tests that do not look at them) publish nowhere.
NO_EVENTS = EventPublisher(None, None)


# --- CloudEvents (Event Grid, webhooks) ----------------------------------------------------------------

CLOUD_EVENT_SOURCE = "/video-signaling"


def cloud_event(event: dict[str, object]) -> dict[str, object]:
    """The CloudEvents 1.0 (structured JSON) form of an event: the same `type` and `id`, the subject the
    meeting (and recording) it is about, and the whole event as `data`, so both channels carry one shape."""
    subject = f"meetings/{event['meetingId']}"
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("recordingId"), str):
        subject += f"/recordings/{data['recordingId']}"
    return {
        "specversion": "1.0",
        "id": event["id"],
        "source": CLOUD_EVENT_SOURCE,
        "type": event["type"],
        "subject": subject,
        "time": event["time"],
        "datacontenttype": "application/json",
        "data": event,
    }
