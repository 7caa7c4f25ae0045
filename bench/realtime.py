"""The live channel on devhost (`make run`'s embedded stand-in for Web PubSub), measured from outside:

1. Latency: a participant's WebSocket client (json.webpubsub.azure.v1) waits for the event of a PATCH.
   Measured from the moment the PATCH is sent (so the store write is inside the figure: an upper bound of
   "state stored -> event received") to the event's arrival. Goal: median < 100 ms, p95 < 500 ms.
2. Fan-out: N clients (default 200) connected on one meeting and 20 on another; every client of the first
   must receive every event of the first, and none of the second's.

    python -m bench.realtime [--rounds 50] [--clients 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = "json.webpubsub.azure.v1"


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


def _start(data_dir: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "DATA_DIR": data_dir, "AUTH_MODE": "dev", "PYTHONUNBUFFERED": "1"}
    env.pop("WEBSITE_INSTANCE_ID", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"Serving \d+ functions on (http://\S+)", line)
        if found:
            # Keep reading: a server whose log fills the pipe would block on its next line.
            threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
            return process, found.group(1)
    raise RuntimeError("devhost exited before serving")


async def _meeting(http: aiohttp.ClientSession, api: str, guests: list[str]) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    body = {
        "title": "Bench",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": g, "role": "attendee"} for g in guests],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        assert reply.status == 201, await reply.text()
        meeting_id: str = (await reply.json())["id"]
    return meeting_id


async def _connect(http: aiohttp.ClientSession, api: str, user: str) -> aiohttp.ClientWebSocketResponse:
    async with http.get(f"{api}/realtime/negotiate", headers=_auth(user)) as reply:
        url = (await reply.json())["url"]
    socket = await http.ws_connect(url, protocols=(PROTOCOL,))
    connected = json.loads((await socket.receive(timeout=10)).data)
    assert connected["event"] == "connected", connected
    return socket


async def _next_event(socket: aiohttp.ClientWebSocketResponse, wait: float = 10.0) -> dict[str, Any]:
    while True:
        message = json.loads((await socket.receive(timeout=wait)).data)
        if message.get("type") == "message":
            data: dict[str, Any] = message["data"]
            return data


async def _latency(http: aiohttp.ClientSession, api: str, rounds: int) -> list[float]:
    meeting_id = await _meeting(http, api, ["bob"])
    socket = await _connect(http, api, "bob")
    samples: list[float] = []
    try:
        for n in range(rounds + 3):
            sent = time.perf_counter()
            patch = http.patch(
                f"{api}/meetings/{meeting_id}", json={"title": f"Bench {n}"}, headers=_auth("alice")
            )
            async with patch as reply:
                assert reply.status == 200
            event = await _next_event(socket)
            arrived = time.perf_counter()
            assert event["type"] == "meeting.updated"
            assert event["data"]["title"] == f"Bench {n}"
            if n >= 3:  # the first rounds warm up the app's services
                samples.append((arrived - sent) * 1000)
    finally:
        await socket.close()
    return samples


async def _fan_out(http: aiohttp.ClientSession, api: str, clients: int, events: int) -> tuple[int, int, int]:
    """(events each client of the busy meeting received: min, events expected, events the others got)."""
    users = [f"user{n}" for n in range(clients)]
    others = [f"other{n}" for n in range(20)]
    busy = await _meeting(http, api, users)
    quiet = await _meeting(http, api, others)
    sockets = [await _connect(http, api, u) for u in users]
    strangers = [await _connect(http, api, u) for u in others]
    counts = [0] * len(sockets)
    try:
        for n in range(events):
            async with http.patch(
                f"{api}/meetings/{busy}", json={"title": f"Busy {n}"}, headers=_auth("alice")
            ) as r:
                assert r.status == 200

        async def drain(i: int) -> None:
            while counts[i] < events:
                event = await _next_event(sockets[i])
                assert event["meetingId"] == busy
                counts[i] += 1

        await asyncio.gather(*(drain(i) for i in range(len(sockets))))
        leaked = 0
        for socket in strangers:
            try:
                await _next_event(socket, wait=0.05)
                leaked += 1
            except TimeoutError:
                pass
        del quiet
    finally:
        for socket in [*sockets, *strangers]:
            await socket.close()
    return min(counts), events, leaked


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(rounds: int, clients: int, events: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as data_dir:
        process, api = _start(data_dir)
        try:
            # Every WebSocket holds a connection: no pool limit (aiohttp's default is 100).
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                samples = await _latency(http, api, rounds)
                median, p95 = statistics.median(samples), _percentile(samples, 0.95)
                print(f"realtime latency, PATCH sent -> event on devhost's WebSocket ({rounds} rounds):")
                print(
                    f"  median {median:.1f} ms (goal < 100), p95 {p95:.1f} ms (goal < 500), "
                    f"max {max(samples):.1f} ms"
                )
                started = time.perf_counter()
                least, expected, leaked = await _fan_out(http, api, clients, events)
                took = time.perf_counter() - started
                print(f"realtime fan-out: {clients} clients on one meeting, 20 on another, {events} events:")
                print(
                    f"  every client of the meeting received {least}/{expected} events (the fewest any got); "
                    f"clients of the other meeting received {leaked} ({took:.1f} s in all)"
                )
        finally:
            process.terminate()
            process.wait(timeout=15)
    ok = median < 100 and p95 < 500 and least == expected and leaked == 0
    print("realtime:", "goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rounds, args.clients, args.events)))
