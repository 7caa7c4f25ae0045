"""From upload to notes: a 40-second two-person clip through `make run`'s defaults, against the time its
transcription alone takes, and how the recording's `progress` moves on the way.

One devhost (`python -m devhost serve --port 0`, embedded backends in a temporary DATA_DIR, AUTH_MODE=dev,
the offline transcriber and summarizer) serves the real app. The bench creates a meeting and a recording,
PUTs the clip to its upload URL and reads the recording every 50 ms until it is `completed`, noting when
each status began and every change of `progress`. Then, in this process, the same clip goes through
`shared.speech.transcribe_source` with a fresh `LocalTranscriber` (its workers start cold, as the job's
do): the transcription itself, the floor under the whole path.

The clip is spoken by espeak-ng (two voices taking turns) when it is installed, else it is
bench.pipeline's synthetic buzz (the timings hold; the words are noise). The bench prints; it does not
gate (exit code 0 unless devhost or the clip cannot be made).

    python -m bench.turnaround [--rounds 3] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.api import Devhost

DESCRIPTION = "Upload to completed for a 40 s clip, against its transcription alone; progress on the way."
RATE = 16_000
VOICES = ("en-us+klatt4", "en-us+klatt2")  # two speakers the offline model hears reasonably
WORDS_PER_MINUTE = 160
TURN_PAUSE_SECONDS = 0.7
ALICE = {"Authorization": "Bearer dev:alice"}
POLL_SECONDS = 0.05
SETTLE_TIMEOUT_S = 600
# The measurement before this bench existed: 114 s from upload to summary for a 39 s clip, of
# which 102 s waiting in queues (the poll backed off to its one-minute default), about 10x transcription.
BASELINE = "114 s upload to summary for a 39 s clip, 102 s of it queued: about 10x the transcription"
GOAL_RATIO = 1.5
GOAL_PROGRESS_GAP_S = 2.0

LINES = (
    "Good morning everyone, let us start with the release plan.",
    "The build is green and the tests pass on every platform.",
    "We decided to ship the new search on Monday.",
    "Bob, please update the release notes by Thursday.",
    "I will check the dashboard numbers this afternoon.",
    "Should we tell the support team before the launch?",
    "Yes, Alice will send them a short note tomorrow.",
    "Any other questions before we close?",
    "No, that is all for today, thank you.",
)


def _espeak(text: str, voice: str) -> bytes:
    import av

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    pcm = bytearray()
    with av.open(io.BytesIO(wav), mode="r") as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pcm += bytes(out.planes[0])[: out.samples * 2]
        for out in resampler.resample(None):
            pcm += bytes(out.planes[0])[: out.samples * 2]
    return bytes(pcm)


def make_clip(seconds: float) -> tuple[bytes, str]:
    """A mono 16 kHz WAV of about `seconds`, and what made it."""
    pause = bytes(round(TURN_PAUSE_SECONDS * RATE) * 2)
    pcm = bytearray(pause)
    if shutil.which("espeak-ng"):
        made = "espeak-ng, two voices taking turns"
        turn = 0
        while len(pcm) / 2 / RATE < seconds:
            pcm += _espeak(LINES[turn % len(LINES)], VOICES[turn % 2]) + pause
            turn += 1
    else:
        from bench.pipeline import Recipe, blocks

        made = "bench.pipeline's synthetic voices (espeak-ng is not installed)"
        recipe = Recipe("mixed", seconds / 60, RATE, 1, 1)
        for block in blocks(recipe, RATE):
            pcm += block
    pcm = pcm[: round(seconds * RATE) * 2]
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(bytes(pcm))
    return out.getvalue(), made


@dataclass
class Trip:
    total: float  # upload start to completed
    upload: float
    statuses: dict[str, float]  # status -> seconds after the upload ended when it was first seen
    progress: list[tuple[float, str, float]] = field(default_factory=list)  # (t, status, progress)

    def longest_still(self, status: str) -> float:
        """The longest time `progress` stood still while the recording was in `status` (to its end)."""
        points = [t for t, s, _ in self.progress if s == status]
        if not points:
            return 0.0
        ends = [t for s, t in self.statuses.items() if t > points[0] and s != status]
        end = min(ends) if ends else points[-1]
        marks = [*points, end]
        return max(b - a for a, b in itertools.pairwise(marks)) if len(marks) > 1 else 0.0


async def one_trip(http: aiohttp.ClientSession, api: str, clip: bytes) -> Trip:
    starts = datetime.now(UTC) + timedelta(days=1)
    body: dict[str, Any] = {
        "title": "Release plan",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    async with http.post(f"{api}/meetings", json=body, headers=ALICE) as reply:
        if reply.status != 201:
            raise RuntimeError(f"POST /meetings answered {reply.status}: {await reply.text()}")
        meeting_id = (await reply.json())["id"]
    body = {"fileName": "clip.wav", "contentType": "audio/wav", "sizeBytes": len(clip)}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=body, headers=ALICE) as reply:
        if reply.status != 201:
            raise RuntimeError(f"POST .../recordings answered {reply.status}: {await reply.text()}")
        created = await reply.json()
    url = f"{api}/meetings/{meeting_id}/recordings/{created['id']}"
    upload = created["upload"]
    began = time.perf_counter()
    async with http.request(upload["method"], upload["url"], data=clip, headers=upload["headers"]) as reply:
        if reply.status != 201:
            raise RuntimeError(f"the upload answered {reply.status}: {await reply.text()}")
    uploaded = time.perf_counter()
    statuses: dict[str, float] = {}
    progress: list[tuple[float, str, float]] = []
    deadline = uploaded + SETTLE_TIMEOUT_S
    while time.perf_counter() < deadline:
        async with http.get(url, headers=ALICE) as reply:
            recording: dict[str, Any] = await reply.json()
        now = time.perf_counter() - uploaded
        status, value = recording["status"], float(recording.get("progress") or 0.0)
        statuses.setdefault(status, now)
        if not progress or progress[-1][1:] != (status, value):
            progress.append((now, status, value))
        if status == "completed":
            return Trip(time.perf_counter() - began, uploaded - began, statuses, progress)
        if status == "failed":
            raise RuntimeError(f"the recording failed: {recording.get('error')}")
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"the recording did not complete within {SETTLE_TIMEOUT_S} s: {statuses}")


async def transcription_alone(path: Path) -> float:
    from shared.adapters.local_transcriber import LocalTranscriber
    from shared.speech import transcribe_source

    transcriber = LocalTranscriber()
    try:
        began = time.perf_counter()
        await transcribe_source(lambda: str(path), transcriber, per_channel=False, language=None)
        return time.perf_counter() - began
    finally:
        await transcriber.aclose()


async def run(rounds: int, seconds: float) -> int:
    clip, made = make_clip(seconds)
    print(f"clip: {len(clip) / 2 / RATE:.1f} s of 16 kHz mono WAV, {made}")
    with tempfile.TemporaryDirectory(prefix="bench-turnaround-") as tmp:
        work = Path(tmp)
        (work / "clip.wav").write_bytes(clip)
        devhost = Devhost(work / "data", work / "devhost.log")
        trips: list[Trip] = []
        alone: list[float] = []
        try:
            async with aiohttp.ClientSession() as http:
                for index in range(rounds):
                    trips.append(await one_trip(http, devhost.api, clip))
                    alone.append(await transcription_alone(work / "clip.wav"))
                    print(f"  round {index + 1}: {trips[-1].total:.2f} s upload to completed, "
                          f"{alone[-1]:.2f} s transcription alone")  # fmt: skip
        finally:
            code = devhost.stop()
            lines = devhost.output().splitlines()
            errors = [line for line in lines if "ERROR" in line or "Traceback" in line]
            if code not in (0, None) or errors:
                print(f"devhost exited with {code}; {len(errors)} error lines, e.g. {errors[:3]}")
    report(trips, alone)
    return 0


def report(trips: Sequence[Trip], alone: Sequence[float]) -> None:
    total, floor = statistics.median(t.total for t in trips), statistics.median(alone)
    ratio = total / floor
    print(f"\nupload to completed (median of {len(trips)}): {total:.2f} s; "
          f"transcription alone: {floor:.2f} s")  # fmt: skip
    last = trips[len(trips) // 2]
    steps = ", ".join(f"{status} at {at:.2f} s" for status, at in last.statuses.items())
    print(f"  after the upload ({last.upload:.2f} s): {steps}")
    verdict = "PASS" if ratio <= GOAL_RATIO else "FAIL"
    print(f"upload to completed / transcription alone: {ratio:.2f}  goal at most {GOAL_RATIO}  {verdict}")
    print(f"  baseline (issue 17): {BASELINE}")
    for status in ("transcribing", "summarizing"):
        gap = max(t.longest_still(status) for t in trips)
        verdict = "PASS" if gap <= GOAL_PROGRESS_GAP_S + POLL_SECONDS * 2 else "FAIL"
        moves = sum(1 for _, s, _ in last.progress if s == status)
        print(f"progress while {status}: longest still {gap:.2f} s ({moves} values seen)  "
              f"goal at most {GOAL_PROGRESS_GAP_S:g} s  {verdict}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.turnaround", description=DESCRIPTION)
    parser.add_argument("--rounds", type=int, default=3, help="clips sent one after the other (default 3)")
    parser.add_argument("--seconds", type=float, default=40.0, help="the clip's length (default 40)")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args.rounds, args.seconds))
    except RuntimeError as exc:
        print(f"bench.turnaround: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
