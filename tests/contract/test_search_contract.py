"""One contract for every SearchIndex adapter: SQLite FTS5, and Azure AI Search (azure-search-documents)
against tests/search_server.py, a local HTTPS server speaking the REST API the SDK calls, which checks the
bearer token, parses the filter as OData and never returns hidden fields."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

import pytest
from azure.core.credentials import AccessToken

from shared.adapters.azure_search import AzureSearchIndex, document_key, odata_string
from shared.adapters.sqlite_search import SqliteSearchIndex
from shared.notes.search_text import search_terms
from shared.ports import SearchDocument, SearchError, SearchIndex, SearchUnavailable
from tests.search_server import SearchService, parse_filter


class Credential:
    """An AsyncTokenCredential whose tokens the server accepts; it records the scopes asked for."""

    def __init__(self, valid: set[str]) -> None:
        self.valid = valid
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        token = f"token-{len(self.scopes)}-{time.monotonic_ns()}"
        self.valid.add(token)
        return AccessToken(token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.fixture
async def search_service() -> AsyncIterator[SearchService]:
    service = SearchService()
    await service.start()
    yield service
    await service.stop()


def azure_index(service: SearchService, credential: Any = None) -> AzureSearchIndex:
    return AzureSearchIndex(
        service.endpoint,
        credential or Credential(service.valid),
        index_name="notes",
        connection_verify=str(service.site.ca_file),
        retry_total=0,
    )


@pytest.fixture(params=["sqlite", "azure"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchIndex]:
    if request.param == "sqlite":
        built = SqliteSearchIndex(tmp_path / "search.sqlite3")
        yield built
        await built.aclose()
        return
    service = SearchService()
    await service.start()
    azure = azure_index(service)
    yield azure
    await azure.aclose()
    await service.stop()


def doc(
    meeting: str,
    recording: str,
    position: int,
    text: str,
    *,
    kind: str = "transcript",
    start: float | None = None,
    speaker: str | None = "Ada",
) -> SearchDocument:
    return SearchDocument(
        meeting_id=meeting,
        recording_id=recording,
        kind="summary" if kind == "summary" else "transcript",
        position=position,
        start=float(position * 10) if start is None and kind == "transcript" else start,
        end=float(position * 10 + 5) if kind == "transcript" else None,
        speaker=speaker if kind == "transcript" else None,
        text=text,
    )


async def found(index: SearchIndex, query: str, user: str, *, skip: int = 0, top: int = 20) -> list[str]:
    hits = await index.query(search_terms(query), user, skip=skip, top=top)
    return [hit.snippet for hit in hits]


async def test_finds_passages_by_their_words_best_first_with_highlights(index: SearchIndex) -> None:
    await index.replace_recording(
        "m-1",
        "r-1",
        [
            doc("m-1", "r-1", 0, "We talked about the weather and lunch."),
            doc("m-1", "r-1", 1, "The budget, the budget and once more the budget."),
            doc("m-1", "r-1", 2, "Is the budget approved?", speaker=None),
            doc("m-1", "r-1", 3, "Approve the budget by Friday", kind="summary"),
        ],
        ["alice"],
    )
    hits = await index.query(["budget"], "alice", skip=0, top=10)
    assert len(hits) == 3
    assert hits[0].snippet == "The budget, the budget and once more the budget."  # most often: first
    assert {h.kind for h in hits} == {"transcript", "summary"}
    for hit in hits:
        assert hit.meeting_id == "m-1"
        assert hit.recording_id == "r-1"
        assert hit.highlights, hit
        assert all(hit.snippet[a:b].lower() == "budget" for a, b in hit.highlights)
    first = hits[0]
    assert (first.start, first.end, first.speaker) == (10.0, 15.0, "Ada")
    summary = next(h for h in hits if h.kind == "summary")
    assert (summary.start, summary.end, summary.speaker) == (None, None, None)
    question = next(h for h in hits if h.snippet.startswith("Is"))
    assert question.speaker is None


async def test_every_word_must_match(index: SearchIndex) -> None:
    await index.replace_recording(
        "m-1",
        "r-1",
        [doc("m-1", "r-1", 0, "budget for travel"), doc("m-1", "r-1", 1, "budget for hardware")],
        ["alice"],
    )
    assert await found(index, "budget travel", "alice") == ["budget for travel"]
    assert await found(index, "budget nothing", "alice") == []


async def test_only_members_find_a_meeting(index: SearchIndex) -> None:
    await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "secret plan one")], ["alice", "bob"])
    await index.replace_recording("m-2", "r-2", [doc("m-2", "r-2", 0, "secret plan two")], ["carol"])
    assert await found(index, "secret", "alice") == ["secret plan one"]
    assert await found(index, "secret", "bob") == ["secret plan one"]
    assert await found(index, "secret", "carol") == ["secret plan two"]
    assert await found(index, "secret", "mallory") == []
    # A user id is a filter value, never filter syntax.
    assert await found(index, "secret", "x' or 'a' eq 'a") == []


async def test_membership_changes_take_effect(index: SearchIndex) -> None:
    await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "roadmap review")], ["alice", "bob"])
    await index.replace_recording("m-1", "r-2", [doc("m-1", "r-2", 0, "roadmap again")], ["alice", "bob"])
    await index.set_members("m-1", ["alice", "dave"])
    assert await found(index, "roadmap", "bob") == []
    assert sorted(await found(index, "roadmap", "dave")) == ["roadmap again", "roadmap review"]
    assert len(await found(index, "roadmap", "alice")) == 2
    await index.set_members("m-unknown", ["alice"])  # a meeting with nothing indexed: nothing to do


async def test_replacing_a_recording_drops_its_old_passages(index: SearchIndex) -> None:
    await index.replace_recording(
        "m-1", "r-1", [doc("m-1", "r-1", i, f"first draft {i}") for i in range(3)], ["alice"]
    )
    await index.replace_recording("m-1", "r-2", [doc("m-1", "r-2", 0, "other draft")], ["alice"])
    await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "final words")], ["alice"])
    assert await found(index, "first", "alice") == []
    assert await found(index, "final", "alice") == ["final words"]
    assert await found(index, "draft", "alice") == ["other draft"]


async def test_removing_a_recording_or_a_meeting(index: SearchIndex) -> None:
    await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "alpha one")], ["alice"])
    await index.replace_recording("m-1", "r-2", [doc("m-1", "r-2", 0, "alpha two")], ["alice"])
    await index.replace_recording("m-2", "r-3", [doc("m-2", "r-3", 0, "alpha three")], ["alice"])
    await index.remove_recording("m-1", "r-1")
    await index.remove_recording("m-1", "r-missing")
    assert sorted(await found(index, "alpha", "alice")) == ["alpha three", "alpha two"]
    await index.remove_meeting("m-2")
    await index.remove_meeting("m-missing")
    assert await found(index, "alpha", "alice") == ["alpha two"]


async def test_pages_do_not_overlap_and_cover_every_hit(index: SearchIndex) -> None:
    await index.replace_recording(
        "m-1",
        "r-1",
        [doc("m-1", "r-1", i, f"topic {'word ' * (i % 5)}number {i}") for i in range(23)],
        ["alice"],
    )
    pages = [await index.query(["topic"], "alice", skip=skip, top=10) for skip in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 3]
    snippets = [hit.snippet for page in pages for hit in page]
    assert len(set(snippets)) == 23


async def test_words_of_any_script_and_long_passages(index: SearchIndex) -> None:
    long_text = " ".join(["filler"] * 200 + ["needle"] + ["filler"] * 200)
    await index.replace_recording(
        "m-1",
        "r-1",
        [doc("m-1", "r-1", 0, "Réunion à Zürich über das Café"), doc("m-1", "r-1", 1, long_text)],
        ["alice"],
    )
    [hit] = await index.query(search_terms("ZÜRICH"), "alice", skip=0, top=5)
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Zürich"]
    [needle] = await index.query(["needle"], "alice", skip=0, top=5)
    assert "needle" in needle.snippet
    assert len(needle.snippet) < len(long_text)
    assert [needle.snippet[a:b] for a, b in needle.highlights] == ["needle"]
    assert await index.query([], "alice", skip=0, top=5) == []


# --- Azure AI Search only: what goes over the wire ---------------------------------------------------------


async def test_azure_is_keyless_creates_its_index_once_and_filters_every_query(
    search_service: SearchService,
) -> None:
    credential = Credential(search_service.valid)
    index = azure_index(search_service, credential)
    try:
        await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "hello world")], ["alice", "bob"])
        await index.query(["hello"], "o'brien", skip=0, top=5)
        await index.set_members("m-1", ["alice"])
    finally:
        await index.aclose()
    assert credential.scopes
    assert all(s == ("https://search.azure.com/.default",) for s in credential.scopes)
    definition = search_service.indexes["notes"]
    fields = {f["name"]: f for f in definition["fields"]}
    assert fields["id"]["key"] is True
    assert fields["memberIds"]["type"] == "Collection(Edm.String)"
    assert fields["memberIds"]["filterable"] is True
    assert fields["memberIds"]["retrievable"] is False  # who else is in a meeting is nobody's search result
    assert fields["text"]["searchable"] is True
    # A second worker finds the index there and uses it as it is.
    again = azure_index(search_service)
    try:
        assert [h.snippet for h in await again.query(["hello"], "alice", skip=0, top=5)] == ["hello world"]
    finally:
        await again.aclose()
    creates = [r for r in search_service.requests if r["path"] == "/indexes"]
    assert len(creates) == 1
    searches = [r["body"] for r in search_service.requests if r["path"].endswith("search.post.search")]
    query = next(s for s in searches if s.get("search") == "hello")
    assert query["filter"] == "memberIds/any(m: m eq 'o''brien')"
    assert query["searchMode"] == "all"
    assert (query["skip"], query["top"]) == (0, 5)
    assert query["highlight"] == "text"
    # Documents carry their members, and a stored document is keyed by what identifies its passage.
    [stored] = search_service.documents["notes"].values()
    assert stored["memberIds"] == ["alice"]
    assert stored["id"] == document_key("m-1", "r-1", 0)


async def test_azure_failures_are_the_ports_errors(search_service: SearchService, tmp_path: Path) -> None:
    index = azure_index(search_service)
    refused = azure_index(search_service, Credential(set()))  # tokens the service does not take
    try:
        await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "hello")], ["alice"])
        search_service.fail_next = 503
        with pytest.raises(SearchUnavailable):
            await index.query(["hello"], "alice", skip=0, top=5)
        with pytest.raises(SearchError):
            await refused.query(["hello"], "alice", skip=0, top=5)
    finally:
        await index.aclose()
        await refused.aclose()


def test_odata_strings_and_the_stand_ins_filter_parser_agree() -> None:
    for value in ["plain", "o'brien", "''", "a' or true or 'b", "x eq 'y'"]:
        [(field, parsed, collection)] = parse_filter(f"memberIds/any(m: m eq {odata_string(value)})")
        assert (field, parsed, collection) == ("memberIds", value, True)
    with pytest.raises(ValueError, match="Invalid"):
        parse_filter("memberIds/any(m: m eq 'a' or true)")


async def test_a_long_recording_is_indexed_and_replaced_whole(index: SearchIndex) -> None:
    # A three-hour meeting has thousands of segments: more than one indexing batch, more than one page of ids.
    many = [doc("m-1", "r-1", i, f"segment {i} of the long meeting") for i in range(1_250)]
    await index.replace_recording("m-1", "r-1", many, ["alice"])
    assert len(await index.query(["long"], "alice", skip=1_240, top=20)) == 10
    await index.replace_recording("m-1", "r-1", [doc("m-1", "r-1", 0, "short now")], ["alice"])
    assert await index.query(["long"], "alice", skip=0, top=20) == []
    await index.set_members("m-1", ["bob"])
    assert [h.snippet for h in await index.query(["short"], "bob", skip=0, top=5)] == ["short now"]
