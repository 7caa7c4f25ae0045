"""Requests per second through devhost, per route, as a ratio to `GET /api/health` measured side by side.

One devhost (`python -m devhost serve --port 0`, embedded backends in a temporary DATA_DIR, AUTH_MODE=dev)
serves the real app on 127.0.0.1. The bench seeds meetings, then drives each route in ROUTES with an
aiohttp client at a fixed concurrency for a fixed time, in rounds whose order rotates, so every route sees
the same machine load. Each route's figure is the median of its rounds; its goal is a minimum ratio to the
baseline's (health's). Every response's status is checked: errors are counted and printed, and only
expected answers count towards a route's rate. The bench prints; it does not gate (exit code 0 unless
devhost cannot start or the seeding fails).

    python -m bench.api [--seconds 3] [--concurrency 16] [--rounds 3] [--meetings 30]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = "Requests per second through devhost, per route, as a ratio to GET /api/health."
BANNER = re.compile(r"Serving \d+ functions on (http://\S+)")
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
REQUEST_TIMEOUT_S = 30
# A bound on every request loop besides its deadline: no worker sends more than this per second of run.
MAX_REQUESTS_PER_WORKER_SECOND = 20_000
SEED_STARTS_IN = timedelta(minutes=10)
SEED_SPREAD = timedelta(minutes=10)


@dataclass(frozen=True)
class Route:
    """One measured route. `path` is under /api; `{meeting}` becomes a seeded meeting's id (a different one
    on each request, round robin). `goal` is the least ratio of its rate to the baseline's; None marks the
    baseline itself."""

    method: str
    path: str
    expected: int
    goal: Fraction | None
    user: str | None = "alice"
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None

    @property
    def label(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else ""
        return f"{self.method} /api/{self.path.replace('{meeting}', '{id}')}{query}"


BASELINE = Route("GET", "health", 200, goal=None, user=None)
# The seeded meetings are alice's, with bob invited: alice reads them, bob (a participant) would join.
ROUTES: tuple[Route, ...] = (
    BASELINE,
    Route("GET", "meetings/{meeting}", 200, goal=Fraction(1, 2)),
    Route("GET", "meetings", 200, goal=Fraction(1, 2), params={"limit": "20"}),
    # Joining is one more entry (bob is a participant, and the seeded meetings' rooms are open):
    Route("POST", "meetings/{meeting}/join", 200, goal=Fraction(1, 3), user="bob"),
)
assert len({route.label for route in ROUTES}) == len(ROUTES), (
    "route labels name the results: keep them unique"
)


@dataclass
class Tally:
    """One route's counts over all its runs (warm-up included for errors, not for rates)."""

    rps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, example)


# ---------------------------------------------------------------------------------------------- devhost


