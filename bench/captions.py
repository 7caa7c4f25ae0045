"""Live captions on devhost (`make run`: the app, the captions service beside it, the live channel), measured
from outside, the bench playing ACS (it signs its connection as the local stand-in does) and a participant's
browser (a Web PubSub JSON client, as bench.realtime):

1. Word to caption: results are fed over the captions WebSocket in ACS's format at the moment their last
   word ends (offset in the call, in real time), as an instant recognizer would send them; the latency is
   from that moment to the caption's arrival at the participant's client. This is what the captions path
   adds beyond the recognizer's own latency (ACS's, or pocketsphinx's pause-to-pause pieces locally).
   Goal: median under 1.5 s.
2. End of call to notes: an hour of meeting (a made-up transcript, 150 words a minute, four speakers) fed
   as TranscriptionData at full speed, then Call Automation's CallDisconnected; the time from that event
   to `summary.ready` at the participant's client (the transcript written, the summary job run by the
   offline summarizer). Goal: under 60 s.

    python -m bench.captions [--rounds 40] [--minutes 60]
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

from shared.adapters.local_call_recording import LOCAL_RESOURCE_ID
from shared.live_captions import transcription_data, transcription_metadata
from shared.secrets_files import local_key
from shared.stream_auth import sign_local_stream_token
from tests.chat_server import meeting_transcript

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = "json.webpubsub.azure.v1"
GOAL_LATENCY_S = 1.5
GOAL_NOTES_S = 60.0


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"}


def _start(data_dir: str) -> tuple[subprocess.Popen[str], str, str]:
    env = {**os.environ, "DATA_DIR": data_dir, "AUTH_MODE": "dev", "PYTHONUNBUFFERED": "1"}
    for name in ("WEBSITE_INSTANCE_ID", "CAPTIONS_URL", "LOCAL_CALL_AUDIO"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "serve", "--port", "0", "--captions-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    api = captions = None
    for line in process.stdout:
        if found := re.search(r"Serving \d+ functions on (http://\S+)", line):
            api = found.group(1)
        if found := re.search(r"Live captions \(ACS transcription WebSocket\) on (ws://\S+)/ws/", line):
            captions = found.group(1)
        if api and captions:
            threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
            return process, api, captions
    raise RuntimeError("devhost exited before serving the app and the captions service")


async def _meeting(http: aiohttp.ClientSession, api: str) -> tuple[str, dict[str, str]]:
    starts = datetime.now(UTC) + timedelta(minutes=5)
    body = {
        "title": "Captions bench",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee", "displayName": "Bob"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=_auth("alice")) as reply:
        assert reply.status == 201, await reply.text()
        meeting_id: str = (await reply.json())["id"]
    acs = {}
    for user in ("alice", "bob"):
        async with http.post(f"{api}/meetings/{meeting_id}/join", headers=_auth(user)) as reply:
            assert reply.status == 200, await reply.text()
            acs[user] = (await reply.json())["acsUserId"]
    return meeting_id, acs


async def _browser(http: aiohttp.ClientSession, api: str) -> aiohttp.ClientWebSocketResponse:
    async with http.get(f"{api}/realtime/negotiate", headers=_auth("bob")) as reply:
        url = (await reply.json())["url"]
    socket = await http.ws_connect(url, protocols=(PROTOCOL,))
    connected = json.loads((await socket.receive(timeout=10)).data)
    assert connected["event"] == "connected", connected
    return socket


async def _captions_on(http: aiohttp.ClientSession, api: str, meeting_id: str) -> str:
    async with http.post(f"{api}/meetings/{meeting_id}/captions/start", json={}, headers=_auth("alice")) as r:
        assert r.status == 202, await r.text()
        recording_id: str = (await r.json())["id"]
    return recording_id


async def _events(
    socket: aiohttp.ClientWebSocketResponse, sink: asyncio.Queue[tuple[float, dict[str, Any]]]
) -> None:
    async for message in socket:
        body = json.loads(message.data)
        if body.get("type") == "message":
            await sink.put((time.perf_counter(), body["data"]))


async def _latency(
    http: aiohttp.ClientSession, api: str, captions: str, key: bytes, rounds: int
) -> list[float]:
    meeting_id, acs = await _meeting(http, api)
    browser = await _browser(http, api)
    arrivals: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    reader = asyncio.create_task(_events(browser, arrivals))
    recording_id = await _captions_on(http, api, meeting_id)
    token = sign_local_stream_token(key, LOCAL_RESOURCE_ID)
    stream = await http.ws_connect(
        f"{captions}/ws/{meeting_id}/{recording_id}", headers={"Authorization": f"Bearer {token}"}
    )
    await stream.send_str(transcription_metadata("bench", "en-US", "", "bench"))
    samples: list[float] = []
    started = time.perf_counter()
    try:
        for n in range(rounds + 3):
            words = [(f"word{n}-{i}", n * 1.0 + i * 0.2, n * 1.0 + (i + 1) * 0.2) for i in range(4)]
            spoken = started + words[-1][2]  # the moment the last word of the phrase ends
            await asyncio.sleep(max(0.0, spoken - time.perf_counter()))
            speaker = acs["alice" if n % 2 else "bob"]
            await stream.send_str(
                transcription_data(" ".join(w for w, _, _ in words), words, speaker, final=True)
            )
            while True:
                arrived, event = await asyncio.wait_for(arrivals.get(), 10)
                if event["type"] == "caption" and event["data"]["text"].startswith(f"word{n}-"):
                    break
            if n >= 3:  # the first rounds warm the services up
                samples.append(arrived - spoken)
    finally:
        await stream.close()
        reader.cancel()
        await browser.close()
        async with http.post(f"{api}/meetings/{meeting_id}/captions/stop", headers=_auth("alice")):
            pass
    return samples


async def _notes(
    http: aiohttp.ClientSession, api: str, captions: str, key: bytes, minutes: float
) -> tuple[float, int, float]:
    """(seconds from CallDisconnected to summary.ready, finals fed, seconds feeding them took)."""
    meeting_id, acs = await _meeting(http, api)
    browser = await _browser(http, api)
    arrivals: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    reader = asyncio.create_task(_events(browser, arrivals))
    recording_id = await _captions_on(http, api, meeting_id)
    token = sign_local_stream_token(key, LOCAL_RESOURCE_ID)
    speakers = [acs["alice"], acs["bob"], "8:acs:guest-1", "8:acs:guest-2"]
    transcript = meeting_transcript(minutes, speakers=4)
    feeding = time.perf_counter()
    async with http.ws_connect(
        f"{captions}/ws/{meeting_id}/{recording_id}", headers={"Authorization": f"Bearer {token}"}
    ) as stream:
        await stream.send_str(transcription_metadata("bench", "en-US", "", "bench"))
        finals, last = 0, ""
        for segment in transcript.segments:
            words = segment.text.split()
            step = (segment.end - segment.start) / len(words)
            timed = [
                (w, segment.start + i * step, segment.start + (i + 1) * step) for i, w in enumerate(words)
            ]
            speaker = speakers[int((segment.speaker or "ch0")[2:]) % len(speakers)]
            # One final per sentence, as a recognizer ends a phrase at a sentence's pause.
            while timed:
                cut = next((i + 1 for i, (w, _, _) in enumerate(timed) if w.endswith((".", "?"))), len(timed))
                phrase, timed = timed[:cut], timed[cut:]
                last = " ".join(w for w, _, _ in phrase)
                await stream.send_str(transcription_data(last, phrase, speaker, final=True))
                finals += 1
        # The service reads frames in order: the last caption out means every final is kept.
        while True:
            _, event = await asyncio.wait_for(arrivals.get(), 120)
            if event["type"] == "caption" and event["data"]["text"] == last:
                break
    fed = time.perf_counter() - feeding
    ended = {"type": "Microsoft.Communication.CallDisconnected", "data": {}}
    ended_at = time.perf_counter()
    async with http.post(
        f"{captions.replace('ws://', 'http://')}/callbacks/{meeting_id}/{recording_id}",
        json=[ended],
        headers={"Authorization": f"Bearer {token}"},
    ) as reply:
        assert reply.status == 204, await reply.text()
    try:
        while True:
            arrived, event = await asyncio.wait_for(arrivals.get(), 300)
            if event["type"] == "summary.ready" and event["data"]["recordingId"] == recording_id:
                return arrived - ended_at, finals, fed
    finally:
        reader.cancel()
        await browser.close()


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(rounds: int, minutes: float) -> bool:
    with tempfile.TemporaryDirectory() as data_dir:
        process, base, captions = _start(data_dir)
        api = f"{base.rstrip('/')}"
        try:
            key = local_key(Path(data_dir), "signing.key")
            async with aiohttp.ClientSession() as http:
                samples = await _latency(http, api, captions, key, rounds)
                median, p95 = statistics.median(samples), _percentile(samples, 0.95)
                ok_latency = median < GOAL_LATENCY_S
                print(
                    f"captions: word end -> caption at a participant's client, {len(samples)} phrases: "
                    f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
                    f"(goal: median < {GOAL_LATENCY_S:.1f} s beyond the recognizer) "
                    f"{'OK' if ok_latency else 'MISSED'}",
                    flush=True,
                )
                seconds, finals, fed = await _notes(http, api, captions, key, minutes)
                ok_notes = seconds < GOAL_NOTES_S
                print(
                    f"captions: end of a {minutes:.0f}-minute call -> summary.ready: {seconds:.1f} s "
                    f"({finals} final captions fed as TranscriptionData in {fed:.1f} s, then "
                    f"CallDisconnected; offline summarizer; goal < {GOAL_NOTES_S:.0f} s) "
                    f"{'OK' if ok_notes else 'MISSED'}",
                    flush=True,
                )
                return ok_latency and ok_notes
        finally:
            process.terminate()
            process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.captions", description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=60)
    args = parser.parse_args(argv)
    return 0 if asyncio.run(bench(args.rounds, args.minutes)) else 1


if __name__ == "__main__":
    sys.exit(main())
