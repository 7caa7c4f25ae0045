"""GET /api/search over HTTP: the pipeline indexes, only the caller's meetings are searched (removal at once,
even when the index missed it), paging, bad input, and the notes' corrections re-indexed."""

from __future__ import annotations

from typing import Any

from shared.bootstrap import Services
from shared.ports import SearchUnavailable
from tests import audio
from tests.conftest import FunctionCaller
from tests.functions.test_recordings_http import _create, _meeting, _run_jobs, _upload


async def _recorded(call: FunctionCaller, services: Services, *, summarize: bool = True) -> dict[str, str]:
    meeting_id = await _meeting(call)  # alice organizes; bob and pat take part
    wav = audio.wav([audio.pcm([("tone", 1.0), ("silence", 1.0), ("noise", 1.0)])])
    created = await _create(call, meeting_id, sizeBytes=len(wav))
    recording_id = created.json()["id"]
    await _upload(services, meeting_id, recording_id, wav)
    await _run_jobs(services, "transcription_job")
    if summarize:
        await _run_jobs(services, "summary_job")
    return {"meetingId": meeting_id, "recordingId": recording_id}


async def _search(call: FunctionCaller, user: str, **params: str) -> Any:
    return await call("search", "GET", "search", user=user, params=params)


async def test_the_pipeline_indexes_and_members_find_it(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services, summarize=False)
    # The transcript is searchable as soon as it is written (the fake transcriber says `piece N at ...`).
    early = await _search(call, "bob", q="piece")
    assert early.status == 200, early.body
    assert {i["kind"] for i in early.json()["items"]} == {"transcript"}
    await _run_jobs(services, "summary_job")

    reply = await _search(call, "bob", q="PIECE")
    assert reply.status == 200
    assert reply.headers["cache-control"] == "no-store"  # what a user may find changes with membership
    body = reply.json()
    assert body["continuationToken"] is None
    kinds = {i["kind"] for i in body["items"]}
    assert kinds == {"transcript", "summary"}
    for item in body["items"]:
        assert set(item) == {
            "meetingId",
            "meetingTitle",
            "recordingId",
            "kind",
            "start",
            "end",
            "speaker",
            "snippet",
            "highlights",
        }
        assert (item["meetingId"], item["recordingId"], item["meetingTitle"]) == (
            route["meetingId"],
            route["recordingId"],
            "Planning",
        )
        assert item["highlights"]
        assert all(item["snippet"][a:b].lower() == "piece" for a, b in item["highlights"])
    transcript = next(i for i in body["items"] if i["kind"] == "transcript")
    assert isinstance(transcript["start"], float)
    assert transcript["end"] >= transcript["start"]

    assert (await _search(call, "alice", q="piece")).json()["items"]
    assert (await _search(call, "mallory", q="piece")).json() == {
        "items": [],
        "continuationToken": None,
        "meetings": [],
    }


async def test_removal_takes_effect_at_once_even_when_the_index_missed_it(
    call: FunctionCaller, services: Services
) -> None:
    route = await _recorded(call, services)
    assert (await _search(call, "bob", q="piece")).json()["items"]

    async def down(*args: Any, **kwargs: Any) -> None:
        raise SearchUnavailable("the index is down")

    services.search_index.set_members = down  # type: ignore[method-assign]
    removed = await call(
        "remove_participant",
        "DELETE",
        "p",
        route={"meetingId": route["meetingId"], "userId": "bob"},
    )
    assert removed.status == 204
    # The index still lists bob as a member: the store says otherwise, and wins.
    assert (await _search(call, "bob", q="piece")).json()["items"] == []
    assert (await _search(call, "pat", q="piece")).json()["items"]


async def test_a_removed_participant_and_a_deleted_recording_leave_the_index(
    call: FunctionCaller, services: Services
) -> None:
    route = await _recorded(call, services)
    meeting = {"meetingId": route["meetingId"], "userId": "bob"}
    assert (await call("remove_participant", "DELETE", "p", route=meeting)).status == 204
    assert await services.search_index.query(["piece"], "bob", skip=0, top=5) == []
    assert await services.search_index.query(["piece"], "pat", skip=0, top=5)

    deleted = await call("delete_recording", "DELETE", "r", route=route)
    assert deleted.status == 204
    assert await services.search_index.query(["piece"], "alice", skip=0, top=5) == []
    assert (await _search(call, "alice", q="piece")).json()["items"] == []


async def test_pages_follow_a_signed_continuation(call: FunctionCaller, services: Services) -> None:
    await _recorded(call, services)
    await _recorded(call, services)
    everything = (await _search(call, "alice", q="piece", limit="50")).json()["items"]
    assert len(everything) > 3
    seen: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(len(everything)):
        params = {"q": "piece", "limit": "2", **({"continuationToken": token} if token else {})}
        page = (await _search(call, "alice", **params)).json()
        seen.extend(page["items"])
        token = page["continuationToken"]
        if token is None:
            break
    assert seen == everything
    first = (await _search(call, "alice", q="piece", limit="2")).json()["continuationToken"]
    assert first is not None
    # Another user, or another query, cannot carry on with it.
    for user, q in (("bob", "piece"), ("alice", "tone")):
        refused = await _search(call, user, q=q, limit="2", continuationToken=first)
        assert refused.status == 400
        assert "another search" in refused.json()["detail"]


