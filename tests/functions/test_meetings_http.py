"""The meetings functions, called with real func.HttpRequest objects on the embedded backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.bootstrap import Services
from tests.conftest import FunctionCaller

pytestmark = pytest.mark.usefixtures("services")


def _times(hours_from_now: float = 24, length_hours: float = 1) -> tuple[str, str]:
    start = (datetime.now(UTC) + timedelta(hours=hours_from_now)).replace(microsecond=0)
    end = start + timedelta(hours=length_hours)
    return start.isoformat(), end.isoformat()


def _meeting(**overrides: Any) -> dict[str, Any]:
    starts, ends = _times()
    body: dict[str, Any] = {
        "title": "Planning",
        "startsAt": starts,
        "endsAt": ends,
        "participants": [{"userId": "bob", "role": "attendee"}],
    }
    body.update(overrides)
    return body


async def _create(call: FunctionCaller, **overrides: Any) -> dict[str, Any]:
    reply = await call("create_meeting", "POST", "meetings", json_body=_meeting(**overrides))
    assert reply.status == 201, reply.body
    return dict(reply.json())


async def test_create_returns_the_meeting_with_location_and_etag(call: FunctionCaller) -> None:
    reply = await call("create_meeting", "POST", "meetings", json_body=_meeting())
    assert reply.status == 201
    meeting = reply.json()
    assert reply.headers["location"] == f"http://localhost:7071/api/meetings/{meeting['id']}"
    assert reply.headers["etag"].startswith('"')
    assert reply.headers["content-type"].startswith("application/json")
    assert meeting["organizerId"] == "alice"
    assert meeting["status"] == "scheduled"
    assert meeting["roomId"]
    assert meeting["participants"] == [
        {"userId": "alice", "role": "presenter", "displayName": None},
        {"userId": "bob", "role": "attendee", "displayName": None},
    ]
    assert meeting["startsAt"].endswith("Z")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"startsAt": "tomorrow"}, "startsAt"),
        ({"startsAt": "2030-01-01T10:00:00"}, "startsAt"),  # no offset: ambiguous
        ({"participants": [{"userId": "b o b"}]}, "participants.0.userId"),
        ({"participants": [{"userId": "bob", "role": "host"}]}, "participants.0.role"),
        ({"participants": [{"userId": "bob"}, {"userId": "bob"}]}, "participants"),
        ({"participants": [{"userId": f"u{i}"} for i in range(351)]}, "participants"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_meetings_are_refused_with_the_field(
    call: FunctionCaller, overrides: dict[str, Any], field: str
) -> None:
    reply = await call("create_meeting", "POST", "meetings", json_body=_meeting(**overrides))
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["status"] == 400
    assert any(error["field"] == field for error in problem["errors"]), problem


async def test_schedule_rules_are_enforced(call: FunctionCaller) -> None:
    starts, _ = _times()
    too_long = (datetime.fromisoformat(starts) + timedelta(hours=24, minutes=1)).isoformat()
    reply = await call("create_meeting", "POST", "meetings", json_body=_meeting(endsAt=too_long))
    assert reply.status == 400
    assert "24 hours" in reply.json()["detail"]
    reply = await call("create_meeting", "POST", "meetings", json_body=_meeting(endsAt=starts))
    assert reply.status == 400
    past_start, past_end = _times(hours_from_now=-5)
    reply = await call(
        "create_meeting", "POST", "meetings", json_body=_meeting(startsAt=past_start, endsAt=past_end)
    )
    assert reply.status == 400
    assert "past" in reply.json()["detail"]


async def test_malformed_json_is_400(call: FunctionCaller) -> None:
    reply = await call(
        "create_meeting", "POST", "meetings", body=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert "not valid JSON" in reply.json()["detail"]


@pytest.mark.parametrize("depth", [200, 5_000, 30_000])
async def test_deeply_nested_json_is_400(call: FunctionCaller, depth: int) -> None:
    # Under the 64 KiB body limit, yet deeper than the parser's or the validator's stack.
    body = b'{"title": "x", "participants": ' + b"[" * depth + b"]" * depth + b"}"
    reply = await call(
        "create_meeting", "POST", "meetings", body=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400, reply.body
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "instant",
    ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-00:01"],
)
async def test_instants_past_the_representable_range_are_400_on_their_field(
    call: FunctionCaller, instant: str
) -> None:
    created = await call("create_meeting", "POST", "meetings", json_body=_meeting(startsAt=instant))
    assert created.status == 400, created.body
    assert created.json()["errors"][0]["field"] == "startsAt"
    meeting = await _create(call)
    patched = await call(
        "update_meeting", "PATCH", f"meetings/{meeting['id']}", json_body={"endsAt": instant}
    )
    assert patched.status == 400, patched.body
    listed = await call("list_meetings", "GET", "meetings", params={"from": instant})
    assert listed.status == 400, listed.body


async def test_a_non_json_content_type_is_415(call: FunctionCaller) -> None:
    reply = await call(
        "create_meeting", "POST", "meetings", body=b"title=x", headers={"Content-Type": "text/plain"}
    )
    assert reply.status == 415
    assert reply.headers["content-type"] == "application/problem+json"


async def test_a_body_over_64_kib_is_413(call: FunctionCaller) -> None:
    big = _meeting(description="x" * (65 * 1024))
    reply = await call("create_meeting", "POST", "meetings", json_body=big)
    assert reply.status == 413


async def test_a_missing_body_is_400(call: FunctionCaller) -> None:
    reply = await call("create_meeting", "POST", "meetings", headers={"Content-Type": "application/json"})
    assert reply.status == 400


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic YWxpY2U6eA==",
        "Bearer",
        "Bearer alice",
        "Bearer dev:",
        "Bearer dev:a b",
        "Bearer dev:" + "a" * 129,
    ],
)
async def test_bad_credentials_are_401_and_reach_no_service(
    call: FunctionCaller, services: Services, authorization: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[str] = []

    async def spy(*args: object, **kwargs: object) -> None:
        reached.append("service")

    for method in ("create", "list", "get", "update", "cancel", "put_participant", "remove_participant"):
        monkeypatch.setattr(services.meetings, method, spy)
    headers = {} if authorization is None else {"Authorization": authorization}
    for name, method, path, body in [
        ("create_meeting", "POST", "meetings", _meeting()),
        ("list_meetings", "GET", "meetings", None),
        ("get_meeting", "GET", "meetings/x", None),
    ]:
        reply = await call(
            name, method, path, user=None, headers=headers, json_body=body, route={"meetingId": "x"}
        )
        assert reply.status == 401, (authorization, reply.body)
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.headers["www-authenticate"] == "Bearer"
    assert reached == []


async def test_outsiders_get_404_and_participants_403(call: FunctionCaller) -> None:
    meeting = await _create(call)
    route = {"meetingId": meeting["id"]}
    assert (
        await call("get_meeting", "GET", f"meetings/{meeting['id']}", user="mallory", route=route)
    ).status == 404
    assert (
        await call("get_meeting", "GET", f"meetings/{meeting['id']}", user="bob", route=route)
    ).status == 200
    reply = await call(
        "update_meeting", "PATCH", "meetings/x", user="bob", route=route, json_body={"title": "Mine"}
    )
    assert reply.status == 403
    reply = await call(
        "update_meeting", "PATCH", "meetings/x", user="mallory", route=route, json_body={"title": "x"}
    )
    assert reply.status == 404
    reply = await call("cancel_meeting", "DELETE", "meetings/x", user="bob", route=route)
    assert reply.status == 403


async def test_patch_honours_if_match(call: FunctionCaller) -> None:
    meeting = await _create(call)
    route = {"meetingId": meeting["id"]}
    got = await call("get_meeting", "GET", "meetings/x", route=route)
    etag = got.headers["etag"]
    first = await call(
        "update_meeting", "PATCH", "m", route=route, json_body={"title": "One"}, headers={"If-Match": etag}
    )
    assert first.status == 200
    assert first.json()["title"] == "One"
    assert first.headers["etag"] != etag
    stale = await call(
        "update_meeting", "PATCH", "m", route=route, json_body={"title": "Two"}, headers={"If-Match": etag}
    )
    assert stale.status == 412
    assert (await call("get_meeting", "GET", "m", route=route)).json()["title"] == "One"
    fresh = await call(
        "update_meeting",
        "PATCH",
        "m",
        route=route,
        json_body={"title": "Two"},
        headers={"If-Match": first.headers["etag"]},
    )
    assert fresh.status == 200


async def test_participants_are_added_changed_and_removed(call: FunctionCaller) -> None:
    meeting = await _create(call)
    route = {"meetingId": meeting["id"], "userId": "carol"}
    reply = await call("put_participant", "PUT", "p", route=route, json_body={"role": "consumer"})
    assert reply.status == 200
    assert reply.json() == {"userId": "carol", "role": "consumer", "displayName": None}
    assert (await call("get_meeting", "GET", "m", user="carol", route=route)).status == 200
    reply = await call("put_participant", "PUT", "p", route=route, json_body={"role": "presenter"})
    assert reply.json()["role"] == "presenter"
    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    assert (await call("get_meeting", "GET", "m", user="carol", route=route)).status == 404
    # Idempotent.
    assert (await call("remove_participant", "DELETE", "p", route=route)).status == 204
    bad = await call(
        "put_participant", "PUT", "p", route={**route, "userId": "no/slash"}, json_body={"role": "attendee"}
    )
    assert bad.status == 400
    organizer = await call(
        "put_participant", "PUT", "p", route={**route, "userId": "alice"}, json_body={"role": "attendee"}
    )
    assert organizer.status == 409


async def test_cancel_then_changes_are_409(call: FunctionCaller) -> None:
    meeting = await _create(call)
    route = {"meetingId": meeting["id"]}
    assert (await call("cancel_meeting", "DELETE", "m", route=route)).status == 204
    assert (await call("cancel_meeting", "DELETE", "m", route=route)).status == 204
    got = await call("get_meeting", "GET", "m", route=route)
    assert got.json()["status"] == "cancelled"
    reply = await call("update_meeting", "PATCH", "m", route=route, json_body={"title": "x"})
    assert reply.status == 409
    assert reply.json()["detail"] == "the meeting is cancelled"


async def test_list_pages_with_a_signed_continuation_token(call: FunctionCaller) -> None:
    for hours in range(5):
        await _create(call, startsAt=_times(24 + hours)[0], endsAt=_times(24 + hours)[1])
    first = await call("list_meetings", "GET", "meetings", params={"limit": "2"})
    assert first.status == 200
    page = first.json()
    assert len(page["items"]) == 2
    token = page["continuationToken"]
    assert token
    seen = [item["id"] for item in page["items"]]
    while token:
        reply = await call(
            "list_meetings", "GET", "meetings", params={"limit": "2", "continuationToken": token}
        )
        assert reply.status == 200
        seen += [item["id"] for item in reply.json()["items"]]
        token = reply.json()["continuationToken"]
    assert len(seen) == len(set(seen)) == 5
    bob = await call("list_meetings", "GET", "meetings", user="bob")
    assert len(bob.json()["items"]) == 5
    assert all(item["role"] == "attendee" for item in bob.json()["items"])
    # Tampered, forged, or someone else's: 400.
    tampered = page["continuationToken"][:-2] + (
        "AA" if not page["continuationToken"].endswith("AA") else "BB"
    )
    for bad in [tampered, "garbage", "e30.e30"]:
        reply = await call("list_meetings", "GET", "meetings", params={"continuationToken": bad})
        assert reply.status == 400, bad
    stolen = await call(
        "list_meetings",
        "GET",
        "meetings",
        user="bob",
        params={"continuationToken": page["continuationToken"]},
    )
    assert stolen.status == 400


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"from": "yesterday"}])
async def test_list_refuses_bad_query(call: FunctionCaller, params: dict[str, str]) -> None:
    reply = await call("list_meetings", "GET", "meetings", params=params)
    assert reply.status == 400


async def test_list_filters_by_window(call: FunctionCaller) -> None:
    soon = await _create(call, startsAt=_times(2)[0], endsAt=_times(2)[1])
    later = await _create(call, startsAt=_times(48)[0], endsAt=_times(48)[1])
    cutoff = (datetime.now(UTC) + timedelta(hours=24)).isoformat()
    before = await call("list_meetings", "GET", "meetings", params={"to": cutoff})
    assert [m["id"] for m in before.json()["items"]] == [soon["id"]]
    after = await call("list_meetings", "GET", "meetings", params={"from": cutoff})
    assert [m["id"] for m in after.json()["items"]] == [later["id"]]


async def test_unknown_route_is_404_and_wrong_method_is_405(call: FunctionCaller) -> None:
    reply = await call("fallback", "GET", "nothing/here", route={"path": "nothing/here"})
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/problem+json"
    reply = await call("fallback", "PUT", "meetings/abc", route={"path": "meetings/abc"})
    assert reply.status == 405
    assert reply.headers["allow"] == "DELETE, GET, PATCH"
    reply = await call(
        "fallback", "POST", "meetings/abc/participants/bob", route={"path": "meetings/abc/participants/bob"}
    )
    assert reply.headers["allow"] == "DELETE, PATCH, PUT"
    reply = await call("fallback", "DELETE", "meetings", route={"path": "meetings"})
    assert reply.headers["allow"] == "GET, POST"


async def test_health_needs_no_credentials(call: FunctionCaller) -> None:
    reply = await call("health", "GET", "health", user=None)
    assert reply.status == 200
    assert reply.json()["status"] == "ok"


async def test_unexpected_errors_are_500_problems_without_internals(
    call: FunctionCaller, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.meetings, "get", boom)
    reply = await call("get_meeting", "GET", "m", route={"meetingId": "x"})
    assert reply.status == 500
    assert b"secret internals" not in reply.body
    assert reply.json()["invocationId"]


async def test_the_list_shows_changes_at_once(call: FunctionCaller) -> None:
    meeting = await _create(call)
    assert [m["title"] for m in (await call("list_meetings", "GET", "meetings")).json()["items"]] == [
        "Planning"
    ]
    route = {"meetingId": meeting["id"]}
    assert (
        await call("update_meeting", "PATCH", "m", route=route, json_body={"title": "Renamed"})
    ).status == 200
    assert [m["title"] for m in (await call("list_meetings", "GET", "meetings")).json()["items"]] == [
        "Renamed"
    ]
    reply = await call(
        "put_participant", "PUT", "p", route={**route, "userId": "bob"}, json_body={"role": "consumer"}
    )
    assert reply.status == 200
    bobs = (await call("list_meetings", "GET", "meetings", user="bob")).json()["items"]
    assert [(m["title"], m["role"]) for m in bobs] == [("Renamed", "consumer")]


# --- display names ---------------------------------------------------------------------------------------


async def _rename(
    call: FunctionCaller, meeting_id: str, user_id: str, name: Any, user: str = "alice", **headers: str
) -> Any:
    route = {"meetingId": meeting_id, "userId": user_id}
    return await call(
        "rename_participant",
        "PATCH",
        "p",
        user=user,
        route=route,
        json_body={"displayName": name},
        headers=headers,
    )


async def test_the_organizer_names_participants_on_invite(call: FunctionCaller) -> None:
    meeting = await _create(
        call,
        participants=[
            {"userId": "alice", "role": "presenter", "displayName": "  Alice Liddell "},
            {"userId": "bob", "role": "attendee", "displayName": "Bob"},
            {"userId": "dan", "role": "consumer"},
        ],
    )
    assert [(p["userId"], p["displayName"]) for p in meeting["participants"]] == [
        ("alice", "Alice Liddell"),  # the organizer too, stripped
        ("bob", "Bob"),
        ("dan", None),
    ]
    route = {"meetingId": meeting["id"], "userId": "carol"}
    put = await call(
        "put_participant", "PUT", "p", route=route, json_body={"role": "attendee", "displayName": "Carol"}
    )
    assert put.json() == {"userId": "carol", "role": "attendee", "displayName": "Carol"}
    # A role change without a name keeps the name; an explicit null clears it.
    put = await call("put_participant", "PUT", "p", route=route, json_body={"role": "presenter"})
    assert put.json()["displayName"] == "Carol"
    put = await call(
        "put_participant", "PUT", "p", route=route, json_body={"role": "presenter", "displayName": None}
    )
    assert put.json()["displayName"] is None
    put = await call(
        "put_participant", "PUT", "p", route=route, json_body={"role": "presenter", "displayName": "C."}
    )
    assert put.json() == {"userId": "carol", "role": "presenter", "displayName": "C."}
    # PATCH of the meeting replaces the list: who is given without a name keeps theirs.
    patched = await call(
        "update_meeting",
        "PATCH",
        "m",
        route={"meetingId": meeting["id"]},
        json_body={
            "participants": [{"userId": "bob", "role": "presenter"}, {"userId": "dan", "displayName": "Dan"}]
        },
    )
    assert patched.status == 200, patched.body
    assert [(p["userId"], p["displayName"]) for p in patched.json()["participants"]] == [
        ("alice", "Alice Liddell"),
        ("bob", "Bob"),
        ("dan", "Dan"),
    ]
    got = await call("get_meeting", "GET", "m", user="dan", route={"meetingId": meeting["id"]})
    assert got.json()["participants"] == patched.json()["participants"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, 42])
async def test_bad_display_names_are_400(call: FunctionCaller, name: Any) -> None:
    meeting = await _create(call)
    reply = await _rename(call, meeting["id"], "bob", name)
    assert reply.status == 400
    assert reply.json()["errors"][0]["field"] == "displayName"
    created = await call(
        "create_meeting",
        "POST",
        "meetings",
        json_body=_meeting(participants=[{"userId": "bob", "displayName": name}]),
    )
    assert created.status == 400
    assert created.json()["errors"][0]["field"] == "participants.0.displayName"


async def test_who_may_rename_whom(call: FunctionCaller) -> None:
    meeting = await _create(call, participants=[{"userId": "bob"}, {"userId": "carol"}])
    meeting_id = meeting["id"]
    mine = await _rename(call, meeting_id, "bob", " Robert ", user="bob")  # a participant, themself
    assert mine.status == 200, mine.body
    assert mine.json() == {"userId": "bob", "role": "attendee", "displayName": "Robert"}
    assert (await _rename(call, meeting_id, "carol", "Caz", user="bob")).status == 403  # someone else
    assert (await _rename(call, meeting_id, "bob", "Bobby", user="mallory")).status == 404  # an outsider
    assert (await _rename(call, meeting_id, "carol", "Carol")).status == 200  # the organizer, anyone
    assert (await _rename(call, meeting_id, "alice", "The Organizer")).status == 200  # and themself
    assert (await _rename(call, meeting_id, "zed", "Zed")).status == 404  # not a participant
    assert (await _rename(call, meeting_id, "bob", None, user="bob")).json()["displayName"] is None
    missing = await call(
        "rename_participant", "PATCH", "p", route={"meetingId": meeting_id, "userId": "bob"}, json_body={}
    )
    assert missing.status == 400
    got = (await call("get_meeting", "GET", "m", route={"meetingId": meeting_id})).json()
    assert [(p["userId"], p["displayName"]) for p in got["participants"]] == [
        ("alice", "The Organizer"),
        ("bob", None),
        ("carol", "Carol"),
    ]
    await call("cancel_meeting", "DELETE", "m", route={"meetingId": meeting_id})
    assert (await _rename(call, meeting_id, "bob", "Bob", user="bob")).status == 409


async def test_a_rename_changes_the_meetings_etag_and_honours_if_match(call: FunctionCaller) -> None:
    meeting = await _create(call)
    route = {"meetingId": meeting["id"]}
    first = await call("get_meeting", "GET", "m", route=route)
    renamed = await _rename(
        call, meeting["id"], "bob", "Bob", user="bob", **{"If-Match": first.headers["etag"]}
    )
    assert renamed.status == 200
    assert renamed.headers["etag"] != first.headers["etag"]
    now = await call("get_meeting", "GET", "m", route=route)
    assert now.headers["etag"] == renamed.headers["etag"]
    # The meeting changed: a write made against the old ETag is refused, as for any change.
    stale = await _rename(call, meeting["id"], "bob", "B", user="bob", **{"If-Match": first.headers["etag"]})
    assert stale.status == 412
    patch = await call(
        "update_meeting",
        "PATCH",
        "m",
        route=route,
        json_body={"title": "T"},
        headers={"If-Match": first.headers["etag"]},
    )
    assert patch.status == 412
    # The same name again changes nothing, not even the ETag.
    again = await _rename(call, meeting["id"], "bob", "Bob", user="bob")
    assert again.headers["etag"] == renamed.headers["etag"]


async def test_authenticated_answers_are_never_cached_or_sniffed(call: FunctionCaller) -> None:
    meeting = await _create(call)
    answers = [
        await call("get_meeting", "GET", f"meetings/{meeting['id']}", route={"meetingId": meeting["id"]}),
        await call("list_meetings", "GET", "meetings"),
        await call("get_meeting", "GET", "meetings/nope", route={"meetingId": "nope"}),
        await call("list_meetings", "GET", "meetings", user=None),
        await call("fallback", "GET", "nothing/here", route={"path": "nothing/here"}),
    ]
    for reply in answers:
        assert reply.headers["cache-control"] == "no-store", reply.status
        assert reply.headers["x-content-type-options"] == "nosniff", reply.status


async def test_anonymous_answers_are_not_sniffed_but_may_be_cached(call: FunctionCaller) -> None:
    reply = await call("health", "GET", "health", user=None)
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in reply.headers
