"""ACS Call Automation's call recording (azure-communication-callautomation, async client).

Same credentials and error handling as the identity and rooms adapter: a connection string (HMAC) or, in
Azure, `ACS_ENDPOINT` and a managed identity; 429 and 5xx retried with bounded waits (acs_common).
What ACS answers, as the port's errors:

- a second start on a call being recorded: 400 with subcode 8559 (the troubleshooting table's "duplicate
  start recording request") or 8553 ("Duplicate Recording"), or 409 (8519/8571, conflicting operations)
  -> CallRecordingConflict;
- an unknown recording or call: 404 (8522) -> CallRecordingNotFound; stop of one ACS no longer knows is
  taken as already stopped;
- any other 4xx -> CommunicationRejected (e.g. a content/channels/format combination ACS does not
  record: the port's RECORDING_FORMATS are the caller's to respect, this adapter sends what it is given).

Downloads go through the SDK client's own pipeline (credentials, transport) to the locations ACS puts in
its RecordingFileStatusUpdated event, and only to hosts ACS serves recordings from, plus the resource's
own endpoint: the request carries the resource's credentials, so a forged event must not be able to point
it anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from shared.adapters.acs_common import Refusal, Sleep, acs_client, acs_endpoint, call_acs, rejected
from shared.adapters.acs_events import WIRE_CONTENT
from shared.ports import (
    CallLocator,
    CallRecordingConflict,
    CallRecordingNotFound,
    CallRecordingState,
    CommunicationError,
    CommunicationRejected,
    CommunicationUnavailable,
    RecordingRequest,
)

if TYPE_CHECKING:
    from azure.communication.callautomation import CallConnectionProperties, RecordingProperties
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.core.rest import AsyncHttpResponse

log = logging.getLogger(__name__)
T = TypeVar("T")

# The wire version, pinned as a plain string: 1.6.0's default, the one the contract tests' server speaks.
CALL_AUTOMATION_API_VERSION = "2026-03-12"
# Where ACS keeps recordings: the SDK's own allowlist (recording_url_validator.ALLOWED_HOST_SUFFIXES),
# which its download_recording enforces but which cannot be pointed at a test server.
RECORDING_HOST_SUFFIXES = (".asm.skype.com", ".asyncgw.teams.microsoft.com", ".ams.gov.teams.microsoft.us")
# Call Automation subcodes that say "this call is already being recorded" or "not in this state".
_CONFLICT_SUBCODES = frozenset({"8553", "8559", "8571", "8519"})
_BLOCK_SIZE = 64 * 1024  # what the transport reads at a time; chunks handed out are `chunk_size`
_DOWNLOAD_RESUMES = 3  # a connection cut mid-file resumes from the byte it stopped at, this many times


class AcsCallRecorder:
    def __init__(
        self,
        *,
        endpoint: str | None = None,
        connection_string: str | None = None,
        credential: AsyncTokenCredential | None = None,
        recording_hosts: Sequence[str] = RECORDING_HOST_SUFFIXES,
        sleep: Sleep = asyncio.sleep,
        **client_options: Any,
    ) -> None:
        """`recording_hosts`: hosts downloads may go to besides the resource's (".suffix" or an exact
        host name), always over HTTPS. `client_options` go to the SDK client (e.g. `connection_verify`)."""
        self._endpoint = acs_endpoint(endpoint, connection_string, credential)
        self._connection_string = connection_string
        self._credential = credential
        self._recording_hosts = tuple(host.lower() for host in recording_hosts)
        self._sleep = sleep
        # Connection errors keep azure-core's retries; HTTP status retries are ours (bounded waits).
        self._options = {"retry_status": 0, "connection_data_block_size": _BLOCK_SIZE, **client_options}
        self._client: CallAutomationClient | None = None

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def _automation(self) -> CallAutomationClient:
        if self._client is None:
            from azure.communication.callautomation.aio import CallAutomationClient  # noqa: PLC0415

            self._client = acs_client(
                CallAutomationClient,
                endpoint=self._endpoint,
                connection_string=self._connection_string,
                credential=self._credential,
                api_version=CALL_AUTOMATION_API_VERSION,
                **self._options,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._credential is not None:
            await self._credential.close()

    # --- recording -----------------------------------------------------------------------------------

    async def start_recording(self, call: CallLocator, request: RecordingRequest) -> str:
        client = self._automation()
        # One repeatability id for all our attempts: a start that went through before its answer was lost
        # is answered again rather than refused as a duplicate recording.
        headers = {
            "Repeatability-Request-ID": str(uuid.uuid4()),
            "Repeatability-First-Sent": format_datetime(datetime.now(UTC), usegmt=True),
        }
        options: dict[str, Any] = {
            "recording_content_type": WIRE_CONTENT[request.content],
            "recording_channel_type": request.channels,
            "recording_format_type": request.format,
        }

        def start() -> Awaitable[RecordingProperties]:
            if call.kind == "room":
                return client.start_recording(room_id=call.id, headers=dict(headers), **options)
            return client.start_recording(server_call_id=call.id, headers=dict(headers), **options)

        started = await self._call("start recording", start)
        if not started.recording_id:
            raise CommunicationRejected("ACS started a recording but gave no recording id")
        return str(started.recording_id)

    async def pause_recording(self, recording_id: str) -> None:
        client = self._automation()
        await self._call("pause recording", lambda: client.pause_recording(recording_id))

    async def resume_recording(self, recording_id: str) -> None:
        client = self._automation()
        await self._call("resume recording", lambda: client.resume_recording(recording_id))

    async def stop_recording(self, recording_id: str) -> None:
        client = self._automation()
        with contextlib.suppress(CallRecordingNotFound):  # ended (or forgotten) already: what we wanted
            await self._call("stop recording", lambda: client.stop_recording(recording_id))

    async def recording_state(self, recording_id: str) -> CallRecordingState:
        client = self._automation()
        properties = await self._call(
            "read recording state", lambda: client.get_recording_properties(recording_id)
        )
        # ACS knows "active" and "inactive" (paused, or ended); the SDK hands either its enum or the text.
        state = getattr(properties.recording_state, "value", properties.recording_state)
        return "active" if str(state).lower() == "active" else "inactive"

    # --- real-time transcription (live captions) --------------------------------------------------------

    async def start_transcription(
        self, call: CallLocator, transport_url: str, locale: str, *, callback_url: str
    ) -> str:
        from azure.communication.callautomation import TranscriptionOptions  # noqa: PLC0415

        client = self._automation()
        options = TranscriptionOptions(
            transport_url=transport_url,
            transport_type="websocket",
            locale=locale,
            start_transcription=True,
            enable_intermediate_results=True,
        )
        headers = {
            "Repeatability-Request-ID": str(uuid.uuid4()),
            "Repeatability-First-Sent": format_datetime(datetime.now(UTC), usegmt=True),
        }

        def connect() -> Awaitable[CallConnectionProperties]:
            if call.kind == "room":
                return client.connect_call(
                    callback_url, room_id=call.id, transcription=options, headers=dict(headers)
                )
            return client.connect_call(
                callback_url, server_call_id=call.id, transcription=options, headers=dict(headers)
            )

        connected = await self._call("connect to the call with transcription", connect)
        if not connected.call_connection_id:
            raise CommunicationRejected("ACS connected to the call but gave no call connection id")
        return str(connected.call_connection_id)

    async def stop_transcription(self, call_connection_id: str) -> None:
        connection = self._automation().get_call_connection(call_connection_id)
        with contextlib.suppress(CallRecordingNotFound):  # the call ended: nothing transcribes any more
            await self._call("stop the transcription", connection.stop_transcription)
        with contextlib.suppress(CallRecordingNotFound):
            await self._call("leave the call", lambda: connection.hang_up(is_for_everyone=False))

    # --- download ------------------------------------------------------------------------------------

    async def download(self, location: str, *, chunk_size: int = 4 * 1024 * 1024) -> AsyncIterator[bytes]:
        """The file in chunks of exactly `chunk_size` (the last one shorter): at most about a chunk and a
        transport block in memory. A connection cut mid-file resumes with a Range request."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        host = self._allowed_host(location)
        buffer = bytearray()
        received = 0  # bytes of the file seen so far: where a resumed request starts
        for resume in range(_DOWNLOAD_RESUMES + 1):
            response = await self._call(
                "download recording",
                functools.partial(self._open, location, host, received),
                refusal=_download_refusal,
            )
            try:
                async for block in response.iter_bytes():
                    received += len(block)
                    buffer += block
                    while len(buffer) >= chunk_size:
                        yield bytes(buffer[:chunk_size])
                        del buffer[:chunk_size]
                break
            except _mid_stream_errors() as exc:
                if resume == _DOWNLOAD_RESUMES:
                    raise CommunicationUnavailable(
                        f"the recording download kept breaking off: {exc}"
                    ) from exc
                log.warning("recording download broke off at byte %d; resuming", received)
            finally:
                await response.close()
        if buffer:
            yield bytes(buffer)

    async def _open(self, location: str, host: str, offset: int) -> AsyncHttpResponse:
        """One GET as the SDK's download_recording builds it (x-ms-host names the resource, whose
        credentials sign the request), through the client's pipeline, with the body left streaming."""
        from azure.core.exceptions import HttpResponseError  # noqa: PLC0415
        from azure.core.rest import HttpRequest  # noqa: PLC0415

        headers = {"x-ms-host": host, "Accept": "application/octet-stream"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        # The SDK's download_recording refuses any host outside its hard-coded list (and so any test
        # server); `_client` is its generated client, whose send_request is the generated code's public
        # way to send a request through the client's policies.
        pipeline = self._automation()._client
        response = await pipeline.send_request(HttpRequest("GET", location, headers=headers), stream=True)
        expected = 206 if offset else 200
        if response.status_code != expected:
            await response.read()  # small: an error body, or a server that ignored our Range
            await response.close()
            if response.status_code in (200, 206):
                raise CommunicationRejected(f"ACS answered {response.status_code} to a ranged download")
            raise HttpResponseError(response=response)
        return response

    def _allowed_host(self, location: str) -> str:
        """The resource's host (for x-ms-host) if `location` may be fetched with its credentials."""
        resource = urlsplit(self._endpoint)
        try:
            target = urlsplit(location)
            target_port = target.port
        except ValueError:
            raise CommunicationRejected(f"not a recording location: {location!r}") from None
        hostname = (target.hostname or "").lower()
        own = hostname == (resource.hostname or "").lower() and target_port == resource.port
        listed = any(
            hostname.endswith(entry) if entry.startswith(".") else hostname == entry
            for entry in self._recording_hosts
        )
        if target.scheme != "https" or target.username or target.password or not (own or listed):
            log.error(
                "refused to download a recording from %r: not a host ACS serves recordings from", location
            )
            raise CommunicationRejected(f"not an ACS recording location: {location!r}")
        return resource.netloc

    # --- errors ----------------------------------------------------------------------------------------

    async def _call(
        self, what: str, request: Callable[[], Awaitable[T]], refusal: Refusal | None = None
    ) -> T:
        return await call_acs(what, request, sleep=self._sleep, refusal=refusal or _recording_refusal(what))


def _recording_refusal(what: str) -> Refusal:
    otherwise = rejected(what)

    def refusal(status: int, code: str) -> CommunicationError:
        if status == 404:
            return CallRecordingNotFound(f"ACS could not {what}: no such recording or call ({code})")
        if status == 409 or code in _CONFLICT_SUBCODES:
            return CallRecordingConflict(f"ACS refused to {what}: {status} {code}")
        return otherwise(status, code)

    return refusal


def _download_refusal(status: int, code: str) -> CommunicationError:
    if status == 404:
        return CallRecordingNotFound(f"the recording file is gone ({code or 'not found'})")
    return CommunicationRejected(f"ACS refused the recording download ({status} {code})")


def _mid_stream_errors() -> tuple[type[Exception], ...]:
    from azure.core.exceptions import (  # noqa: PLC0415
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    return (IncompleteReadError, ServiceResponseError, ServiceRequestError)
