"""A recording's upload, end to end on `devhost serve`: the app's upload URL, devhost's upload route, the
BlobCreated event to `recording_uploaded`, and the transcription job off the queue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.conftest import Server

ALICE = {"Authorization": "Bearer dev:alice"}
NOT_AUDIO = b"RIFF, but not really" * 100


async def test_an_upload_reaches_the_pipeline(server: Server, http: aiohttp.ClientSession) -> None:
    api = server.api
    starts = datetime.now(UTC) + timedelta(days=1)
    meeting = {
        "title": "Recorded",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
    }
    async with http.post(f"{api}/meetings", json=meeting, headers=ALICE) as reply:
        assert reply.status == 201
        meeting_id = (await reply.json())["id"]
    recording = {"fileName": "talk.wav", "contentType": "audio/wav", "sizeBytes": len(NOT_AUDIO)}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=recording, headers=ALICE) as reply:
        assert reply.status == 201
        created = await reply.json()
    assert created["status"] == "awaiting_upload"
    upload = created["upload"]

    async with http.request(
        upload["method"], upload["url"], data=NOT_AUDIO, headers=upload["headers"]
    ) as reply:
        assert reply.status == 201
        assert reply.headers["ETag"]
    async with http.request(
        upload["method"], upload["url"] + "x", data=NOT_AUDIO, headers=upload["headers"]
    ) as reply:
        assert reply.status == 403  # a tampered signature
        assert reply.content_type == "application/problem+json"

    # The event queues the job and the job runs (and fails the recording: these bytes are no audio).
    url = f"{api}/meetings/{meeting_id}/recordings/{created['id']}"
    for _ in range(100):
        async with http.get(url, headers=ALICE) as reply:
            status = (await reply.json())["status"]
        if status == "failed":
            break
        await asyncio.sleep(0.1)
    assert status == "failed"
    assert server.stop() == 0
    log = "".join(server.output)
    assert "eventgrid function=recording_uploaded" in log
    assert "queue transcription-jobs function=transcription_job" in log


async def test_a_restart_starts_nothing_no_upload_asked_for(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """Restarting `make run` announces no blob announced before (Storage would not either): a failed
    recording whose file did not change stays failed, and is not transcribed again."""
    first = Server(tmp_path / "data")
    try:
        api = first.api
        starts = datetime.now(UTC) + timedelta(days=1)
        meeting = {
            "title": "R",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + timedelta(hours=1)).isoformat(),
        }
        async with http.post(f"{api}/meetings", json=meeting, headers=ALICE) as reply:
            meeting_id = (await reply.json())["id"]
        recording = {"fileName": "talk.wav", "contentType": "audio/wav", "sizeBytes": len(NOT_AUDIO)}
        async with http.post(
            f"{api}/meetings/{meeting_id}/recordings", json=recording, headers=ALICE
        ) as reply:
            created = await reply.json()
        upload = created["upload"]
        async with http.request(
            upload["method"], upload["url"], data=NOT_AUDIO, headers=upload["headers"]
        ) as reply:
            assert reply.status == 201
        path = f"/meetings/{meeting_id}/recordings/{created['id']}"
        failed = await _settled(http, api + path)
        assert failed["status"] == "failed"
    finally:
        assert first.stop() == 0

    again = Server(tmp_path / "data")
    try:
        await asyncio.sleep(3.0)  # the blob watcher's first listings, and a job's time to start
        async with http.get(again.api + path, headers=ALICE) as reply:
            after = await reply.json()
        assert after["status"] == "failed"
        assert after["updatedAt"] == failed["updatedAt"]
    finally:
        assert again.stop() == 0
    log = "".join(again.output)
    assert "starting over" not in log
    assert "function=recording_uploaded" not in log  # the blob was announced before the restart
    assert "function=transcription_job" not in log


async def _settled(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    for _ in range(100):
        async with http.get(url, headers=ALICE) as reply:
            recording: dict[str, Any] = await reply.json()
        if recording["status"] in ("failed", "completed"):
            break
        await asyncio.sleep(0.1)
    return recording
