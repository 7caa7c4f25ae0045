"""The operators' routes through the functions, on both stores: failed and stuck recordings across
meetings, a page at a time, and a retry that starts each kind again; 403 for everyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.bootstrap import Services
from shared.config import Settings
from shared.domain.recording_paths import RECORDINGS, SUMMARY_JOBS, TRANSCRIPTION_JOBS
from shared.domain.recordings import JobClaim, RecordingError, RecordingStatus
from tests.conftest import FunctionCaller, registered_functions
from tests.functions.test_recordings_http import (
    WAV,
    _create,
    _get,
    _meeting,
    _run_jobs,
    _run_pipeline,
    _upload,
)

pytestmark = pytest.mark.usefixtures("services")

OPERATOR = "olga"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_users=f" {OPERATOR} , ops2")


async def _list(call: FunctionCaller, user: str | None = OPERATOR, **params: str) -> Any:
    return await call("operator_recordings", "GET", "operations/recordings", user=user, params=params)


async def _retry(call: FunctionCaller, meeting_id: str, recording_id: str, user: str = OPERATOR) -> Any:
    route = {"meetingId": meeting_id, "recordingId": recording_id}
    path = f"operations/recordings/{meeting_id}/{recording_id}/retry"
    return await call("operator_retry", "POST", path, user=user, route=route)


async def _set(services: Services, meeting_id: str, recording_id: str, **fields: Any) -> None:
    """Writes the recording as a past state would have left it (updatedAt included, unlike the app)."""
    stored = await services.store.get_recording(meeting_id, recording_id)
    assert stored is not None
    await services.store.replace_recording(stored.value.model_copy(update=fields), stored.etag)


async def _completed(call: FunctionCaller, services: Services, meeting_id: str) -> str:
    recording_id = str((await _create(call, meeting_id)).json()["id"])
    await _upload(services, meeting_id, recording_id, WAV)
    await _run_pipeline(services)
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "completed"
    return recording_id


async def _queued(services: Services, queue: str) -> int:
    messages = await services.queues.receive(queue, max_messages=32, visibility_timeout=timedelta(seconds=1))
    for message in messages:
        await services.queues.release(queue, message, delay=timedelta(0))
    return len(messages)


async def test_only_operators_may_list_or_retry(call: FunctionCaller) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    for reply in (
        await _list(call, user="alice"),
        await _retry(call, meeting_id, recording_id, user="alice"),
    ):
        assert reply.status == 403
        assert reply.headers["content-type"] == "application/problem+json"
        assert "Operator" in reply.json()["detail"]
    assert (await _list(call, user=None)).status == 401
    assert (await _list(call, user="ops2")).status == 200


async def test_failed_recordings_across_meetings_come_with_their_error_a_page_at_a_time(
    call: FunctionCaller, services: Services
) -> None:
    first, second = await _meeting(call), await _meeting(call)
    broken = (await _create(call, first, sizeBytes=700)).json()["id"]
    await _upload(services, first, broken, b"not a recording, only text. " * 25)
    await _run_jobs(services)
    expired = (await _create(call, second)).json()["id"]
    await _set(
        services,
        second,
        expired,
        status=RecordingStatus.FAILED,
        error=RecordingError(code="upload_expired", detail="no file was uploaded"),
        updated_at=datetime.now(UTC) + timedelta(seconds=5),
    )
    await _completed(call, services, second)

    reply = await _list(call, status="failed")
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["continuationToken"] is None
    assert [(i["meetingId"], i["id"]) for i in body["items"]] == [(first, broken), (second, expired)]
    assert body["items"][0]["error"]["code"] == "media_not_audio"
    assert body["items"][0]["attempts"] == 1
    assert body["items"][1]["error"] == {"code": "upload_expired", "detail": "no file was uploaded"}
    assert reply.headers["cache-control"] == "no-store"

    page = await _list(call, status="failed", limit="1")
    assert [i["id"] for i in page.json()["items"]] == [broken]
    token = page.json()["continuationToken"]
    assert isinstance(token, str)
    rest = await _list(call, status="failed", limit="1", continuationToken=token)
    assert [i["id"] for i in rest.json()["items"]] == [expired]
    last = await _list(call, status="failed", limit="1", continuationToken=rest.json()["continuationToken"])
    assert last.json() == {"items": [], "continuationToken": None}

    for params in (
        {"continuationToken": token + "x"},
        {"status": "stuck", "continuationToken": token},  # another listing's token
        {"status": "lost"},
        {"limit": "0"},
    ):
        bad = await _list(call, **params)
        assert bad.status == 400, params
        assert bad.headers["content-type"] == "application/problem+json"


async def test_stuck_means_in_a_jobs_status_and_unchanged_for_half_an_hour(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    stuck = {}
    for status in (RecordingStatus.SUMMARIZING, RecordingStatus.QUEUED, RecordingStatus.TRANSCRIBING):
        recording_id = (await _create(call, meeting_id)).json()["id"]
        await _set(services, meeting_id, recording_id, status=status, updated_at=long_ago)
        stuck[status] = recording_id
    moving = (await _create(call, meeting_id)).json()["id"]
    await _set(
        services, meeting_id, moving, status=RecordingStatus.TRANSCRIBING, updated_at=datetime.now(UTC)
    )
    await _create(call, meeting_id)  # awaiting its upload: the reconciler's business, not stuck

    items = (await _list(call, status="stuck")).json()["items"]
    # By status (queued, transcribing, summarizing), then oldest update first.
    assert [i["id"] for i in items] == [
        stuck[RecordingStatus.QUEUED],
        stuck[RecordingStatus.TRANSCRIBING],
        stuck[RecordingStatus.SUMMARIZING],
    ]
    seen: list[str] = []
    token: str | None = None
    for _ in range(6):
        params = {"status": "stuck", "limit": "1"} | ({"continuationToken": token} if token else {})
        page = (await _list(call, **params)).json()
        seen += [i["id"] for i in page["items"]]
        token = page["continuationToken"]
        if token is None:
            break
    assert seen == [i["id"] for i in items]


async def test_a_failed_transcription_is_transcribed_again_from_its_file(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    await services.blobs.put(
        RECORDINGS, f"{meeting_id}/{recording_id}/source.wav", WAV, content_type="audio/wav"
    )
    error = RecordingError(code="transcription_failed", detail="transcript failed after 5 attempts")
    await _set(services, meeting_id, recording_id, status=RecordingStatus.FAILED, error=error, attempts=5)

    reply = await _retry(call, meeting_id, recording_id)
    assert reply.status == 202, reply.body
    assert (reply.json()["status"], reply.json()["error"]) == ("queued", None)
    assert await _queued(services, TRANSCRIPTION_JOBS) == 1
    await _run_pipeline(services)
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "completed"
    assert (await _list(call, status="failed")).json()["items"] == []


async def test_a_failed_summary_is_summarized_again_and_a_file_gone_is_a_conflict(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    recording_id = await _completed(call, services, meeting_id)
    error = RecordingError(code="summary_failed", detail="the model was down")
    await _set(services, meeting_id, recording_id, status=RecordingStatus.FAILED, error=error)
    reply = await _retry(call, meeting_id, recording_id)
    assert reply.status == 202, reply.body
    assert reply.json()["status"] == "summarizing"
    assert await _run_jobs(services, "summary_job") == 1
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "completed"

    again = await _retry(call, meeting_id, recording_id)
    assert again.status == 409
    assert "completed: there is nothing to retry" in again.json()["detail"]

    never_uploaded = (await _create(call, meeting_id)).json()["id"]
    expired = RecordingError(code="upload_expired", detail="no file")
    await _set(services, meeting_id, never_uploaded, status=RecordingStatus.FAILED, error=expired)
    gone = await _retry(call, meeting_id, never_uploaded)
    assert gone.status == 409
    assert "uploaded again" in gone.json()["detail"]
    assert (await _retry(call, meeting_id, "no-such-recording")).status == 404


async def test_stuck_work_has_its_job_queued_again_unless_a_job_holds_it(
    call: FunctionCaller, services: Services
) -> None:
    meeting_id = await _meeting(call)
    recording_id = (await _create(call, meeting_id)).json()["id"]
    await _upload(services, meeting_id, recording_id, WAV)
    # The transcription message was lost: the recording sits queued.
    assert await _queued(services, TRANSCRIPTION_JOBS) == 1
    for message in await services.queues.receive(
        TRANSCRIPTION_JOBS, max_messages=8, visibility_timeout=timedelta(minutes=1)
    ):
        await services.queues.delete(TRANSCRIPTION_JOBS, message)
    await _set(services, meeting_id, recording_id, updated_at=datetime.now(UTC) - timedelta(hours=1))

    reply = await _retry(call, meeting_id, recording_id)
    assert reply.status == 202, reply.body
    assert await _queued(services, TRANSCRIPTION_JOBS) == 1
    await _run_jobs(services)
    assert (await _get(call, meeting_id, recording_id)).json()["status"] == "summarizing"
    for message in await services.queues.receive(
        SUMMARY_JOBS, max_messages=8, visibility_timeout=timedelta(minutes=1)
    ):
        await services.queues.delete(SUMMARY_JOBS, message)

    live = JobClaim(owner="msg-running", expires_at=datetime.now(UTC) + timedelta(minutes=2))
    await _set(services, meeting_id, recording_id, claim=live)
    busy = await _retry(call, meeting_id, recording_id)
    assert busy.status == 409
    assert "a job is working on the recording" in busy.json()["detail"]
    assert await _queued(services, SUMMARY_JOBS) == 0

    dead = JobClaim(owner="msg-crashed", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    await _set(services, meeting_id, recording_id, claim=dead)
    assert (await _retry(call, meeting_id, recording_id)).status == 202
    assert await _queued(services, SUMMARY_JOBS) == 1
    stored = await services.store.get_recording(meeting_id, recording_id)
    assert stored is not None
    assert stored.value.claim is None


def test_no_function_claims_a_route_or_name_the_functions_host_reserves() -> None:
    # The host refuses to load a function whose route (or name) begins with `admin` or `runtime`.
    for name, function in registered_functions().items():
        assert not name.lower().startswith(("admin", "runtime")), name
        for binding in function.get_bindings():
            route = binding.get_dict_repr().get("route") or ""
            assert not route.lower().startswith(("admin", "runtime")), (name, route)


def test_admin_users_count_only_in_dev_mode(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, admin_users="a,b").operators == frozenset({"a", "b"})
    assert Settings(data_dir=tmp_path, auth_mode="easyauth", admin_users="a").operators == frozenset()
