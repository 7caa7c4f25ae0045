"""Store operations per request, per route, counted by the store adapter itself.

Each route is called through the real function with a real `func.HttpRequest`, on the embedded store
(SQLite) and on the Cosmos DB adapter against the Cosmos emulator; the adapter's own counters (point
reads, queries, writes) are read before and after. Goals: get is one point read; list is one
single-partition query; join for a user who joined before is at most three point reads (plus the ACS calls,
which are not store operations): the identity, the meeting, and the meeting again once the token is issued,
which is what makes a removal racing the join win (issue 15; it was two before that).
It prints; it does not gate.

    python -m bench.store_ops [--participants 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func

from devhost.app_loader import functions_of
from shared import bootstrap
from shared.bootstrap import build_services
from shared.config import Settings
from shared.ports import Store


@dataclass(frozen=True)
class Goal:
    route: str
    reads: int | None
    queries: int | None
    writes: int | None
    text: str

    def holds(self, counted: dict[str, int]) -> bool:
        wanted = {"reads": self.reads, "queries": self.queries, "writes": self.writes}
        return all(limit is None or counted[kind] <= limit for kind, limit in wanted.items())


GOALS = {
    "get": Goal("get", reads=1, queries=0, writes=0, text="one point read"),
    "list": Goal("list", reads=0, queries=1, writes=0, text="one single-partition query"),
    # The third read is the re-check after the token is issued: without it a racing removal can lose.
    "join (known user)": Goal("join", reads=3, queries=0, writes=0, text="at most three point reads"),
}


@dataclass
class Context:
    invocation_id: str


class Caller:
    def __init__(self) -> None:
        import function_app

        registered = functions_of(function_app.app)
        self.functions = {f.get_function_name(): f.get_user_function() for f in registered}

    async def __call__(
        self, name: str, method: str, user: str, *, route: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        headers = {"authorization": f"Bearer dev:{user}"}
        data = b""
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        request = func.HttpRequest(
            method=method, url="http://localhost/api/x", headers=headers, route_params=route or {}, body=data
        )
        response: func.HttpResponse = await self.functions[name](request, Context(str(uuid.uuid4())))
        if response.status_code >= 300:
            raise RuntimeError(f"{name} answered {response.status_code}: {response.get_body()[:300]!r}")
        return json.loads(response.get_body()) if response.get_body() else None


async def count_routes(store: Store, participants: int) -> dict[str, dict[str, int]]:
    operations = store.operations
    call = Caller()
    results: dict[str, dict[str, int]] = {}

    async def measure(label: str, work: Callable[[], Any]) -> Any:
        before = dict(operations)
        result = await work()
        results[label] = {kind: operations[kind] - before[kind] for kind in before}
        return result

    start = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    invited = [{"userId": f"guest{i}", "role": "attendee"} for i in range(participants)]
    body = {
        "title": "Bench",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": invited,
    }
    meeting = await measure(
        f"create ({participants} participants)", lambda: call("create_meeting", "POST", "alice", body=body)
    )
    route = {"meetingId": meeting["id"]}
    await measure("get", lambda: call("get_meeting", "GET", "alice", route=route))
    await measure("list", lambda: call("list_meetings", "GET", "alice"))
    await measure("join (first time)", lambda: call("join_meeting", "POST", "guest0", route=route))
    await measure("join (known user)", lambda: call("join_meeting", "POST", "guest0", route=route))
    rename = {"title": "Renamed"}
    await measure("patch title", lambda: call("update_meeting", "PATCH", "alice", route=route, body=rename))
    return results


@contextlib.asynccontextmanager
async def sqlite_services(workdir: Path) -> AsyncIterator[Store]:
    services = build_services(Settings(data_dir=workdir / "sqlite"))
    bootstrap.override(services)
    try:
        yield services.store
    finally:
        bootstrap.override(None)
        await services.aclose()


@contextlib.asynccontextmanager
async def cosmos_services(workdir: Path) -> AsyncIterator[Store]:
    from devhost.emulators import EmulatorTransport, cosmos
    from shared.adapters.cosmos_store import CosmosStore

    with cosmos(workdir / "cosmos") as emulator:
        store = CosmosStore(
            emulator.endpoint,
            emulator.key,
            database="bench",
            create_if_missing=True,
            connection_verify=str(emulator.ca_file),
            transport=EmulatorTransport(),
        )
        services = build_services(Settings(data_dir=workdir / "cosmos-data"), store=store)
        bootstrap.override(services)
        try:
            yield services.store
        finally:
            bootstrap.override(None)
            await services.aclose()


def print_table(name: str, results: dict[str, dict[str, int]]) -> None:
    print(f"\n  {name}")
    print(f"    {'route':28} reads  queries  writes   goal")
    for label, counted in results.items():
        goal = GOALS.get(label)
        verdict = "" if goal is None else f"{goal.text:28} {'PASS' if goal.holds(counted) else 'FAIL'}"
        reads, queries, writes = counted["reads"], counted["queries"], counted["writes"]
        print(f"    {label:28} {reads:5}  {queries:7}  {writes:6}   {verdict}")


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as path:
        yield Path(path)


async def main(participants: int) -> None:
    print("Store operations per request, counted by the adapter (function called with a real HttpRequest)")
    with workdir() as root:
        async with sqlite_services(root) as store:
            print_table("SQLite (embedded)", await count_routes(store, participants))
        async with cosmos_services(root) as store:
            print_table(
                "Cosmos DB adapter (on the Cosmos DB emulator)", await count_routes(store, participants)
            )


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.participants))


if __name__ == "__main__":
    run()
