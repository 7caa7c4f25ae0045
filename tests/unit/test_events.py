"""Domain events from the services: published after the state they announce is stored, never for a change
that did not happen, never failing the change when publishing fails; groups kept in step with membership,
so a removed participant hears of the removal and nothing after."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local_queues import LocalQueueStore
from shared.domain.errors import PreconditionFailed
from shared.domain.models import Role
from shared.domain.recordings import Recording, RecordingError, RecordingStatus
from shared.ports import ClientAccess
from shared.realtime import events as ev
from shared.realtime.events import EventPublisher, meeting_group
from shared.schemas import CreateMeeting, UpdateMeeting
from shared.services import recording_state
from shared.services.meetings import MeetingService
from shared.signing import Signer
from shared.timefmt import iso
from tests.fakes import FakeCommunication, FixedClock, InMemoryStore

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Hub:
    """A RealtimeHub with the service's semantics: one connection per user, groups by user.

    `check` runs at every send (to look at the store at that instant); `broken` makes every call fail.
    """

    def __init__(self) -> None:
        self.groups: dict[str, set[str]] = defaultdict(set)
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.check: Callable[[dict[str, Any]], None] | None = None
        self.broken = False
        self.calls: list[tuple[str, str]] = []

    def _call(self, what: str, target: str) -> None:
        self.calls.append((what, target))
        if self.broken:
            raise ConnectionError("the hub is down")

    async def client_access(self, user_id: str, groups: Sequence[str], lifetime: timedelta) -> ClientAccess:
        self._call("access", user_id)
        for group in groups:
            self.groups[group].add(user_id)
        return ClientAccess(f"ws://hub/{user_id}", NOW + lifetime)

    async def send_to_group(self, group: str, message: dict[str, object]) -> None:
        self._call("group", group)
        if self.check is not None:
            self.check(message)
        for user in self.groups[group]:
            self.received[user].append(message)

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        self._call("user", user_id)
        self.received[user_id].append(message)

    async def add_user_to_group(self, group: str, user_id: str) -> None:
        self._call("add", user_id)
        self.groups[group].add(user_id)

    async def remove_user_from_group(self, group: str, user_id: str) -> None:
        self._call("remove", user_id)
        self.groups[group].discard(user_id)

    async def aclose(self) -> None:
        return None

    def types(self, user: str) -> list[str]:
        return [str(m["type"]) for m in self.received[user]]


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []
        self.broken = False

    async def publish(self, events: Sequence[dict[str, object]]) -> None:
        if self.broken:
            raise ConnectionError("the topic is down")
        self.events += events

    async def aclose(self) -> None:
        return None


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def service(store: InMemoryStore, hub: Hub, sink: Sink) -> MeetingService:
    clock = FixedClock(NOW)
    acs = FakeCommunication(clock=clock)
    return MeetingService(
        store, acs, Signer(b"k" * 32, "continuation"), clock, events=EventPublisher(hub, sink)
    )


async def _meeting(service: MeetingService, *guests: str) -> str:
    body = CreateMeeting.model_validate(
        {
            "title": "Planning",
            "startsAt": iso(START),
            "endsAt": iso(START + timedelta(hours=1)),
            "participants": [{"userId": g, "role": "attendee"} for g in guests],
        }
    )
    return (await service.create("alice", body)).value.id


async def _connect(hub: Hub, user: str, *meeting_ids: str) -> None:
    await hub.client_access(user, [meeting_group(m) for m in meeting_ids], timedelta(minutes=15))


async def test_an_update_is_announced_after_it_is_stored(
    service: MeetingService, store: InMemoryStore, hub: Hub, sink: Sink
) -> None:
    meeting_id = await _meeting(service, "bob")
    await _connect(hub, "bob", meeting_id)
    seen: list[int] = []

    def check(message: dict[str, Any]) -> None:
        stored = store._meetings[meeting_id].value
        seen.append(stored.version)
        assert stored.title == message["data"]["title"]

    hub.check = check
    await service.update("alice", meeting_id, UpdateMeeting.model_validate({"title": "v2"}), None)
    [event] = hub.received["bob"]
    assert set(event) == {"id", "type", "time", "meetingId", "data"}
    assert (event["type"], event["meetingId"], event["data"]["version"]) == ("meeting.updated", meeting_id, 2)
    assert seen == [2]
    assert sink.events == [event]  # the same event to other systems


async def test_nothing_is_announced_for_a_change_that_did_not_happen(
    service: MeetingService, hub: Hub, sink: Sink
) -> None:
    meeting_id = await _meeting(service, "bob")
    await _connect(hub, "bob", meeting_id)
    with pytest.raises(PreconditionFailed):
        await service.update("alice", meeting_id, UpdateMeeting.model_validate({"title": "v2"}), '"stale"')
    assert hub.received["bob"] == []
    assert sink.events == []


async def test_a_broken_hub_or_sink_does_not_fail_the_change(
    service: MeetingService, store: InMemoryStore, hub: Hub, sink: Sink
) -> None:
    meeting_id = await _meeting(service, "bob")
    hub.broken = sink.broken = True
    updated = await service.update("alice", meeting_id, UpdateMeeting.model_validate({"title": "v2"}), None)
    assert updated.value.title == "v2"
    await service.remove_participant("alice", meeting_id, "bob")
    await service.cancel("alice", meeting_id, None)
    stored = await store.get_meeting(meeting_id)
    assert stored is not None
    assert stored.value.status.value == "cancelled"


async def test_a_removed_participant_hears_of_it_and_nothing_after(service: MeetingService, hub: Hub) -> None:
    meeting_id = await _meeting(service, "bob", "carol")
    await _connect(hub, "bob", meeting_id)
    await _connect(hub, "carol", meeting_id)
    await service.remove_participant("alice", meeting_id, "bob")
    assert hub.types("bob") == ["participant.removed"]
    assert hub.received["bob"][0]["data"]["userId"] == "bob"
    assert hub.types("carol") == ["participant.removed"]
    # Out of the group before the event went out: told directly, not through the group.
    assert hub.calls.index(("remove", "bob")) < hub.calls.index(("group", meeting_group(meeting_id)))
    await service.update("alice", meeting_id, UpdateMeeting.model_validate({"title": "v2"}), None)
    await service.put_participant("alice", meeting_id, "dave", Role.ATTENDEE)
    await service.cancel("alice", meeting_id, None)
    assert hub.types("bob") == ["participant.removed"]
    assert hub.types("carol") == [
        "participant.removed",
        "meeting.updated",
        "participant.added",
        "meeting.cancelled",
    ]


async def test_an_invited_user_joins_the_group_at_once_and_cancelling_empties_it(
    service: MeetingService, hub: Hub
) -> None:
    meeting_id = await _meeting(service)
    await service.put_participant("alice", meeting_id, "bob", Role.ATTENDEE)
    assert "bob" in hub.groups[meeting_group(meeting_id)]
    added = [e for e in hub.received["bob"] if e["type"] == "participant.added"]
    assert added[0]["data"] == {"userId": "bob", "role": "attendee", "previousRole": None, "version": 2}
    await service.cancel("alice", meeting_id, None)
    assert hub.groups[meeting_group(meeting_id)] == set()


async def test_event_ids_are_stable_for_the_same_change() -> None:
    recording = Recording.model_validate(
        {
            "id": "r-1",
            "meetingId": "m-1",
            "createdBy": "alice",
            "fileName": "a.wav",
            "contentType": "audio/wav",
            "sizeBytes": 10,
            "sourceBlob": "m-1/r-1/source.wav",
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    )
    first, again = ev.recording_status(recording), ev.recording_status(recording)
    assert first.id == again.id
    recording.version += 1
    assert ev.recording_status(recording).id != first.id


async def test_recording_changes_are_announced_once_stored_and_never_carry_urls(
    store: InMemoryStore, hub: Hub, sink: Sink
) -> None:
    recording = Recording.model_validate(
        {
            "id": "r-1",
            "meetingId": "m-1",
            "createdBy": "alice",
            "fileName": "a.wav",
            "contentType": "audio/wav",
            "sizeBytes": 10,
            "sourceBlob": "m-1/r-1/source.wav",
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    )
    await store.create_recording(recording)
    hub.groups[meeting_group("m-1")].add("bob")
    publisher = EventPublisher(hub, sink)

    def check(message: dict[str, Any]) -> None:
        stored = store._recordings["m-1"]["r-1"].value
        assert stored.status.value == message["data"].get("status", stored.status.value)

    hub.check = check

    def transcribed(r: Recording) -> Recording:
        r.status = RecordingStatus.SUMMARIZING
        r.artifacts = ["transcript.json", "transcript.vtt"]
        return r

    await recording_state.update(store, "m-1", "r-1", transcribed, events=publisher)
    assert hub.types("bob") == ["recording.status", "transcript.ready"]
    status = hub.received["bob"][0]["data"]
    assert (status["recordingId"], status["status"], status["stage"]) == ("r-1", "summarizing", "upload")
    # A change that changes nothing is announced by nobody.
    await recording_state.update(store, "m-1", "r-1", lambda r: None, events=publisher)

    def failed(r: Recording) -> Recording:
        r.status = RecordingStatus.FAILED
        r.error = RecordingError(code="summary_failed", detail="no")
        return r

    await recording_state.update(store, "m-1", "r-1", failed, events=publisher)
    assert hub.types("bob") == ["recording.status", "transcript.ready", "recording.status"]
    assert hub.received["bob"][-1]["data"]["error"] == {"code": "summary_failed", "detail": "no"}
    text = repr(sink.events)
    assert "http" not in text
    assert "token" not in text.lower()
    assert "source.wav" not in text


async def test_progress_is_stored_and_announced_every_interval_while_it_moves(
    store: InMemoryStore, hub: Hub, sink: Sink, tmp_path: Path
) -> None:
    from shared.domain.recording_paths import RecordingRef
    from shared.services.jobs import Job, Outcome, RecordingJob, Stage
    from shared.services.transcription import TRANSCRIPT_STAGE

    recording = Recording.model_validate(
        {
            "id": "r-1",
            "meetingId": "m-1",
            "createdBy": "alice",
            "fileName": "a.wav",
            "contentType": "audio/wav",
            "sizeBytes": 10,
            "status": "queued",
            "sourceBlob": "m-1/r-1/source.wav",
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    )
    await store.create_recording(recording)
    hub.groups[meeting_group("m-1")].add("bob")
    done = [0.0]

    class Work(RecordingJob):
        async def _work(self, job: Job, recording: Recording) -> Outcome:
            async with self._keeping_claim(job, lambda: done[0]):
                for step in range(1, 6):
                    await asyncio.sleep(0.05)
                    done[0] = step / 10
                await asyncio.sleep(0.2)  # no move: no write
            return Outcome.DONE

    stage: Stage = TRANSCRIPT_STAGE
    queues = LocalQueueStore(tmp_path / "queues.sqlite3")
    job = Work(
        stage,
        store,
        queues,
        heartbeat_seconds=60,
        progress_seconds=0.05,
        events=EventPublisher(hub, sink),
    )
    writes_before = store.operations["writes"]
    assert await job.run(Job(RecordingRef("m-1", "r-1"), "msg-1", 1)) == Outcome.DONE
    progress = [m["data"]["progress"] for m in hub.received["bob"] if m["type"] == "recording.status"]
    assert progress[0] == 0.0  # the claim: transcribing
    assert progress[1:] == sorted(progress[1:])
    assert 0.5 in progress
    assert len(progress) >= 4
    # At most one write per interval: 5 moves in ~0.25 s plus 0.2 s still, not one write per tick.
    assert store.operations["writes"] - writes_before <= 1 + 6
    await queues.aclose()
