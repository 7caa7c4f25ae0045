"""Recordings through `devhost serve` as a new user would try them: the embedded backends, the offline
transcriber (pocketsphinx) and the offline summarizer, with spoken audio (committed espeak-ng fixtures).

An mp3, an mp4 and an unmixed two-channel wav each end `completed`, with their sentences at the right
times and, for the unmixed one, the right speakers; a broken file ends `failed` with a precise error.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import audio
from tests.e2e.conftest import Server

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"
ALICE = {"Authorization": "Bearer dev:alice"}
GAP = 2.0  # seconds of silence between the two sentences


def _sentences() -> tuple[bytes, bytes, float]:
    """Two spoken sentences as 16 kHz PCM, and where the second starts when they follow with GAP."""
    first = audio.decode(SPEECH / "engineers.flac")
    second = audio.decode(SPEECH / "questions.flac")
    return first, second, len(first) / 32000 + GAP


def _recordings() -> dict[str, tuple[bytes, str, list[dict[str, Any]]]]:
    first, second, _ = _sentences()
    mixed = first + audio.silence(GAP) + second
    left = first + audio.silence(GAP + len(second) / 32000)
    right = audio.silence(len(first) / 32000 + GAP) + second
    return {
        "mp3": (audio.encode(mixed, "mp3"), "audio/mpeg", []),
        "mp4": (audio.encode(mixed, "mp4"), "video/mp4", []),
        "unmixed": (
            audio.wav([left, right]),
            "audio/wav",
            [{"channel": 0, "userId": "alice"}, {"channel": 1, "userId": "bob"}],
        ),
        "broken": (b"ID3" + bytes(4000), "audio/mpeg", []),
    }


async def _meeting(http: aiohttp.ClientSession, api: str) -> str:
    starts = datetime.now(UTC) + timedelta(days=1)
    body = {
        "title": "Hiring",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=ALICE) as reply:
        assert reply.status == 201
        return str((await reply.json())["id"])


async def _upload(
    http: aiohttp.ClientSession, api: str, meeting_id: str, data: bytes, content_type: str, channels: Any
) -> str:
    body = {"fileName": "meeting", "contentType": content_type, "sizeBytes": len(data), "channels": channels}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=body, headers=ALICE) as reply:
        assert reply.status == 201, await reply.text()
        created = await reply.json()
    upload = created["upload"]
    async with http.request(upload["method"], upload["url"], data=data, headers=upload["headers"]) as reply:
        assert reply.status == 201, await reply.text()
    return str(created["id"])


async def _settled(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    for _ in range(600):
        async with http.get(url, headers=ALICE) as reply:
            recording: dict[str, Any] = await reply.json()
        if recording["status"] in ("completed", "failed"):
            return recording
        await asyncio.sleep(0.1)
    pytest.fail(f"the recording did not settle: {recording}")


async def test_uploads_end_completed_with_timings_speakers_and_summaries(
    server: Server, http: aiohttp.ClientSession
) -> None:
    api = server.api
    meeting_id = await _meeting(http, api)
    rename = f"{api}/meetings/{meeting_id}/participants/bob"
    bob = {"Authorization": "Bearer dev:bob"}
    async with http.patch(rename, json={"displayName": "Bob B."}, headers=bob) as reply:
        assert reply.status == 200, await reply.text()
    recordings = _recordings()
    ids = {
        name: await _upload(http, api, meeting_id, data, content_type, channels)
        for name, (data, content_type, channels) in recordings.items()
    }
    _, _, second_starts = _sentences()
    for name, recording_id in ids.items():
        url = f"{api}/meetings/{meeting_id}/recordings/{recording_id}"
        recording = await _settled(http, url)
        if name == "broken":
            assert recording["status"] == "failed"
            assert recording["error"]["code"].startswith("media_"), recording["error"]
            continue
        assert recording["status"] == "completed", (name, recording["error"])
        assert recording["usage"][0]["provider"] == "local:pocketsphinx"
        async with http.get(f"{url}/transcript", headers=ALICE) as reply:
            transcript = await reply.json()
        segments = transcript["segments"]
        starts = [s["start"] for s in segments]
        # One utterance per sentence, where it was spoken (pieces may carry a little lead-in).
        assert len(segments) == 2, (name, segments)
        assert starts[0] == pytest.approx(0.0, abs=0.4), name
        assert starts[1] == pytest.approx(second_starts, abs=0.4), name
        words = " ".join(s["text"] for s in segments).lower()
        # Sentences now (capitalised, a stop at the end): the words without their punctuation.
        assert {"engineers", "questions"} & set(re.findall(r"[a-z']+", words)), (name, words)
        if name == "unmixed":
            assert transcript["speakers"] == [
                {"id": "ch0", "userId": "alice", "displayName": None},
                {"id": "ch1", "userId": "bob", "displayName": "Bob B."},
            ]
            assert [s["speaker"] for s in segments] == ["ch0", "ch1"]
            async with http.get(f"{url}/transcript?format=vtt", headers=ALICE) as reply:
                assert "<v Bob B.>" in await reply.text()
        # The file plays back through its read URL (devhost's read route), by ranges.
        async with http.get(f"{url}/media", headers=bob) as reply:
            assert reply.status == 200
            media = (await reply.json())["url"]
        data, content_type, _ = recordings[name]
        async with http.get(media) as reply:
            assert (reply.status, reply.headers["Content-Type"]) == (200, content_type)
            assert await reply.read() == data
        async with http.get(media, headers={"Range": "bytes=100-199"}) as reply:
            assert (reply.status, await reply.read()) == (206, data[100:200])
        async with http.get(f"{url}/summary", headers=ALICE) as reply:
            assert reply.status == 200
            summary = await reply.json()
        assert summary["model"] == "local:extractive"
        async with http.get(f"{url}/summary?format=md", headers=ALICE) as reply:
            assert (await reply.text()).startswith("# Hiring")
    assert server.stop() == 0
    log = "".join(server.output)
    assert "failed for good (media_" in log  # the broken file, logged with its reason
    assert "Traceback" not in log  # and nothing failed unexpectedly
