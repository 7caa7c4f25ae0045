"""The reconciler's timer through the function, on both stores: what events and queues missed is healed,
once, and a pass with nothing to heal changes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from azure.functions.timer import TimerRequest

from shared.bootstrap import Services
from shared.domain.recording_paths import RECORDINGS, TRANSCRIPTION_JOBS
from shared.domain.recordings import JobClaim, Recording, RecordingStatus
from shared.services import recording_state
from tests.conftest import FakeContext, FunctionCaller, registered_functions
from tests.functions.test_recordings_http import _create, _get, _meeting, _renew, _run_jobs

pytestmark = pytest.mark.usefixtures("services")


async def _reconcile(caplog: pytest.LogCaptureFixture) -> str:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shared.services.reconciler"):
        function = registered_functions()["reconcile"].get_user_function()
        await function(TimerRequest(past_due=False), FakeContext("timer"))
    [summary] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconciled:")]
    return summary


async def _change(services: Services, meeting_id: str, recording_id: str, **fields: object) -> None:
    def change(recording: Recording) -> Recording:
        return recording.model_copy(update=fields)

    await recording_state.update(services.store, meeting_id, recording_id, change)


async def _queued(services: Services, queue: str) -> int:
    messages = await services.queues.receive(queue, max_messages=32, visibility_timeout=timedelta(seconds=1))
    for message in messages:
        await services.queues.release(queue, message, delay=timedelta(0))
    return len(messages)


async def test_an_upload_whose_event_was_lost_is_queued_once(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    # The file landed; its BlobCreated event never came (dead-lettered).
    await services.blobs.put(
        RECORDINGS, f"{meeting_id}/{recording_id}/source.wav", b"RIFF", content_type="audio/wav"
    )
    assert (
        await _reconcile(caplog)
        == "reconciled: 1 upload(s) queued, 0 upload(s) expired, 0 job(s) queued again"
    )
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "queued"
    assert "its file was there but no event queued it" in caplog.text
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 0 upload(s) expired, 0 job(s) queued again"
    )
    assert await _queued(services, TRANSCRIPTION_JOBS) == 1


async def test_a_recording_whose_upload_window_passed_fails_and_can_start_over(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    stored = await services.store.get_recording(meeting_id, recording_id)
    assert stored is not None
    assert stored.value.upload_expires_at is not None  # the upload URL's expiry, kept at create
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 0 upload(s) expired, 0 job(s) queued again"
    )

    await _change(
        services, meeting_id, recording_id, upload_expires_at=datetime.now(UTC) - timedelta(minutes=11)
    )
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 1 upload(s) expired, 0 job(s) queued again"
    )
    failed = (await _get(call, meeting_id, recording_id)).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "upload_expired"
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 0 upload(s) expired, 0 job(s) queued again"
    )

    # A fresh URL moves the window on (and a file then starts the failed recording over).
    assert (await _renew(call, meeting_id, recording_id)).status == 200
    renewed = await services.store.get_recording(meeting_id, recording_id)
    assert renewed is not None
    assert renewed.value.upload_expires_at is not None
    assert renewed.value.upload_expires_at > datetime.now(UTC)


async def test_an_upload_just_past_its_window_is_given_grace(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    await _change(
        services, meeting_id, recording_id, upload_expires_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    assert "0 upload(s) expired" in await _reconcile(caplog)
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "awaiting_upload"


async def test_a_job_whose_claim_ran_out_is_queued_again_at_once(
    call: FunctionCaller, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    crashed = JobClaim(
        owner="message-of-a-dead-instance", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    await _change(services, meeting_id, recording_id, status=RecordingStatus.TRANSCRIBING, claim=crashed)
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 0 upload(s) expired, 1 job(s) queued again"
    )
    assert "claim (message-of-a-dead-instance) ran out" in caplog.text
    stored = await services.store.get_recording(meeting_id, recording_id)
    assert stored is not None
    assert stored.value.claim is None
    assert await _queued(services, TRANSCRIPTION_JOBS) == 1
    assert (
        await _reconcile(caplog)
        == "reconciled: 0 upload(s) queued, 0 upload(s) expired, 0 job(s) queued again"
    )

    # A live claim is left alone.
    alive = JobClaim(owner="a-running-job", expires_at=datetime.now(UTC) + timedelta(minutes=1))
    await _change(services, meeting_id, recording_id, claim=alive)
    assert "0 job(s) queued again" in await _reconcile(caplog)
    assert await _run_jobs(services) == 1  # the one queued message: the job takes it up
