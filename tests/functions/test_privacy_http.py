"""The caller's own data, through the functions on both stores: the export holds what is theirs, and an
erasure (a job, finished across a crash) leaves nothing the embedded backends store holding their id,
their name or their words."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.bootstrap import Services
from shared.domain.recording_paths import ARTIFACTS
from shared.schemas import ExportOut
from tests import audio
from tests.conftest import FunctionCaller
from tests.functions import test_recordings_http
from tests.functions.test_recordings_http import _create, _run_jobs, _transcript, _upload

ERIN = "erin.q7"
ERIN_NAME = "Erin Quartz"
ERIN_WORDS = "pineapple zeta velocity"
BOB_WORDS = "thanks Erin Quartz for the numbers"


async def _meeting(call: FunctionCaller, organizer: str, participants: list[str], title: str) -> str:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": title,
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": p, "role": "attendee"} for p in participants],
    }
    reply = await call("create_meeting", "POST", "meetings", user=organizer, json_body=body)
    assert reply.status == 201, reply.body
    return str(reply.json()["id"])


async def _recorded(call: FunctionCaller, services: Services, meeting_id: str) -> str:
    """A two-channel recording in which erin speaks on 0 and bob on 1, transcribed and summarized, with
    words of their own (the fake transcriber's are only piece numbers)."""
    channels = [{"channel": 0, "userId": ERIN}, {"channel": 1, "userId": "bob"}]
    left = audio.pcm([("tone", 1.0), ("silence", 3.0)])
    right = audio.pcm([("silence", 2.0), ("noise", 1.0), ("silence", 1.0)])
    stereo = audio.wav([left, right])
    created = await _create(call, meeting_id, channels=channels, sizeBytes=len(stereo))
    recording_id = str(created.json()["id"])
    await _upload(services, meeting_id, recording_id, stereo)
    await _run_jobs(services, "transcription_job")
    name = f"{meeting_id}/{recording_id}/transcript.json"
    transcript = json.loads(await services.blobs.get(ARTIFACTS, name))
    words = {"ch0": ERIN_WORDS, "ch1": BOB_WORDS}
    for segment in transcript["segments"]:
        segment["text"] = words[segment["speaker"]]
    await services.blobs.put(
        ARTIFACTS, name, json.dumps(transcript).encode(), content_type="application/json"
    )
    await _run_jobs(services, "summary_job")
    return recording_id


async def _scene(call: FunctionCaller, services: Services) -> dict[str, str]:
    """alice organizes m1 (erin, bob); erin organizes m2 (alice, bob) and m3 (pat); erin has a name in m1,
    has joined m1's call (an ACS identity), and speaks in m1's recording."""
    m1 = await _meeting(call, "alice", [ERIN, "bob"], "Budget review")
    m2 = await _meeting(call, ERIN, ["alice", "bob"], "Erin's planning")
    m3 = await _meeting(call, ERIN, ["pat"], "Erin and Pat")
    renamed = await call(
        "rename_participant", "PATCH", "p", user=ERIN, route={"meetingId": m1, "userId": ERIN},
        json_body={"displayName": ERIN_NAME},
    )  # fmt: skip
    assert renamed.status == 200
    assert (await call("join_meeting", "POST", "j", user=ERIN, route={"meetingId": m1})).status == 200
    recording_id = await _recorded(call, services, m1)
    return {"m1": m1, "m2": m2, "m3": m3, "recording": recording_id}


async def test_the_export_holds_what_is_theirs(call: FunctionCaller, services: Services) -> None:
    scene = await _scene(call, services)
    reply = await call("export_me", "GET", "me/export", user=ERIN)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    exported = ExportOut.model_validate_json(reply.body)  # the document OpenAPI describes
    body = reply.json()
    assert body["userId"] == ERIN
    assert body["acsIdentity"]["acsUserId"]
    assert sorted(m["meetingId"] for m in body["memberships"]) == sorted(
        [scene["m1"], scene["m2"], scene["m3"]]
    )
    assert sorted(m["id"] for m in body["meetingsOrganized"]) == sorted([scene["m2"], scene["m3"]])
    assert [(s["meetingId"], s["recordingId"], s["text"]) for s in body["transcriptSegments"]] == [
        (scene["m1"], scene["recording"], ERIN_WORDS)
    ]
    # The fake summarizer makes the first speaker (erin, on channel 0) the owner of its action item.
    assert [(a["owner"], a["task"]) for a in body["actionItems"]] == [(ERIN_NAME, "Follow up")]
    assert len(exported.memberships) == 3

    # Someone else's export holds none of erin's words, and what they organize.
    bob = (await call("export_me", "GET", "me/export", user="bob")).json()
    assert bob["acsIdentity"] is None
    assert bob["meetingsOrganized"] == []
    assert [s["text"] for s in bob["transcriptSegments"]] == [BOB_WORDS]
    assert bob["actionItems"] == []
    nobody = (await call("export_me", "GET", "me/export", user="newcomer")).json()
    assert (nobody["memberships"], nobody["transcriptSegments"], nobody["acsIdentity"]) == ([], [], None)


def _stored_text(data_dir: Path) -> dict[str, str]:
    """Everything the embedded backends keep, as text per place: each SQLite database row by row (the
    store, the queues, the local ACS), every other file as it is."""
    found: dict[str, str] = {}
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # part of their database, read through it below
        head = path.read_bytes()[:16]
        if head == b"SQLite format 3\x00":
            with sqlite3.connect(path) as conn:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    for row in conn.execute(f'SELECT * FROM "{table}"'):
                        found[f"{path.name}:{table}:{row[:2]}"] = " ".join(
                            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                        )
        else:
            found[str(path.relative_to(data_dir))] = path.read_bytes().decode("utf-8", "replace")
    return found


async def _cosmos_text(services: Services) -> dict[str, str]:
    """Every document of both containers, when the store is the Cosmos adapter (on the emulator)."""
    from shared.adapters.cosmos_store import CosmosStore

    store = services.store
    if not isinstance(store, CosmosStore):
        return {}
    found: dict[str, str] = {}
    for container in (await store._meetings(), await store._users()):
        async for doc in container.query_items("SELECT * FROM c"):
            found[f"cosmos:{container.id}:{doc['id']}"] = json.dumps(doc)
    return found


async def _holding(services: Services, *needles: str) -> list[tuple[str, str]]:
    stored = {**_stored_text(services.settings.data_dir), **await _cosmos_text(services)}
    return [
        (place, needle)
        for place, text in stored.items()
        for needle in needles
        if needle.lower() in text.lower() or needle.lower() in place.lower()
    ]


async def _run_erasure(services: Services) -> int:
    return await _run_jobs(services, "erasure_job")


@pytest.fixture(autouse=True)
def _erasure_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(test_recordings_http.QUEUE_OF, "erasure_job", "erasure-jobs")


async def test_erasure_leaves_nothing_of_them_and_finishes_across_a_crash(
    call: FunctionCaller, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = await _scene(call, services)
    acs_user_id = (await call("export_me", "GET", "me/export", user=ERIN)).json()["acsIdentity"]["acsUserId"]
    before = {
        place.split(":")[0].split("/")[0]
        for place, _ in await _holding(services, ERIN, ERIN_NAME, ERIN_WORDS, acs_user_id)
    }
    store = "cosmos" if services.store.__class__.__name__ == "CosmosStore" else "store.sqlite3"
    assert before == {"blobs", store, "local-acs.sqlite3", "search.sqlite3"}  # the scan sees every backend

    reply = await call("erase_me", "DELETE", "me", user=ERIN, params={"newOrganizer": "bob"})
    assert reply.status == 202
    assert reply.headers["location"] == "/api/me/erasure"
    job = reply.json()
    assert (job["status"], job["meetingsTotal"], job["meetingsDone"]) == ("queued", None, 0)
    status = await call("get_my_erasure", "GET", "me/erasure", user=ERIN)
    assert status.status == 200
    assert status.json()["id"] == job["id"]
    # Asked again while it waits: the same job.
    assert (await call("erase_me", "DELETE", "me", user=ERIN)).json()["id"] == job["id"]

    # The worker dies in the second meeting, after the first one's step was recorded.
    forget = services.erasure._meetings.forget
    calls: list[str] = []

    async def crashing(meeting_id: str, user_id: str, new_organizer: str | None) -> str | None:
        calls.append(meeting_id)
        if len(calls) == 2:
            raise RuntimeError("the instance went away")
        return await forget(meeting_id, user_id, new_organizer)

    monkeypatch.setattr(services.erasure._meetings, "forget", crashing)
    with pytest.raises(RuntimeError, match="went away"):
        await _run_erasure(services)
    midway = (await call("get_my_erasure", "GET", "me/erasure", user=ERIN)).json()
    assert (midway["status"], midway["meetingsTotal"], midway["meetingsDone"]) == ("running", 3, 1)

    # Its messages are hidden for their lease; asking again queues it anew (as after a poisoned message):
    # it resumes from the step recorded and finishes.
    monkeypatch.setattr(services.erasure._meetings, "forget", forget)
    resumed = await call("erase_me", "DELETE", "me", user=ERIN)
    assert (resumed.json()["id"], resumed.json()["status"]) == (job["id"], "running")
    assert await _run_erasure(services) == 1
    done = (await call("get_my_erasure", "GET", "me/erasure", user=ERIN)).json()
    assert done["status"] == "completed"
    assert done["completedAt"] is not None
    assert (done["meetingsTotal"], done["meetingsDone"]) == (3, 3)
    assert done["counts"] == {
        "membershipsRemoved": 3,
        "meetingsLeft": 1,
        "meetingsHandedOver": 1,
        "meetingsCancelled": 1,
        "recordingsScrubbed": 1,
        "segmentsRemoved": 1,
        "acsIdentityDeleted": True,
        "searchIndexUpdated": True,
        "documentsDeleted": done["counts"]["documentsDeleted"],
    }
    assert done["counts"]["documentsDeleted"] >= 4  # three membership entries (or tombstones), the identity

    # What the others see: erin's words are a marker, her name "a former participant".
    transcript = (await _transcript(call, scene["m1"], scene["recording"], "json")).json()
    assert transcript["speakers"][0] == {"id": "ch0", "userId": None, "displayName": "a former participant"}
    assert [s["text"] for s in transcript["segments"]] == [
        "[removed]",
        "thanks a former participant for the numbers",
    ]
    route = {"meetingId": scene["m1"], "recordingId": scene["recording"]}
    summary = await call("get_summary", "GET", "s", route=route, params={"format": "json"})
    assert summary.json()["actionItems"][0]["owner"] == "a former participant"
    m1 = (await call("get_meeting", "GET", "m", user="alice", route={"meetingId": scene["m1"]})).json()
    assert [p["userId"] for p in m1["participants"]] == ["alice", "bob"]
    m2 = (await call("get_meeting", "GET", "m", user="bob", route={"meetingId": scene["m2"]})).json()
    assert (m2["organizerId"], m2["status"]) == ("bob", "scheduled")
    assert {(p["userId"], p["role"]) for p in m2["participants"]} == {
        ("alice", "attendee"),
        ("bob", "presenter"),
    }
    m3 = (await call("get_meeting", "GET", "m", user="pat", route={"meetingId": scene["m3"]})).json()
    assert (m3["organizerId"], m3["status"]) == ("~erased", "cancelled")
    listed = await call("list_meetings", "GET", "meetings", user=ERIN)
    assert listed.json()["items"] == []

    # The measure: nothing the embedded backends store holds erin's id, name or words.
    assert await _holding(services, ERIN, ERIN_NAME, ERIN_WORDS, acs_user_id) == []

    # Asked again once done: a new job (the user may have come back since), which finds nothing to do.
    again = await call("erase_me", "DELETE", "me", user=ERIN)
    assert again.json()["id"] != job["id"]
    assert await _run_erasure(services) == 1
    empty: dict[str, Any] = (await call("get_my_erasure", "GET", "me/erasure", user=ERIN)).json()
    assert empty["status"] == "completed"
    assert empty["counts"]["membershipsRemoved"] == 0


async def test_erasure_requests_are_checked(call: FunctionCaller) -> None:
    assert (await call("get_my_erasure", "GET", "me/erasure", user=ERIN)).status == 404
    bad = await call("erase_me", "DELETE", "me", user=ERIN, params={"newOrganizer": "not an id!"})
    assert bad.status == 400
    assert bad.headers["content-type"] == "application/problem+json"
    itself = await call("erase_me", "DELETE", "me", user=ERIN, params={"newOrganizer": ERIN})
    assert itself.status == 400
    assert (await call("erase_me", "DELETE", "me", user=None)).status == 401
    assert (await call("export_me", "GET", "me/export", user=None)).status == 401
