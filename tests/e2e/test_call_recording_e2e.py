"""Recording a meeting's call as a new user would try it with `make run` and the local ACS stand-in:
join, start recording, stop, deliver the recording (the devhost command playing ACS), and the recording
ends with a transcript whose speakers are the participants, and a summary."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import audio
from tests.e2e.conftest import ROOT, Server

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


async def test_start_stop_deliver_and_the_call_is_transcribed(
    server: Server, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    api = server.api
    starts = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    meeting = {
        "title": "Hiring sync",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(minutes=30)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=meeting, headers=_as("alice")) as reply:
        meeting_id = (await reply.json())["id"]
    for user in ("alice", "bob"):  # joining gives each their ACS identity, which the metadata names
        async with http.post(f"{api}/meetings/{meeting_id}/join", headers=_as(user)) as reply:
            assert reply.status == 200
    start = {"content": "audio", "channels": "unmixed", "language": "en"}
    async with http.post(
        f"{api}/meetings/{meeting_id}/recording/start", json=start, headers=_as("alice")
    ) as reply:
        assert reply.status == 202, await reply.text()
        recording_id = (await reply.json())["id"]
    async with http.post(f"{api}/meetings/{meeting_id}/recording/stop", headers=_as("alice")) as reply:
        assert (await reply.json())["status"] == "awaiting_upload"

    first, second = audio.decode(SPEECH / "engineers.flac"), audio.decode(SPEECH / "questions.flac")
    gap = audio.silence(len(first) / 32000 + 2.0)
    file = tmp_path / "call.wav"
    file.write_bytes(audio.wav([first + audio.silence(2.0 + len(second) / 32000), gap + second]))
    env = {**os.environ, "DATA_DIR": server.data_dir}
    command = [sys.executable, "-m", "devhost", "deliver-recording", meeting_id, recording_id, str(file),
               "--channels", "0=alice,1=bob", "--url", api.removesuffix("/api")]  # fmt: skip
    delivered = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert delivered.returncode == 0, delivered.stderr

    url = f"{api}/meetings/{meeting_id}/recordings/{recording_id}"
    for _ in range(600):
        async with http.get(url, headers=_as("bob")) as reply:
            recording: dict[str, Any] = await reply.json()
        if recording["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.1)
    assert recording["status"] == "completed", recording
    assert recording["channels"] == [{"channel": 0, "userId": "alice"}, {"channel": 1, "userId": "bob"}]
    async with http.get(f"{url}/transcript", headers=_as("bob")) as reply:
        transcript = await reply.json()
    assert [s["speaker"] for s in transcript["segments"]] == ["ch0", "ch1"]
    assert [s["userId"] for s in transcript["speakers"]] == ["alice", "bob"]
    assert transcript["segments"][1]["start"] == pytest.approx(len(first) / 32000 + 2.0, abs=0.4)
    async with http.get(f"{url}/summary?format=md", headers=_as("bob")) as reply:
        assert (await reply.text()).startswith("# Hiring sync")

    # The same event again (Event Grid delivers at least once): nothing changes.
    again = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert (
        again.returncode != 0
    )  # the stand-in delivers a recording once; its event replay is in the contract tests
    assert server.stop() == 0


async def test_a_delivery_nothing_took_can_be_made_again(
    server: Server, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """`make run` on another port than the command thinks: the recording must not be stranded."""
    api = server.api
    starts = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    meeting = {
        "title": "t",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
    }
    async with http.post(f"{api}/meetings", json=meeting, headers=_as("alice")) as reply:
        meeting_id = (await reply.json())["id"]
    async with http.post(f"{api}/meetings/{meeting_id}/join", headers=_as("alice")) as reply:
        assert reply.status == 200
    async with http.post(
        f"{api}/meetings/{meeting_id}/recording/start",
        json={"content": "audio", "channels": "unmixed"},
        headers=_as("alice"),
    ) as reply:
        assert reply.status == 202, await reply.text()
        recording_id = (await reply.json())["id"]
    async with http.post(f"{api}/meetings/{meeting_id}/recording/stop", headers=_as("alice")) as reply:
        assert reply.status == 202, await reply.text()
    file = tmp_path / "call.wav"
    file.write_bytes(audio.wav([audio.silence(1.0)]))
    command = [sys.executable, "-m", "devhost", "deliver-recording", meeting_id, recording_id, str(file)]

    def deliver(port: int) -> subprocess.CompletedProcess[str]:
        # No --url: PORT and DATA_DIR, as `make run` reads them.
        env = {**os.environ, "DATA_DIR": server.data_dir, "PORT": str(port)}
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    with socket.socket() as unused:  # bound, not listening: nothing answers there
        unused.bind(("127.0.0.1", 0))
        missed = await asyncio.to_thread(deliver, unused.getsockname()[1])
    assert missed.returncode == 4, missed.stderr
    assert "PORT=" in missed.stderr
    delivered = await asyncio.to_thread(deliver, int(api.rsplit(":", 1)[1].split("/")[0]))
    assert delivered.returncode == 0, delivered.stderr

    url = f"{api}/meetings/{meeting_id}/recordings/{recording_id}"
    for _ in range(300):
        async with http.get(url, headers=_as("alice")) as reply:
            recording: dict[str, Any] = await reply.json()
        if recording["call"]["state"] == "fetched":
            break
        await asyncio.sleep(0.1)
    assert recording["call"]["state"] == "fetched", recording
    # Delivered now, once: the stand-in refuses a second delivery.
    again = await asyncio.to_thread(deliver, int(api.rsplit(":", 1)[1].split("/")[0]))
    assert again.returncode == 2
    assert "delivered already" in again.stderr
    assert server.stop() == 0