class Devhost:
    """`python -m devhost serve --port 0` in a subprocess; its output goes to a file (never a full pipe)."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        env = {**os.environ, "DATA_DIR": str(data_dir), "AUTH_MODE": "dev", "PYTHONUNBUFFERED": "1"}
        # Local defaults: not "in Azure", and no telemetry exporter.
        for name in ("WEBSITE_INSTANCE_ID", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
            env.pop(name, None)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "serve", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.api = self._wait_for_banner()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for_banner(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            found = BANNER.search(self.output())
            if found:
                api = found.group(1).rstrip("/")
                if urlsplit(api).hostname != "127.0.0.1":
                    self.stop()
                    raise RuntimeError(f"devhost serves on {api}, not on 127.0.0.1")
                return api
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("devhost did not start serving:\n" + self.output())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


# ------------------------------------------------------------------------------------------- the client


def _headers(user: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer dev:{user}"} if user else {}


async def seed(session: aiohttp.ClientSession, api: str, count: int) -> list[str]:
    """`count` one-hour meetings organized by alice, with bob invited; their ids.

    They start 10 to 20 minutes from now: in the future (as the API requires), with their rooms already
    open (from 30 minutes before the start), so routes that need a joinable meeting work on them too.
    """
    first = datetime.now(UTC).replace(microsecond=0) + SEED_STARTS_IN
    step = SEED_SPREAD / max(1, count - 1)
    ids = []
    for i in range(count):
        starts = (first + step * i).replace(microsecond=0)
        body = {
            "title": f"Bench meeting {i + 1}",
            "startsAt": starts.isoformat().replace("+00:00", "Z"),
            "endsAt": (starts + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "participants": [{"userId": "bob", "role": "attendee"}],
        }
        async with session.post(f"{api}/meetings", json=body, headers=_headers("alice")) as response:
            text = await response.text()
            if response.status != 201:
                raise RuntimeError(f"seeding: POST /api/meetings answered {response.status}: {text[:300]}")
            ids.append(str((await response.json())["id"]))
    return ids


async def drive(
    session: aiohttp.ClientSession,
    api: str,
    route: Route,
    meeting_ids: Sequence[str],
    *,
    seconds: float,
    concurrency: int,
    tally: Tally,
    counted: bool,
) -> None:
    """`concurrency` workers send `route` until the deadline (and at most a bounded number each)."""
    picks = itertools.count()
    headers = _headers(route.user)
    cap = max(1, int(MAX_REQUESTS_PER_WORKER_SECOND * seconds))
    ok = 0
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal ok
        for _ in range(cap):
            if time.perf_counter() >= deadline:
                return
            path = route.path.replace("{meeting}", meeting_ids[next(picks) % len(meeting_ids)])
            sent = time.perf_counter()
            try:
                async with session.request(
                    route.method, f"{api}/{path}", params=route.params, headers=headers, json=route.json_body
                ) as response:
                    body = await response.read()
                    if response.status == route.expected:
                        ok += 1
                        latencies.append(time.perf_counter() - sent)
                    else:
                        example = f"{route.method} /api/{path}: {body[:300].decode('utf-8', 'replace')}"
                        tally.error(f"status {response.status}, expected {route.expected}", example)
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.error(type(error).__name__, f"{route.method} /api/{path}: {error}")
            tally.requests += 1

    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    if counted:
        tally.rps.append(ok / elapsed)
        tally.latencies.extend(latencies)


async def measure(
    api: str, *, seconds: float, concurrency: int, rounds: int, warmup: float, meetings: int
) -> tuple[dict[str, Tally], list[list[Route]]]:
    tallies = {route.label: Tally() for route in ROUTES}
    orders: list[list[Route]] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        meeting_ids = await seed(session, api, meetings)
        common: dict[str, Any] = {"meeting_ids": meeting_ids, "concurrency": concurrency}
        if warmup > 0:
            for route in ROUTES:
                await drive(
                    session, api, route, **common, seconds=warmup, tally=tallies[route.label], counted=False
                )
        for round_no in range(rounds):
            shift = round_no % len(ROUTES)
            order = list(ROUTES[shift:] + ROUTES[:shift])
            orders.append(order)
            for route in order:
                await drive(
                    session, api, route, **common, seconds=seconds, tally=tallies[route.label], counted=True
                )
    return tallies, orders


# -------------------------------------------------------------------------------------------- the report


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(
    api: str,
    tallies: Mapping[str, Tally],
    orders: Sequence[Sequence[Route]],
    *,
    seconds: float,
    concurrency: int,
    meetings: int,
) -> None:
    print(
        f"API throughput: devhost at {api}, aiohttp client, {concurrency} concurrent requests, "
        f"{len(orders)} round(s) of {seconds:g} s per route, order rotated each round"
    )
    print(
        f"({meetings} meetings seeded for alice, each with bob; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs shared by client and server)"
    )
    print()
    for number, order in enumerate(orders, 1):
        print(f"  round {number}: " + ", ".join(r.label for r in order))
    print()
    baseline = statistics.median(tallies[BASELINE.label].rps)
    width = max(len(r.label) for r in ROUTES)
    latency = f"{'p50 ms':>7} {'p99 ms':>7}"
    print(f"  {'route':<{width}}  {'rps':>8}  {'rounds':<24} {latency}  {'vs health':>9}  goal")
    for route in ROUTES:
        tally = tallies[route.label]
        rps = statistics.median(tally.rps)
        rounds = ", ".join(f"{r:.0f}" for r in tally.rps)
        p50, p99 = (
            f"{_percentile(tally.latencies, q) * 1000:7.1f}" if tally.latencies else "      -"
            for q in (0.5, 0.99)
        )
        ratio = rps / baseline if baseline else 0.0
        if route.goal is None:
            goal = "(baseline)"
        else:
            goal = f">= {route.goal} of health   {'PASS' if ratio >= route.goal else 'FAIL'}"
        print(f"  {route.label:<{width}}  {rps:8.0f}  {rounds:<24} {p50} {p99}  {ratio:9.2f}  {goal}")
    print()
    total_requests = sum(t.requests for t in tallies.values())
    total_errors = sum(sum(t.errors.values()) for t in tallies.values())
    print(f"  responses checked: {total_requests} (warm-up included), unexpected: {total_errors}")
    for route in ROUTES:
        tally = tallies[route.label]
        for kind, count in tally.errors.most_common():
            print(f"      {route.label}: {count} x {kind}, e.g. {tally.examples[kind]}")


def _server_problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if " ERROR " in line or line.startswith("Traceback")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=DESCRIPTION)
    parser.add_argument("--seconds", type=float, default=3.0, help="per route per round (default 3)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all routes (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds per route first")
    parser.add_argument("--meetings", type=int, default=30, help="meetings seeded for alice (default 30)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.rounds < 1 or args.meetings < 1 or args.warmup < 0:
        parser.error("--seconds, --concurrency, --rounds and --meetings must be positive")

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        try:
            host = Devhost(Path(tmp, "data"), Path(tmp, "devhost.log"))
        except RuntimeError as error:
            print(f"api bench: {error}", file=sys.stderr)
            return 1
        try:
            tallies, orders = asyncio.run(
                measure(
                    host.api,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    rounds=args.rounds,
                    warmup=args.warmup,
                    meetings=args.meetings,
                )
            )
        except RuntimeError as error:
            print(f"api bench: {error}", file=sys.stderr)
            return 1
        finally:
            code = host.stop()
            output = host.output()
        report(
            host.api,
            tallies,
            orders,
            seconds=args.seconds,
            concurrency=args.concurrency,
            meetings=args.meetings,
        )
        problems = _server_problems(output)
        print(f"  devhost: stopped with SIGINT, exit code {code}; error lines in its log: {len(problems)}")
        for line in problems[:5]:
            print(f"      {line}")
        if code != 0:
            print("  devhost log tail:\n" + "\n".join(output.splitlines()[-20:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