async def test_bad_queries_are_400_problems(call: FunctionCaller, services: Services) -> None:
    for params in (
        {},
        {"q": ""},
        {"q": "x" * 201},
        {"q": "piece", "limit": "0"},
        {"q": "piece", "limit": "51"},
        {"q": "piece", "continuationToken": "forged"},
    ):
        reply = await _search(call, "alice", **params)
        assert reply.status == 400, params
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert (await call("search", "GET", "search", user=None, params={"q": "piece"})).status == 401
    # Query syntax is words like any others: nothing to parse, nothing to break.
    for q in ('"piece', "piece OR NOT x*", "text:piece", "NEAR(piece)", "piece'--"):
        assert (await _search(call, "alice", q=q)).status == 200, q
    # What the schema allows is answered: no word finds nothing; words past the 16th are not searched for.
    assert (await _search(call, "alice", q="?!* ()")).json() == {
        "items": [],
        "continuationToken": None,
        "meetings": [],
    }
    await _recorded(call, services)
    many = "piece " + " ".join(f"w{i}" for i in range(20))
    assert (await _search(call, "alice", q=many)).json()["items"] == []  # w0..w14 must match too
    assert (await _search(call, "alice", q="piece " + " ".join(["piece"] * 20))).json()["items"]


async def test_corrections_are_indexed_again(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services)
    current = (await call("get_summary", "GET", "s", route=route)).json()
    edited = {
        key: current[key]
        for key in ("overview", "keyPoints", "decisions", "actionItems", "chapters", "openQuestions")
    }
    edited["overview"] = "Corrected: the zeppelin budget is approved."
    put = await call(
        "edit_summary", "PUT", "e", route=route, json_body=edited, headers={"If-Match": '"summary-1"'}
    )
    assert put.status == 200, put.json()
    [hit] = (await _search(call, "bob", q="zeppelin")).json()["items"]
    assert hit["kind"] == "summary"
    assert hit["snippet"] == "Corrected: the zeppelin budget is approved."
    assert hit["highlights"] == [[15, 23]]


async def test_a_named_speaker_is_found_by_the_new_name(call: FunctionCaller, services: Services) -> None:
    from tests.functions.test_notes_http import _summarized  # an unmixed recording: channels ch0 and ch1

    route = await _summarized(call, services)
    before = (await _search(call, "bob", q="piece")).json()["items"]
    assert "Bobby" not in {i["speaker"] for i in before}
    named = await call(
        "name_speaker", "PUT", "n", route={**route, "speakerId": "ch0"}, json_body={"displayName": "Bobby"}
    )
    assert named.status == 200
    after = (await _search(call, "bob", q="piece")).json()["items"]
    assert "Bobby" in {i["speaker"] for i in after if i["kind"] == "transcript"}
    assert len(after) == len(before)


async def test_only_approved_summaries_are_indexed_when_only_those_are_shown(
    call: FunctionCaller, services: Services
) -> None:
    indexing = services.summary._search
    indexing._visibility = "approved"  # SUMMARY_VISIBILITY=approved, as bootstrap passes it
    try:
        route = await _recorded(call, services)
        assert {i["kind"] for i in (await _search(call, "bob", q="piece")).json()["items"]} == {"transcript"}
        approved = await call("approve_summary", "POST", "a", route=route)
        assert approved.status == 200
        kinds = {i["kind"] for i in (await _search(call, "bob", q="piece")).json()["items"]}
        assert kinds == {"transcript", "summary"}
    finally:
        indexing._visibility = "drafts"


async def test_meetings_are_found_by_their_title_on_the_first_page(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)  # "Planning": alice organizes; bob and pat take part; nothing said
    reply = await _search(call, "bob", q="plan")
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["items"] == []
    [found] = body["meetings"]
    assert set(found) == {"meetingId", "title", "startsAt", "endsAt", "status", "highlights"}
    assert (found["meetingId"], found["title"], found["status"]) == (meeting_id, "Planning", "scheduled")
    assert found["highlights"] == [[0, 8]]
    meeting = (await call("get_meeting", "GET", "m", user="bob", route={"meetingId": meeting_id})).json()
    assert (found["startsAt"], found["endsAt"]) == (meeting["startsAt"], meeting["endsAt"])

    assert (await _search(call, "mallory", q="planning")).json()["meetings"] == []
    assert (await _search(call, "bob", q="planning budget")).json()["meetings"] == []

    # A removed participant no longer finds it; a cancelled meeting is still found, as cancelled.
    route = {"meetingId": meeting_id, "userId": "bob"}
    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    assert (await _search(call, "bob", q="planning")).json()["meetings"] == []
    assert (await call("cancel_meeting", "DELETE", "m", route={"meetingId": meeting_id})).status == 204
    [cancelled] = (await _search(call, "pat", q="planning")).json()["meetings"]
    assert cancelled["status"] == "cancelled"


async def test_later_pages_list_no_meetings(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services)
    await _recorded(call, services)
    renamed = await call(
        "update_meeting", "PATCH", "m", route={"meetingId": route["meetingId"]}, json_body={"title": "Piece"}
    )
    assert renamed.status == 200, renamed.body
    first = (await _search(call, "alice", q="piece", limit="2")).json()
    assert first["continuationToken"] is not None
    assert [m["meetingId"] for m in first["meetings"]] == [route["meetingId"]]
    later = await _search(call, "alice", q="piece", limit="2", continuationToken=first["continuationToken"])
    assert later.status == 200
    assert later.json()["items"]
    assert later.json()["meetings"] == []
