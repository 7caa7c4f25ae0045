"""Search across meetings, embedded (SQLite FTS5), in-process: leaks and latency.

Indexes `--segments` passages (default 10,000) across `--meetings` meetings of `--users` users (random
members, seeded), with the meetings and their recordings in the embedded store, then searches as many users:

- leaks: a result from a meeting the user is not a member of. Counted for the index alone (its member
  filter) and for SearchService (the route's rules: the index, then the store's check; and the meetings
  found by title, from the user's membership entries). Must be 0 both.
- after removals: some users are removed from some meetings in the store only (the index not told, as if
  its update failed), others in both; a search as them must still show none of those meetings.
- latency: median and p95 of a search as the route makes it (index query and the store's checks), and of
  the index query alone, in milliseconds.

    python -m bench.search [--segments 10000] [--meetings 400] [--users 200] [--queries 400]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.sqlite_search import SqliteSearchIndex
from shared.adapters.sqlite_store import SqliteStore
from shared.domain.models import Meeting, Membership, Participant, Role
from shared.domain.recordings import Recording
from shared.ports import SearchDocument
from shared.services.search import SearchService, member_ids
from shared.signing import Signer

WORDS = [
    "budget",
    "roadmap",
    "release",
    "customer",
    "hiring",
    "launch",
    "design",
    "review",
    "contract",
    "invoice",
    "security",
    "audit",
    "backlog",
    "sprint",
    "deadline",
    "vendor",
    "pricing",
    "migration",
    "database",
    "latency",
    "outage",
    "incident",
    "retro",
    "training",
    "onboarding",
    "marketing",
    "campaign",
    "partner",
    "renewal",
    "forecast",
    "revenue",
    "quarter",
    "target",
    "milestone",
    "prototype",
    "feedback",
    "survey",
    "compliance",
    "privacy",
    "legal",
    "travel",
    "office",
    "hardware",
    "laptop",
    "license",
    "support",
    "ticket",
    "escalation",
    "dashboard",
    "metrics",
    "analytics",
    "storage",
    "network",
    "backup",
    "recovery",
    "testing",
    "deployment",
    "pipeline",
    "staging",
    "production",
]
FILLER = [
    "we",
    "should",
    "then",
    "also",
    "maybe",
    "look",
    "at",
    "the",
    "next",
    "steps",
    "for",
    "this",
    "and",
    "talk",
    "about",
    "it",
    "again",
    "soon",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(6, 14))]
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
    return " ".join(words).capitalize() + "."


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(segments: int, meeting_count: int, user_count: int, queries: int, seed: int) -> None:
    rng = random.Random(seed)
    users = [f"user{i:04d}" for i in range(user_count)]
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        store = SqliteStore(Path(tmp) / "store.sqlite3")
        index = SqliteSearchIndex(Path(tmp) / "search.sqlite3")
        service = SearchService(index, store, Signer(b"bench-key" * 4, purpose="search-continuation"))
        members: dict[str, set[str]] = {}
        meetings: dict[str, Meeting] = {}
        recordings: dict[str, list[str]] = {}
        for _ in range(meeting_count):
            organizer, *guests = rng.sample(users, rng.randint(2, 10))
            meeting = Meeting(
                id=str(uuid.uuid4()),
                # A word of the vocabulary in every title: searches find meetings by title too.
                title=f"{rng.choice(WORDS).capitalize()} meeting of {organizer}",
                organizer_id=organizer,
                starts_at=now + timedelta(hours=1),
                ends_at=now + timedelta(hours=2),
                participants=[
                    Participant(user_id=organizer, role=Role.PRESENTER),
                    *(Participant(user_id=g, role=Role.ATTENDEE) for g in guests),
                ],
                created_at=now,
                updated_at=now,
            )
            await store.create_meeting(meeting)
            # Each member's entry, as MeetingService writes them: the route reads them for title matches.
            for participant in meeting.participants:
                await store.put_membership(Membership.of(meeting, participant))
            meetings[meeting.id] = meeting
            members[meeting.id] = set(member_ids(meeting))
            recordings[meeting.id] = []
            for _ in range(rng.randint(1, 2)):
                recording = Recording(
                    id=str(uuid.uuid4()),
                    meeting_id=meeting.id,
                    created_by=organizer,
                    file_name="bench.wav",
                    content_type="audio/wav",
                    size_bytes=1,
                    source_blob=f"{meeting.id}/x/source.wav",
                    created_at=now,
                    updated_at=now,
                )
                await store.create_recording(recording)
                recordings[meeting.id].append(recording.id)

        started = time.perf_counter()
        all_recordings = [(m, r) for m, rs in recordings.items() for r in rs]
        per_recording = max(1, segments // len(all_recordings))
        indexed = 0
        for number, (meeting_id, recording_id) in enumerate(all_recordings):
            count = per_recording if number < len(all_recordings) - 1 else segments - indexed
            documents = [
                SearchDocument(
                    meeting_id=meeting_id,
                    recording_id=recording_id,
                    kind="transcript",
                    position=i,
                    start=i * 5.0,
                    end=i * 5.0 + 4.5,
                    speaker=rng.choice(sorted(members[meeting_id])),
                    text=_sentence(rng),
                )
                for i in range(max(0, count))
            ]
            indexed += len(documents)
            await index.replace_recording(meeting_id, recording_id, documents, sorted(members[meeting_id]))
        indexing = time.perf_counter() - started

        async def measure(label: str, rounds: int) -> tuple[int, int, list[float], list[float]]:
            index_leaks = route_leaks = results = caught = titled = 0
            route_ms: list[float] = []
            index_ms: list[float] = []
            for _ in range(rounds):
                user = rng.choice(users)
                q = " ".join(rng.sample(WORDS, rng.choice((1, 1, 2))))
                t0 = time.perf_counter()
                hits = await index.query(q.split(), user, skip=0, top=20)
                index_ms.append((time.perf_counter() - t0) * 1000)
                index_leaks += sum(1 for h in hits if user not in indexed_members[h.meeting_id])
                # What the index still lets through for a removal it missed: the store's check must drop it.
                caught += sum(1 for h in hits if user not in members[h.meeting_id])
                t0 = time.perf_counter()
                page = await service.search(user, q, None)
                route_ms.append((time.perf_counter() - t0) * 1000)
                route_leaks += sum(1 for h in page.items if user not in members[h.meeting_id])
                route_leaks += sum(1 for m in page.meetings if user not in members[m.meeting_id])
                results += len(page.items)
                titled += len(page.meetings)
            print(
                f"  {label}: {rounds} searches, {results / rounds:.1f} results and "
                f"{titled / rounds:.1f} meetings by title each; "
                f"leaks: index {index_leaks}, route {route_leaks} (goal 0; {caught} hits of missed removals "
                "dropped by the store's check); "
                f"route median {statistics.median(route_ms):.2f} ms, "
                f"p95 {_percentile(route_ms, 0.95):.2f} ms; "
                f"index alone median {statistics.median(index_ms):.2f} ms, "
                f"p95 {_percentile(index_ms, 0.95):.2f} ms"
            )
            return index_leaks, route_leaks, route_ms, index_ms

        print(
            f"search (SQLite FTS5): {indexed} passages in {len(all_recordings)} recordings of "
            f"{meeting_count} meetings, {user_count} users; indexed in {indexing:.2f} s"
        )
        indexed_members = {m: set(s) for m, s in members.items()}
        await measure("members as indexed", queries)

        # Removals: half told to the index too, half only to the store (the index's update lost).
        removed = 0
        for meeting_id in rng.sample(sorted(meetings), min(len(meetings), 60)):
            meeting = meetings[meeting_id]
            invited = [p for p in meeting.participants if p.user_id != meeting.organizer_id]
            if not invited:
                continue
            gone = rng.choice(invited).user_id
            stored = await store.get_meeting(meeting_id)
            assert stored is not None
            changed = meeting.model_copy(
                update={
                    "participants": [p for p in meeting.participants if p.user_id != gone],
                    "version": meeting.version + 1,
                }
            )
            await store.replace_meeting(changed, stored.etag)
            await store.remove_membership(gone, meeting_id, changed.version)
            members[meeting_id].discard(gone)
            if removed % 2 == 0:
                await index.set_members(meeting_id, sorted(members[meeting_id]))
                indexed_members[meeting_id].discard(gone)
            removed += 1
        print(
            f"  {removed} participants removed ({(removed + 1) // 2} in the index too, "
            "the rest in the store only)"
        )
        await measure("after removals", queries)
        await index.aclose()
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--meetings", type=int, default=400)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    asyncio.run(run(args.segments, args.meetings, args.users, args.queries, args.seed))


if __name__ == "__main__":
    main()
