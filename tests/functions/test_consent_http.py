"""Recording consent, through the functions on both stores: the join answer carries the notice, each
participant's answer is kept, call recording starts only with the policy met (409 `consent_missing`), and
an unmixed recording's transcript leaves out the channels of those who declined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.bootstrap import Services
from shared.domain.models import RECORDING_NOTICE
from tests import audio
from tests.conftest import FunctionCaller
from tests.fakes import FakeTranscriber
from tests.functions.test_call_recording_http import _act
from tests.functions.test_recordings_http import _create, _run_jobs, _transcript, _upload

pytestmark = pytest.mark.usefixtures("services")


async def _meeting(call: FunctionCaller, **fields: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {
        "title": "Hiring panel",
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(),
        "participants": [
            {"userId": "bob", "role": "attendee"},
            {"userId": "pat", "role": "presenter"},
            {"userId": "viv", "role": "consumer"},
        ],
        **fields,
    }
    reply = await call("create_meeting", "POST", "meetings", json_body=body)
    assert reply.status == 201, reply.body
    meeting: dict[str, Any] = reply.json()
    return meeting


async def _consent(call: FunctionCaller, meeting_id: str, user: str, accepted: Any) -> Any:
    route = {"meetingId": meeting_id}
    return await call(
        "recording_consent", "POST", "c", user=user, route=route, json_body={"accepted": accepted}
    )


async def test_recording_waits_for_every_voice_to_accept(call: FunctionCaller) -> None:
    meeting = await _meeting(call, recordingPolicy="consent")
    assert meeting["recordingPolicy"] == "consent"
    assert "consents" not in meeting
    joined = await call("join_meeting", "POST", "j", user="bob", route={"meetingId": meeting["id"]})
    assert joined.json()["consent"] == {"required": True, "notice": RECORDING_NOTICE, "accepted": None}

    refused = await _act(call, meeting["id"], "start")
    assert refused.status == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "consent_missing"
    assert "3 presenter(s) or attendee(s)" in refused.json()["detail"]

    assert (await _consent(call, meeting["id"], "alice", True)).json()["accepted"] is True
    assert (await _consent(call, meeting["id"], "bob", True)).status == 200
    declined = await _consent(call, meeting["id"], "pat", False)
    assert declined.json() == {"required": True, "notice": RECORDING_NOTICE, "accepted": False}
    assert (await _act(call, meeting["id"], "start")).json()["code"] == "consent_missing"
    again = await call("join_meeting", "POST", "j", user="pat", route={"meetingId": meeting["id"]})
    assert again.json()["consent"]["accepted"] is False

    # The consumer (who only watches) need not answer; pat changes their mind.
    assert (await _consent(call, meeting["id"], "pat", True)).status == 200
    started = await _act(call, meeting["id"], "start")
    assert started.status == 202, started.body


async def test_without_a_policy_nothing_is_asked_and_answers_are_checked(call: FunctionCaller) -> None:
    meeting = await _meeting(call)
    assert meeting["recordingPolicy"] == "none"
    joined = await call("join_meeting", "POST", "j", user="bob", route={"meetingId": meeting["id"]})
    assert joined.json()["consent"] == {"required": False, "notice": None, "accepted": None}
    assert (await _consent(call, meeting["id"], "bob", "yes")).status == 400
    assert (await _consent(call, meeting["id"], "stranger", True)).status == 404
    bad = await _meeting(call, recordingPolicy="consent")
    patched = await call(
        "update_meeting",
        "PATCH",
        "m",
        route={"meetingId": bad["id"]},
        json_body={"recordingPolicy": "sometimes"},
    )
    assert patched.status == 400
    # The organizer sets a policy later: from then on, recording waits for consent.
    route = {"meetingId": meeting["id"]}
    patched = await call(
        "update_meeting", "PATCH", "m", route=route, json_body={"recordingPolicy": "consent"}
    )
    assert patched.json()["recordingPolicy"] == "consent"
    assert (await _act(call, meeting["id"], "start")).json()["code"] == "consent_missing"


async def test_the_channel_of_who_declined_is_left_out_of_the_transcript(
    call: FunctionCaller, services: Services
) -> None:
    meeting = await _meeting(call, recordingPolicy="consent")
    await _consent(call, meeting["id"], "bob", True)
    await _consent(call, meeting["id"], "pat", False)
    channels = [{"channel": 0, "userId": "bob"}, {"channel": 1, "userId": "pat"}]
    left = audio.pcm([("tone", 1.0), ("silence", 3.0)])
    right = audio.pcm([("silence", 2.0), ("noise", 1.0), ("silence", 1.0)])
    stereo = audio.wav([left, right])
    recording_id = (await _create(call, meeting["id"], channels=channels, sizeBytes=len(stereo))).json()["id"]
    await _upload(services, meeting["id"], recording_id, stereo)
    await _run_jobs(services, "transcription_job")
    transcript = (await _transcript(call, meeting["id"], recording_id, "json")).json()
    assert [s["speaker"] for s in transcript["segments"]] == ["ch0"]  # pat's channel: not there
    assert isinstance(services.transcriber, FakeTranscriber)
    assert len(services.transcriber.calls) == 1  # and never sent to the provider
