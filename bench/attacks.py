"""The attacks of issue 15 replayed against `devhost serve`, printing what leaked: the goal is 0 on each line.

One devhost (embedded backends, a temporary DATA_DIR, AUTH_MODE=dev) serves the real app. The bench plays
the attacker over HTTP and audits afterwards what the embedded backends hold (the local ACS stand-in's
tokens and rooms, the blob files) through the app's own adapters on the same DATA_DIR:

- removal race: a participant's DELETE racing that participant's joins, many rounds: a token that still
  verifies, or a room membership left, after the DELETE answered, is a leak;
- forged event: a BlobCreated for a recording whose file was never uploaded (and one naming a version
  storage does not hold): the recording leaving `awaiting_upload` is a leak;
- size lie: 1,000 bytes announced, 9 MB uploaded: anything but `failed` with `size_mismatch` is a leak;
- upload after deletion: the upload URL used after its recording was deleted: a file left is a leak;
- edge dates and nesting: instants past year 1 or 9999 in UTC, a body nested deeper than any stack:
  any 5xx is a leak;
- fail closed: dev auth in a hosted environment starting at all is a leak.

    python -m bench.attacks [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.api import Devhost

EDGE_INSTANTS = ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00")
NESTING = 30_000
SIZE_LIE_ANNOUNCED = 1_000
SIZE_LIE_SENT = 9 * 1024 * 1024
JOB_WAIT_S = 120


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


async def _meeting(http: aiohttp.ClientSession, api: str, guests: Sequence[str] = ("bob",)) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Attacked",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": g, "role": "presenter"} for g in guests],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_as("alice")) as reply:
        assert reply.status == 201, await reply.text()
        meeting: dict[str, Any] = await reply.json()
        return meeting


async def _recording(
    http: aiohttp.ClientSession, api: str, meeting_id: str, size: int, user: str = "alice"
) -> dict[str, Any]:
    body = {"fileName": "attack.wav", "contentType": "audio/wav", "sizeBytes": size}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=body, headers=_as(user)) as reply:
        assert reply.status == 201, await reply.text()
        created: dict[str, Any] = await reply.json()
        return created


async def _status(
    http: aiohttp.ClientSession, api: str, meeting_id: str, recording_id: str
) -> dict[str, Any]:
    async with http.get(
        f"{api}/meetings/{meeting_id}/recordings/{recording_id}", headers=_as("alice")
    ) as reply:
        recording: dict[str, Any] = await reply.json()
        return recording


async def _join(http: aiohttp.ClientSession, api: str, meeting_id: str, user: str) -> tuple[int, Any]:
    async with http.post(f"{api}/meetings/{meeting_id}/join", headers=_as(user)) as reply:
        return reply.status, await reply.json()


async def _later(steps: int, work: Any) -> Any:
    for _ in range(steps):
        await asyncio.sleep(0)
    return await work


async def removal_race(http: aiohttp.ClientSession, api: str, data_dir: Path, rounds: int) -> tuple[int, int]:
    from shared.adapters.local_communication import LocalCommunication

    acs = LocalCommunication(data_dir)
    leaks = 0
    try:
        for round_ in range(rounds):
            meeting = await _meeting(http, api)
            meeting_id = meeting["id"]
            if round_ % 3:
                await _join(http, api, meeting_id, "bob")
            lead, lag = (0, round_ % 7) if round_ % 2 else (round_ % 7, 0)

            async def remove(meeting_id: str = meeting_id) -> int:
                url = f"{api}/meetings/{meeting_id}/participants/bob"
                async with http.delete(url, headers=_as("alice")) as reply:
                    return reply.status

            removed, *joins = await asyncio.gather(
                _later(lead, remove()),
                _later(lag, _join(http, api, meeting_id, "bob")),
                _later(lag + 2, _join(http, api, meeting_id, "bob")),
            )
            assert removed == 204, removed
            acs_ids = set()
            for status, answer in joins:
                if status == 200:
                    acs_ids.add(answer["acsUserId"])
                    if await acs.verify_token(answer["token"]) is not None:
                        leaks += 1
            members = await acs.room_members(meeting["roomId"])
            leaks += len(acs_ids & set(members))
    finally:
        await acs.aclose()
    return leaks, rounds


async def forged_events(http: aiohttp.ClientSession, api: str, base: str) -> tuple[int, int]:
    meeting = await _meeting(http, api)
    leaks = tries = 0
    for etag in (None, '"0x8DC0FFEE0000000"'):
        created = await _recording(http, api, meeting["id"], 1_000)
        name = f"{meeting['id']}/{created['id']}/source.wav"
        data: dict[str, Any] = {
            "api": "PutBlob",
            "contentLength": 1_000,
            "url": f"https://x/recordings/{name}",
        }
        if etag is not None:
            data["eTag"] = etag
        event = {
            "id": f"forged-{tries}",
            "eventType": "Microsoft.Storage.BlobCreated",
            "subject": f"/blobServices/default/containers/recordings/blobs/{name}",
            "eventTime": datetime.now(UTC).isoformat(),
            "data": data,
            "dataVersion": "1",
        }
        url = f"{base}/runtime/webhooks/EventGrid?functionName=recording_uploaded"
        async with http.post(url, json=[event], headers={"aeg-event-type": "Notification"}) as reply:
            await reply.read()
        tries += 1
        if (await _status(http, api, meeting["id"], created["id"]))["status"] != "awaiting_upload":
            leaks += 1
    return leaks, tries


async def size_lie(http: aiohttp.ClientSession, api: str) -> tuple[int, int]:
    meeting = await _meeting(http, api)
    created = await _recording(http, api, meeting["id"], SIZE_LIE_ANNOUNCED)
    upload = created["upload"]
    async with http.put(upload["url"], data=b"\0" * SIZE_LIE_SENT, headers=upload["headers"]) as reply:
        await reply.read()
        if reply.status >= 300:
            return 0, 1  # refused at the door: nothing to transcribe
    deadline = time.monotonic() + JOB_WAIT_S
    while time.monotonic() < deadline:
        recording = await _status(http, api, meeting["id"], created["id"])
        if recording["status"] in ("failed", "completed", "summarizing"):
            error = recording.get("error") or {}
            return (0 if recording["status"] == "failed" and error.get("code") == "size_mismatch" else 1), 1
        await asyncio.sleep(0.5)
    return 1, 1


async def upload_after_deletion(http: aiohttp.ClientSession, api: str, data_dir: Path) -> tuple[int, int]:
    meeting = await _meeting(http, api)
    created = await _recording(http, api, meeting["id"], 4)
    url = f"{api}/meetings/{meeting['id']}/recordings/{created['id']}"
    async with http.delete(url, headers=_as("alice")) as reply:
        assert reply.status == 204, await reply.text()
    upload = created["upload"]
    async with http.put(upload["url"], data=b"RIFF", headers=upload["headers"]) as reply:
        await reply.read()
    folder = data_dir / "blobs" / "recordings" / meeting["id"] / created["id"]
    for _ in range(50):  # the upload's event is handled in the background: up to 10 s
        if not any(folder.glob("source.*")):
            return 0, 1
        await asyncio.sleep(0.2)
    return 1, 1


async def no_500(http: aiohttp.ClientSession, api: str) -> tuple[int, int]:
    leaks = tries = 0
    for instant in EDGE_INSTANTS:
        body = {"title": "Edge", "startsAt": instant, "endsAt": instant}
        async with http.post(f"{api}/meetings", json=body, headers=_as("alice")) as reply:
            leaks += reply.status >= 500
            tries += 1
        async with http.get(f"{api}/meetings", params={"from": instant}, headers=_as("alice")) as reply:
            leaks += reply.status >= 500
            tries += 1
    nested = b'{"title": "x", "participants": ' + b"[" * NESTING + b"]" * NESTING + b"}"
    headers = {**_as("alice"), "Content-Type": "application/json"}
    async with http.post(f"{api}/meetings", data=nested, headers=headers) as reply:
        leaks += reply.status >= 500
        tries += 1
    return leaks, tries


def fail_closed() -> tuple[int, int]:
    from shared.startup import HOSTED_SIGNS, unsafe_configuration

    leaks = sum(unsafe_configuration({"AUTH_MODE": "dev", sign: "x"}) is None for sign in HOSTED_SIGNS)
    return leaks, len(HOSTED_SIGNS)


async def run(rounds: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-attacks-") as tmp:
        data_dir = Path(tmp) / "data"
        server = Devhost(data_dir, Path(tmp) / "devhost.log")
        try:
            base = server.api.removesuffix("/api")
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=JOB_WAIT_S)) as http:
                results = {
                    f"removal racing joins ({rounds} rounds): tokens or seats left": await removal_race(
                        http, server.api, data_dir, rounds
                    ),
                    "forged BlobCreated (no file, made-up version): recordings started": await forged_events(
                        http, server.api, base
                    ),
                    "size lie (1 kB announced, 9 MB sent): transcribed": await size_lie(http, server.api),
                    "upload after its recording was deleted: files left": await upload_after_deletion(
                        http, server.api, data_dir
                    ),
                    "edge instants and deep nesting: 5xx answers": await no_500(http, server.api),
                    "dev auth on a hosted environment: started": fail_closed(),
                }
        finally:
            server.stop()
    print("bench.attacks: what leaked (goal 0 on every line)")
    for name, (leaked, tries) in results.items():
        verdict = "ok" if leaked == 0 else "LEAK"
        print(f"  {name}: {leaked} of {tries}  [{verdict}]")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the removal race")
    args = parser.parse_args(argv)
    os.environ.pop("WEBSITE_INSTANCE_ID", None)
    return asyncio.run(run(args.rounds))


if __name__ == "__main__":
    sys.exit(main())
