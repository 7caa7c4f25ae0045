"""SearchService finds the caller's meetings by their title: every word as the start of a title word (case
and accents aside), from the caller's membership entries only, most recent first, capped; first page only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.models import MeetingStatus, Membership, Role
from shared.notes.search_text import title_matches
from shared.ports import SearchHit
from shared.services import search as search_module
from shared.services.search import MAX_MEETINGS, SearchService
from shared.signing import Signer
from tests.fakes import InMemoryStore

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class FullPages:
    """An index whose every page is full (of passages of a meeting nobody can see): there is a next page."""

    async def query(self, terms: Sequence[str], user_id: str, *, skip: int, top: int) -> list[SearchHit]:
        return [
            SearchHit(
                meeting_id="gone",
                recording_id="r",
                kind="transcript",
                start=0.0,
                end=1.0,
                speaker=None,
                snippet="x",
                highlights=(),
            )
            for _ in range(top)
        ]


def _service(store: InMemoryStore) -> SearchService:
    signer = Signer(b"test-key" * 4, purpose="search-continuation")
    return SearchService(FullPages(), store, signer)  # type: ignore[arg-type]


async def _entry(
    store: InMemoryStore,
    user: str,
    meeting_id: str,
    title: str,
    *,
    days: int = 0,
    status: MeetingStatus = MeetingStatus.SCHEDULED,
) -> None:
    starts = START + timedelta(days=days)
    await store.put_membership(
        Membership(
            user_id=user,
            meeting_id=meeting_id,
            role=Role.ATTENDEE,
            organizer_id="alice",
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            status=status,
            version=1,
        )
    )


async def _titles(service: SearchService, user: str, q: str) -> list[str]:
    return [m.title for m in (await service.search(user, q, None)).meetings]


async def test_titles_match_by_words_and_their_starts_case_and_accents_aside() -> None:
    store = InMemoryStore()
    await _entry(store, "bob", "m1", "Budget sync", days=1)
    await _entry(store, "bob", "m2", "Café de l'équipe", days=2)
    await _entry(store, "bob", "m3", "Roadmap review", days=3)
    service = _service(store)

    assert await _titles(service, "bob", "budget") == ["Budget sync"]
    assert await _titles(service, "bob", "BUDG sy") == ["Budget sync"]  # prefixes of each word
    assert await _titles(service, "bob", "budget roadmap") == []  # every word must match
    assert await _titles(service, "bob", "udget") == []  # the start of a word, not inside one
    assert await _titles(service, "bob", "cafe EQUIPE") == ["Café de l'équipe"]
    assert await _titles(service, "bob", "café") == ["Café de l'équipe"]
    assert await _titles(service, "bob", "r") == ["Roadmap review"]

    [found] = (await service.search("bob", "sync budg", None)).meetings
    assert (found.meeting_id, found.status) == ("m1", MeetingStatus.SCHEDULED)
    assert found.starts_at == START + timedelta(days=1)
    assert found.ends_at == found.starts_at + timedelta(hours=1)
    assert found.highlights == [(0, 6), (7, 11)]


def test_highlights_are_every_matching_word_in_utf16_units() -> None:
    assert title_matches("Budget-budget sync", ["budget"]) == ((0, 6), (7, 13))
    assert title_matches("Budget sync", ["sync", "nope"]) is None
    assert title_matches("Budget", []) is None
    # An astral character before the word: 2 UTF-16 units, as the client's `slice` counts.
    store_title = "🎉 Launch"
    assert title_matches(store_title, ["launch"]) == ((2, 8),)
    from shared.notes.search_text import utf16_offsets

    assert utf16_offsets(store_title, ((2, 8),)) == [(3, 9)]


async def test_other_users_meetings_are_never_found() -> None:
    store = InMemoryStore()
    await _entry(store, "alice", "m1", "Budget sync")
    await _entry(store, "bob", "m2", "Budget review")
    service = _service(store)
    assert await _titles(service, "bob", "budget") == ["Budget review"]
    assert await _titles(service, "mallory", "budget") == []


async def test_a_removed_participant_no_longer_finds_it() -> None:
    store = InMemoryStore()
    await _entry(store, "bob", "m1", "Budget sync")
    service = _service(store)
    assert await _titles(service, "bob", "budget") == ["Budget sync"]
    await store.remove_membership("bob", "m1", 2)
    assert await _titles(service, "bob", "budget") == []


async def test_cancelled_meetings_are_listed_with_their_status() -> None:
    store = InMemoryStore()
    await _entry(store, "bob", "m1", "Budget sync", status=MeetingStatus.CANCELLED)
    [found] = (await _service(store).search("bob", "budget", None)).meetings
    assert found.status is MeetingStatus.CANCELLED


async def test_most_recent_first_at_most_ten() -> None:
    store = InMemoryStore()
    for day in (5, 1, 12, 3, 9, 7, 11, 2, 8, 4, 10, 6, 0):
        await _entry(store, "bob", f"m{day:02d}", f"Weekly {day}", days=day)
    await _entry(store, "bob", "other", "Planning", days=20)
    found = (await _service(store).search("bob", "weekly", None)).meetings
    assert len(found) == MAX_MEETINGS == 10
    assert [m.meeting_id for m in found] == [f"m{day:02d}" for day in range(12, 2, -1)]


async def test_reads_at_most_the_cap_of_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "MAX_MEMBERSHIPS", 25)
    monkeypatch.setattr(search_module, "MEMBERSHIP_PAGE", 10)
    store = InMemoryStore()
    for day in range(30):
        await _entry(store, "bob", f"m{day:02d}", f"Weekly {day}", days=day)
    service = _service(store)
    queries = store.operations["queries"]
    found = (await service.search("bob", "weekly", None)).meetings
    # Pages of 10, 10, then 5: the 25 earliest entries, the 5 past the cap unread.
    assert store.operations["queries"] - queries == 3
    assert [m.meeting_id for m in found] == [f"m{day:02d}" for day in range(24, 14, -1)]

    # Exactly the cap: no extra read, nothing left out.
    monkeypatch.setattr(search_module, "MAX_MEMBERSHIPS", 30)
    queries = store.operations["queries"]
    found = (await service.search("bob", "weekly", None)).meetings
    assert store.operations["queries"] - queries == 3
    assert found[0].meeting_id == "m29"


async def test_later_pages_have_no_meetings_and_a_wordless_query_reads_nothing() -> None:
    store = InMemoryStore()
    await _entry(store, "bob", "m1", "Budget sync")
    service = _service(store)
    first = await service.search("bob", "budget", None, limit=2)
    assert [m.meeting_id for m in first.meetings] == ["m1"]
    assert first.continuation_token is not None
    queries = store.operations["queries"]
    later = await service.search("bob", "budget", first.continuation_token, limit=2)
    assert later.meetings == []
    assert store.operations["queries"] == queries  # not even read

    assert (await service.search("bob", "?!", None)).meetings == []
    assert store.operations["queries"] == queries
