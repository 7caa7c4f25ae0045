"""Correcting the notes over HTTP: edits with If-Match, approval, versions, force, visibility, speakers."""

from __future__ import annotations

from typing import Any

from shared.bootstrap import Services
from tests import audio
from tests.conftest import FunctionCaller
from tests.functions.test_recordings_http import _create, _meeting, _run_jobs, _transcript, _upload

CHANNELS = [{"channel": 0, "userId": "bob"}, {"channel": 1, "userId": "pat"}]


async def _summarized(call: FunctionCaller, services: Services) -> dict[str, str]:
    meeting_id = await _meeting(call)
    left = audio.pcm([("tone", 1.0), ("silence", 3.0)])
    right = audio.pcm([("silence", 2.0), ("noise", 1.0), ("silence", 1.0)])
    stereo = audio.wav([left, right])
    created = await _create(call, meeting_id, channels=CHANNELS, sizeBytes=len(stereo))
    recording_id = created.json()["id"]
    await _upload(services, meeting_id, recording_id, stereo)
    await _run_jobs(services, "transcription_job")
    await _run_jobs(services, "summary_job")
    return {"meetingId": meeting_id, "recordingId": recording_id}


async def test_edit_approve_and_versions(call: FunctionCaller, services: Services) -> None:
    route = await _summarized(call, services)
    read = await call("get_summary", "GET", "s", route=route)
    assert read.status == 200
    assert read.headers["etag"] == '"summary-1"'
    body = read.json()
    assert body["version"] == 1
    transcript = (await _transcript(call, route["meetingId"], route["recordingId"], "json")).json()
    said = transcript["segments"][0]["text"]

    edited = {
        **body,
        "overview": "Corrected by hand.",
        "keyPoints": [
            {"text": "Cited", "evidence": [{"segments": [0], "quote": said.upper()}]},
            {"text": "Invented", "evidence": [{"segments": [0], "quote": "words nobody said"}]},
            {"text": "Bare"},
        ],
    }
    stale = await call("edit_summary", "PUT", "e", route=route, json_body=edited, headers={"If-Match": '"x"'})
    assert stale.status == 412
    assert (await call("edit_summary", "PUT", "e", user="bob", route=route, json_body=edited)).status == 403
    put = await call(
        "edit_summary", "PUT", "e", route=route, json_body=edited, headers={"If-Match": '"summary-1"'}
    )
    assert put.status == 200, put.json()
    assert put.headers["etag"] == '"summary-2"'
    new = put.json()
    assert (new["version"], new["editedBy"], new["overview"]) == (2, "alice", "Corrected by hand.")
    cited, invented, bare = new["keyPoints"]
    assert not cited["unverified"]
    assert cited["evidence"][0]["start"] == transcript["segments"][0]["start"]  # filled in
    assert invented["unverified"]
    assert bare["unverified"]
    # The same If-Match again: another version is current now.
    again = await call(
        "edit_summary", "PUT", "e", route=route, json_body=edited, headers={"If-Match": '"summary-1"'}
    )
    assert again.status == 412
    bad = await call("edit_summary", "PUT", "e", route=route, json_body={**edited, "keyPoints": [{"x": 1}]})
    assert bad.status == 400

    # Regenerating edited work needs force.
    refused = await call("regenerate_summary", "POST", "r", route=route)
    assert refused.status == 409
    assert "force" in refused.json()["detail"]

    approved = await call("approve_summary", "POST", "a", route=route, headers={"If-Match": '"summary-2"'})
    assert approved.status == 200
    assert (approved.json()["approvedBy"], approved.json()["version"]) == ("alice", 3)
    markdown = await call("get_summary", "GET", "s", user="bob", route=route, params={"format": "md"})
    assert "Approved by alice" in markdown.body.decode()

    versions = (await call("list_summary_versions", "GET", "v", user="bob", route=route)).json()["items"]
    assert [(v["version"], v["kind"], v["by"], v["approved"]) for v in versions] == [
        (1, "generated", None, False),
        (2, "edited", "alice", False),
        (3, "approved", "alice", True),
    ]

    forced = await call("regenerate_summary", "POST", "r", route=route, params={"force": "true"})
    assert forced.status == 202
    await _run_jobs(services, "summary_job")
    versions = (await call("list_summary_versions", "GET", "v", route=route)).json()["items"]
    assert [v["kind"] for v in versions] == ["generated", "edited", "approved", "generated"]
    assert (await call("get_summary", "GET", "s", route=route)).json()["approvedBy"] is None


async def test_participants_see_only_approved_summaries_when_so_set(
    call: FunctionCaller, services: Services
) -> None:
    route = await _summarized(call, services)
    services.notes._visibility = "approved"
    try:
        assert (await call("get_summary", "GET", "s", user="bob", route=route)).status == 409
        assert (await call("get_summary", "GET", "s", route=route)).status == 200  # the organizer
        assert (await call("list_summary_versions", "GET", "v", user="bob", route=route)).json()[
            "items"
        ] == []
        await call("approve_summary", "POST", "a", route=route)
        shown = await call("get_summary", "GET", "s", user="bob", route=route)
        assert shown.status == 200
        assert shown.json()["approvedBy"] == "alice"
        body = shown.json()
        await call("edit_summary", "PUT", "e", route=route, json_body={**body, "overview": "Draft again."})
        # The draft stays the organizer's; participants still read the approved version.
        assert (await call("get_summary", "GET", "s", user="bob", route=route)).json()[
            "overview"
        ] != "Draft again."
    finally:
        services.notes._visibility = "drafts"


async def test_naming_a_speaker_renders_the_transcript_and_owners_again(
    call: FunctionCaller, services: Services
) -> None:
    route = await _summarized(call, services)
    summarizer_calls = services.summarizer.calls  # type: ignore[attr-defined]

    async def name(speaker: str, body: dict[str, Any], user: str = "alice") -> Any:
        return await call(
            "name_speaker", "PUT", "n", user=user, route={**route, "speakerId": speaker}, json_body=body
        )

    assert (await name("ch0", {"displayName": "Bobby"}, user="bob")).status == 403
    assert (await name("spk_Z", {"displayName": "Nobody"})).status == 404
    assert (await name("ch0", {})).status == 400
    assert (await name("ch0", {"userId": "bob", "displayName": "Both"})).status == 400
    assert (await name("ch0", {"userId": "stranger"})).status == 400
    named = await name("ch0", {"displayName": "Bobby"})
    assert named.status == 200
    assert named.json()["speakers"][0] == {"id": "ch0", "userId": None, "displayName": "Bobby"}
    txt = (await _transcript(call, route["meetingId"], route["recordingId"], "txt")).body.decode()
    assert "Bobby:" in txt
    summary = (await call("get_summary", "GET", "s", route=route)).json()
    assert summary["actionItems"][0]["owner"] == "Bobby"
    assert services.summarizer.calls == summarizer_calls  # type: ignore[attr-defined]
    versions = (await call("list_summary_versions", "GET", "v", route=route)).json()["items"]
    assert versions[-1]["kind"] == "speakers"
    # A participant by user id: shown by the display name the meeting knows.
    assert (await name("ch1", {"userId": "alice"})).json()["speakers"][1]["userId"] == "alice"
