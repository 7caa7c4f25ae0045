"""Live captions offline, through devhost as `make run` serves it: the local ACS stand-in plays a speech
file as the call's audio (4x real time) through pocketsphinx, the captions service beside the app gets
ACS's messages, a participant's live client hears the captions with names, and the call's end brings the
transcript (`source: live`) and the notes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.conftest import Server

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech" / "engineers.flac"


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


async def test_captions_from_a_file_reach_the_participants_and_become_the_notes(tmp_path: Path) -> None:
    server = Server(
        tmp_path / "data", LOCAL_CALL_AUDIO=str(SPEECH), LOCAL_CALL_AUDIO_SPEED="4", CAPTIONS_PORT="0"
    )
    try:
        async with aiohttp.ClientSession() as http:
            api = server.api
            starts = datetime.now(UTC) + timedelta(minutes=5)
            body = {
                "title": "Hiring",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + timedelta(minutes=30)).isoformat(),
                "participants": [{"userId": "bob", "role": "attendee", "displayName": "Bob"}],
            }
            async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
                meeting_id = (await reply.json())["id"]
            for user in ("alice", "bob"):
                async with http.post(f"{api}/meetings/{meeting_id}/join", headers=_auth(user)) as reply:
                    assert reply.status == 200
            async with http.get(f"{api}/realtime/negotiate", headers=_auth("bob")) as reply:
                url = (await reply.json())["url"]
            socket = await http.ws_connect(url, protocols=("json.webpubsub.azure.v1",))
            async with http.post(
                f"{api}/meetings/{meeting_id}/captions/start",
                json={"language": "en-US"},
                headers=_auth("alice"),
            ) as reply:
                assert reply.status == 202, await reply.text()
                recording_id = (await reply.json())["id"]
            events: list[dict[str, Any]] = []
            while not any(e["type"] == "summary.ready" for e in events):
                frame = await socket.receive(timeout=60)
                message = json.loads(frame.data)
                if message.get("type") == "message":
                    events.append(message["data"])
            await socket.close()
            captions = [e["data"] for e in events if e["type"] == "caption"]
            finals = [c for c in captions if c["final"]]
            assert finals, captions
            # A mono file is spoken by the organizer's side; pocketsphinx hears the file's words.
            assert {c["userId"] for c in captions} == {"alice"}
            assert "engineers" in " ".join(c["text"] for c in finals)
            async with http.get(
                f"{api}/meetings/{meeting_id}/recordings/{recording_id}/transcript", headers=_auth("bob")
            ) as reply:
                transcript = await reply.json()
            assert transcript["source"] == "live"
            assert [s["text"] for s in transcript["segments"]] == [c["text"] for c in finals]
    finally:
        assert server.stop() == 0, "".join(server.output)
