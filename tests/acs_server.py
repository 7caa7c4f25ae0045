"""A local stand-in for the Azure Communication Services Identity, Rooms and call recording REST APIs.

It speaks the wire protocol that the Python SDKs send (azure-communication-identity 1.5.0 at api-version
2023-10-01, azure-communication-rooms 1.2.0 at api-version 2025-03-13, azure-communication-callautomation
1.6.0's call recording at api-version 2026-03-12, and the recording storage's downloads), so an adapter
built on the SDKs' async clients can be contract-tested without Azure:

    async with AcsServer(access_key=key) as acs:
        kwargs = acs.client_kwargs
        identity = CommunicationIdentityClient.from_connection_string(acs.connection_string, **kwargs)
        rooms = RoomsClient.from_connection_string(acs.connection_string, **kwargs)

The server is HTTPS (a throwaway CA and server certificate made at start-up), because the SDKs refuse bearer
tokens over plain HTTP. `client_kwargs` is `{"connection_verify": <CA file>}`: azure-core hands it to its
aiohttp transport, which then trusts that CA (verification stays on). Plain aiohttp clients can use
`client_ssl_context` instead.

What is modelled on the real service, and where from:
- HMAC-SHA256 request signing as `azure.communication.*._shared.policy.HMACCredentialsPolicy` does it
  (string-to-sign `VERB\\npath?query\\nx-ms-date;host;x-ms-content-sha256`), checked against the Host header
  the client actually sent, as ACS does; a wrong key, stale date or changed body is 401 `Denied`.
- Paths, status codes, field names and error bodies from the SDKs' generated operations, the REST specs and
  the SDK test recordings of the live service (e.g. 404 `NotFound` "The server cannot find the requested
  resource.", 400 `BadRequest` with `BadArgument` details for room windows, 400 `ValidationError` for token
  lifetimes). Error codes the recordings do not show (unknown identity, unsupported api-version, throttling)
  follow the same shape with plausible codes.

Call recording (`/calling/recordings`), as modelled here, from the SDK's generated operations (paths, status
codes, bodies), the Event Grid and recording docs (event, metadata, storage URLs) and the Call Automation
troubleshooting codes (subcodes; the docs do not show every answer, the rest is a plausible guess):
- a start names the call by `callLocator` (`serverCallLocator`/`roomCallLocator`/`groupCallLocator`); any
  call is taken to be live until `end_call` hangs it up (then 404, subcode 8522). Errors carry Call
  Automation's numeric subcode as `error.code` (`{"error": {"code": "8522", ...}}`), as the live service
  does. A second start on a call being recorded is 400 with 8559, the troubleshooting table's "duplicate
  start recording request, recording already initiated or in progress"; a combination of content, channels
  and format ACS does not record is 400 with 8557 ("Wrong Format Type"); a replayed
  Repeatability-Request-ID answers the first start again.
- pause and resume are 202, and a no-op when already so; once stopped, both are 409 (8571, "Recording
  Operation Conflict"). Stop is 204; a second stop is 404 (the session is over) while the state still reads
  `inactive` (paused recordings read `inactive` too: ACS has only `active` and `inactive`).
- what a recording "captured" is a test's to say (`set_recording_file`); once it is stopped, its chunks are
  served at `https://{storage_host}:{port}/v1/objects/{documentId}/content/{audio|video|acsmetadata}` (Range
  supported) and `recording_event` builds the RecordingFileStatusUpdated event for them
  (shared/adapters/acs_events.py). Downloads are signed with the resource's key over the resource's host,
  named by `x-ms-host`, as the SDK signs them for ACS's storage hosts; `expire_recording_files` makes
  them 404 as ACS does after 48 hours.
- faults: `throttle` (429), `fail` (500 or another status), `lose_answers` (done, then answered 500) and
  `cut_downloads` (the connection closed partway through a file).

SDK behaviour a client of this server (and of Azure) has to cope with, pinned in
tests/contract/test_acs_server.py:
- `CommunicationIdentityClient(endpoint, key)` signs the endpoint's host verbatim, so an endpoint with a
  trailing slash is refused; the connection-string constructor strips it.
- rooms 1.2.0 sends `api-version=ApiVersion.V2025_03_13` when it follows a `nextLink`, unless the client was
  built with `api_version="2025-03-13"` as a plain string; the strict version check here refuses it.
- Both SDKs hand times back as the wire strings (`AccessToken.expires_on`, `CommunicationRoom.valid_from`...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import ssl
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, cast

from aiohttp import web
from aiohttp.typedefs import Handler

from shared.adapters.acs_events import (
    RecordedCall,
    RecordedChunk,
    chunk_durations,
    recording_file_event,
    recording_metadata,
    split_recording,
)
from shared.ports import RECORDING_FORMATS, RecordingRequest
from tests.https_site import HttpsSite

IDENTITY_API_VERSION = "2023-10-01"
ROOMS_API_VERSION = "2025-03-13"
CALL_AUTOMATION_API_VERSION = "2026-03-12"

TOKEN_SCOPES = frozenset({"chat", "voip", "chat.join", "chat.join.limited", "voip.join"})
ROLES = ("Presenter", "Attendee", "Consumer", "Collaborator")
# The token lifetime window and its default, as the Identity API documents and enforces them.
MIN_TOKEN_MINUTES, MAX_TOKEN_MINUTES, DEFAULT_TOKEN_MINUTES = 60, 1440, 1440
# A room may be open for at most 180 days, and may not open more than 180 days from now.
MAX_ROOM_SPAN = timedelta(days=180)
# Raw ids of Communication Services users (public and sovereign clouds) - the only members a room takes here.
_ACS_USER_PREFIXES = ("8:acs:", "8:spool:", "8:dod-acs:", "8:gcch-acs:")

AuthKind = Literal["hmac", "bearer", "none", "unknown"]
JsonObject = dict[str, Any]

_DENIED = "Denied by the resource provider."
_MALFORMED = "The request could not be understood by the server due to malformed syntax."
_NOT_FOUND = "The server cannot find the requested resource."
# Call Automation's locator kinds and the body field naming each one's call.
_LOCATOR_FIELDS = {
    "serverCallLocator": "serverCallId",
    "roomCallLocator": "roomId",
    "groupCallLocator": "groupCallId",
}
_CONTENT_TO_PORT: dict[str, Any] = {"audio": "audio", "audioVideo": "audio-video"}


class RecordedRequest(NamedTuple):
    """One request as the server saw it: `path` is percent-decoded and without the query."""

    method: str
    path: str
    api_version: str | None
    auth: AuthKind


@dataclass
class IssuedToken:
    token: str
    scopes: tuple[str, ...]
    expires_on: datetime
    revoked: bool = False


@dataclass
class Identity:
    id: str
    created_at: datetime
    tokens: list[IssuedToken] = field(default_factory=list)
    revocations: int = 0


@dataclass
class Room:
    id: str
    created_at: datetime
    valid_from: datetime
    valid_until: datetime
    pstn_dial_out_enabled: bool
    # raw id -> role, in the order members were first added (the order the list call pages through).
    participants: dict[str, str] = field(default_factory=dict)


@dataclass
class CallRecordingSession:
    """One recording of a call: its request, its state and, once stopped, the files it produced."""

    id: str
    locator: tuple[str, str]  # (kind, id) as the start named the call
    request: RecordingRequest
    call_id: str
    server_call_id: str
    started_at: datetime
    state: Literal["active", "paused", "stopped"] = "active"
    stopped_at: datetime | None = None
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    session_end_reason: str = "CallEnded"
    # What a test says the recording captured (set_recording_file), and the chunks made of it on delivery.
    data: bytes | None = None
    participants: tuple[tuple[str, int], ...] = ()
    chunk_bytes: int | None = None
    chunks: list[RecordedChunk] = field(default_factory=list)
    event: JsonObject | None = None

    def duration_ms(self) -> int:
        end = self.stopped_at or datetime.now(UTC)
        paused = sum(((until or end) - since for since, until in self.pauses), timedelta())
        return max(0, int((end - self.started_at - paused).total_seconds() * 1000))


@dataclass
class StoredDocument:
    """One chunk file in the recording storage (`/v1/objects/{id}`): its content and its metadata."""

    recording_id: str
    content_kind: Literal["audio", "video"]
    content: bytes
    metadata: bytes
    expired: bool = False


@dataclass
class AcsState:
    """Everything the server holds; tests read it to see what an adapter really did."""

    resource_id: str
    identities: dict[str, Identity] = field(default_factory=dict)
    deleted_identities: set[str] = field(default_factory=set)
    identity_creations: int = 0
    rooms: dict[str, Room] = field(default_factory=dict)
    deleted_rooms: set[str] = field(default_factory=set)
    # Repeatability-Request-ID -> room id, so a retried create returns the first room instead of a second.
    room_requests: dict[str, str] = field(default_factory=dict)
    recordings: dict[str, CallRecordingSession] = field(default_factory=dict)
    # Repeatability-Request-ID -> recording id: a retried start answers the first start again.
    recording_requests: dict[str, str] = field(default_factory=dict)
    recording_starts: int = 0
    ended_calls: set[tuple[str, str]] = field(default_factory=set)
    # Call Automation's connections to calls (connect with transcription): id -> what it was asked.
    connections: dict[str, JsonObject] = field(default_factory=dict)
    connection_requests: dict[str, str] = field(default_factory=dict)
    documents: dict[str, StoredDocument] = field(default_factory=dict)

    def identity(self, identity_id: str) -> Identity:
        return self.identities[identity_id]

    def revocations(self, identity_id: str) -> int:
        return self.identities[identity_id].revocations

    def room(self, room_id: str) -> Room:
        return self.rooms[room_id]

    def participants(self, room_id: str) -> dict[str, str]:
        return dict(self.rooms[room_id].participants)

    def recording(self, recording_id: str) -> CallRecordingSession:
        return self.recordings[recording_id]


class _AcsError(Exception):
    """An error answer in the service's shape: `{"error": {"code", "message", "target"?, "details"?}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[JsonObject] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        error: JsonObject = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        return web.json_response(
            {"error": error}, status=self.status, headers={"x-ms-error-code": self.code, **self.headers}
        )


def _bad_argument(message: str, target: str) -> _AcsError:
    """The Rooms API's 400: a generic BadRequest whose details name the argument at fault."""
    detail = {"code": "BadArgument", "message": message, "target": target}
    return _AcsError(400, "BadRequest", _MALFORMED, details=[detail])


def _validation_error(message: str, target: str) -> _AcsError:
    """The Identity API's 400."""
    return _AcsError(400, "ValidationError", message, target=target)


def _not_found() -> _AcsError:
    return _AcsError(404, "NotFound", _NOT_FOUND)


def _wire_time(moment: datetime) -> str:
    """RFC 3339 the way the service writes it: seven fractional digits and an explicit +00:00 offset."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0+00:00"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AcsServer:
    """ACS Identity + Rooms + call recording on 127.0.0.1, over HTTPS, with state and test hooks.

    - `access_key`: the base64 key requests must be signed with (a random one if omitted).
    - `accept_bearer`: also accept `Authorization: Bearer <anything>` (managed-identity mode); every bearer
      token seen is kept in `bearer_tokens`.
    - `page_size`: items per page of the list calls, small values exercise the SDKs' `nextLink` paging.
    - `max_clock_skew`: how far `x-ms-date` may be from the server's clock.
    - `storage_host`: the host name recording files are served under (`localhost` models ACS's storage
      hosts, which are not the resource's); by default the resource's own host, 127.0.0.1.
    """

    def __init__(
        self,
        access_key: str | None = None,
        *,
        accept_bearer: bool = False,
        page_size: int = 100,
        max_clock_skew: timedelta = timedelta(minutes=15),
        storage_host: str = "127.0.0.1",
    ) -> None:
        self.access_key = access_key or base64.b64encode(secrets.token_bytes(64)).decode("ascii")
        self._secret = base64.b64decode(self.access_key, validate=True)
        self.accept_bearer = accept_bearer
        self.page_size = page_size
        self.max_clock_skew = max_clock_skew
        self.state = AcsState(resource_id=str(uuid.uuid4()))
        self.requests: list[RecordedRequest] = []
        # The status answered to each entry of `requests`, by index.
        self.statuses: list[int] = []
        self.bearer_tokens: list[str] = []
        # Why each rejected request was rejected; the 401 body only says "Denied", like the real service.
        self.auth_failures: list[str] = []
        self.storage_host = storage_host
        self._throttled = 0
        self._retry_after = 0
        self._failing = 0
        self._failure_status = 500
        self._cuts = 0
        self._cut_after = 0
        self._lost_answers = 0
        self._site = HttpsSite("acs-server")
        self._port = 0
        self.ca_file = Path()
        self.client_ssl_context = ssl.create_default_context()

    # --- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            [
                web.post("/identities", self._create_identity),
                web.delete("/identities/{id}", self._delete_identity),
                web.post("/identities/{id}/:issueAccessToken", self._issue_token),
                web.post("/identities/{id}/:revokeAccessTokens", self._revoke_tokens),
                web.post("/rooms", self._create_room),
                web.get("/rooms", self._list_rooms),
                web.get("/rooms/{room_id}", self._get_room),
                web.patch("/rooms/{room_id}", self._update_room),
                web.delete("/rooms/{room_id}", self._delete_room),
                web.get("/rooms/{room_id}/participants", self._list_participants),
                web.patch("/rooms/{room_id}/participants", self._update_participants),
                web.post("/calling/recordings", self._start_recording),
                web.get("/calling/recordings/{recording_id}", self._get_recording),
                web.delete("/calling/recordings/{recording_id}", self._stop_recording),
                web.post("/calling/recordings/{recording_id}:pause", self._pause_recording),
                web.post("/calling/recordings/{recording_id}:resume", self._resume_recording),
                web.get("/v1/objects/{document_id}/content/{kind}", self._download),
                web.post("/calling/callConnections:connect", self._connect),
                web.post(
                    "/calling/callConnections/{connection_id}:stopTranscription", self._stop_transcription
                ),
                web.delete("/calling/callConnections/{connection_id}", self._hang_up),
            ]
        )
        await self._site.start(app)
        self._port, self.ca_file = self._site.port, self._site.ca_file
        self.client_ssl_context = self._site.client_ssl_context
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._site.stop()

    # --- what a client needs ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._port}"

    @property
    def endpoint(self) -> str:
        """With the trailing slash, as the portal shows it.

        `CommunicationIdentityClient(endpoint, key)` signs the host part of the endpoint verbatim, so given
        this endpoint directly it signs `127.0.0.1:PORT/` and is refused; pass `endpoint.rstrip("/")` or use
        the connection string (whose parser strips the slash). RoomsClient strips it itself.
        """
        return f"https://{self.host}/"

    @property
    def connection_string(self) -> str:
        return f"endpoint={self.endpoint};accesskey={self.access_key}"

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the SDK clients so their transport trusts this server's certificate."""
        return {"connection_verify": str(self.ca_file)}

    # --- test hooks ------------------------------------------------------------------------------------

    def throttle(self, n: int, retry_after: int = 1) -> None:
        """Answer the next `n` requests with 429 and `Retry-After: <retry_after>` (seconds)."""
        self._throttled = n
        self._retry_after = retry_after

    def fail(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status` (a 5xx by default), as an unwell service would."""
        self._failing = n
        self._failure_status = status

    def lose_answers(self, n: int) -> None:
        """Do the next `n` requests, then answer 500 anyway: the client cannot know they went through."""
        self._lost_answers = n

    def cut_downloads(self, after_bytes: int, times: int = 1) -> None:
        """The next `times` file downloads send `after_bytes` bytes of the body, then drop the connection."""
        self._cuts = times
        self._cut_after = after_bytes

    @property
    def identity_creations(self) -> int:
        return self.state.identity_creations

    def end_call(self, kind: str, call_id: str) -> None:
        """Hang the call up: its recording ends (as stopped), and starting one on it is 404."""
        self.state.ended_calls.add((kind, call_id))
        for session in self.state.recordings.values():
            if session.locator == (kind, call_id) and session.state != "stopped":
                self._end(session)

    def set_recording_file(
        self,
        recording_id: str,
        data: bytes,
        *,
        participants: Sequence[tuple[str, int]] = (),
        chunk_bytes: int | None = None,
    ) -> None:
        """What the recording captured: served once it is stopped, cut into chunks of about `chunk_bytes`
        (see acs_events.split_recording). `participants` are (ACS raw id, channel) for the metadata."""
        session = self.state.recordings[recording_id]
        if session.chunks:
            raise AssertionError("the recording's files were delivered already")
        session.data, session.participants, session.chunk_bytes = data, tuple(participants), chunk_bytes

    def recording_event(self, recording_id: str) -> JsonObject:
        """The RecordingFileStatusUpdated event for a stopped recording's files; the same event (same id)
        on every call, as Event Grid redelivers it."""
        session = self.state.recordings[recording_id]
        if session.state != "stopped" or session.data is None:
            raise AssertionError("a recording's event comes once it is stopped and its file is set")
        if session.event is None:
            session.chunks = self._store_chunks(session)
            session.event = recording_file_event(
                self._recorded_call(session),
                session.chunks,
                topic=(
                    f"/subscriptions/{uuid.uuid4()}/resourceGroups/acs-server/providers"
                    "/Microsoft.Communication/communicationServices/acs-server"
                ),
                session_end_reason=session.session_end_reason,
            )
        copy: JsonObject = json.loads(json.dumps(session.event))  # what a handler does to it stays there
        return copy

    def expire_recording_files(self, recording_id: str) -> None:
        """ACS deletes recordings after 48 hours: from now on their downloads are 404."""
        for document in self.state.documents.values():
            if document.recording_id == recording_id:
                document.expired = True

    # --- the pipeline every request goes through -------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        auth = self._auth_kind(request)
        api_version = request.query.get("api-version")
        self.requests.append(RecordedRequest(request.method, request.path, api_version, auth))
        try:
            if self._throttled > 0:
                self._throttled -= 1
                raise _AcsError(
                    429,
                    "TooManyRequests",
                    "Rate limit exceeded. Try again later.",
                    headers={"Retry-After": str(self._retry_after)},
                )
            if self._failing > 0:
                self._failing -= 1
                status = self._failure_status
                raise _AcsError(status, "9999", "Unknown internal server error.")
            self._authenticate(request, body, auth)
            self._check_api_version(request.path, api_version)
            response = await handler(request)
            if self._lost_answers > 0 and not response.prepared:
                self._lost_answers -= 1
                raise _AcsError(500, "9999", "Unknown internal server error.")
        except _AcsError as error:
            response = error.response()
        except web.HTTPException as error:
            # No route: 404 for an unknown path, 405 for a known path with another verb.
            code = "NotFound" if error.status == 404 else "MethodNotAllowed"
            message = _NOT_FOUND if error.status == 404 else error.reason
            response = _AcsError(error.status, code, message).response()
        self.statuses.append(response.status)
        # The SDKs send x-ms-return-client-request-id: true and the service echoes the id back.
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id and request.headers.get("x-ms-return-client-request-id", "").lower() == "true":
            response.headers["x-ms-client-request-id"] = client_request_id
        return response

    @staticmethod
    def _auth_kind(request: web.Request) -> AuthKind:
        header = request.headers.get("Authorization")
        if header is None:
            return "none"
        if header.startswith("HMAC-SHA256 "):
            return "hmac"
        if header.startswith("Bearer "):
            return "bearer"
        return "unknown"

    def _deny(self, reason: str) -> _AcsError:
        self.auth_failures.append(reason)
        return _AcsError(401, "Denied", _DENIED)

    def _authenticate(self, request: web.Request, body: bytes, auth: AuthKind) -> None:
        header = request.headers.get("Authorization", "")
        if auth == "bearer":
            token = header.removeprefix("Bearer ").strip()
            if not self.accept_bearer:
                raise self._deny("bearer token sent but the server was built without accept_bearer")
            if not token:
                raise self._deny("empty bearer token")
            self.bearer_tokens.append(token)
            return
        if auth != "hmac":
            raise self._deny(f"no usable Authorization header ({auth})")
        self._verify_hmac(request, body, header.removeprefix("HMAC-SHA256 "))

    def _verify_hmac(self, request: web.Request, body: bytes, credentials: str) -> None:
        # "SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>"; the signature's own "="
        # padding is why each pair splits on its first "=" only.
        fields = dict(part.partition("=")[::2] for part in credentials.split("&"))
        signed_headers = [name.strip().lower() for name in fields.get("SignedHeaders", "").split(";")]
        signature = fields.get("Signature", "")
        if not signature or "host" not in signed_headers or "x-ms-content-sha256" not in signed_headers:
            raise self._deny(f"SignedHeaders must include host and x-ms-content-sha256: {signed_headers}")
        date_header = next((name for name in ("x-ms-date", "date") if name in signed_headers), None)
        if date_header is None:
            raise self._deny(f"SignedHeaders must include x-ms-date or date: {signed_headers}")

        values: list[str] = []
        for name in signed_headers:
            value = request.headers.get(name)
            if name == "host" and request.path.startswith("/v1/objects/"):
                # The recording storage is another host; the request is signed for the resource's, which
                # x-ms-host names (the SDK's download_recording does the same).
                value = request.headers.get("x-ms-host")
                if value != self.host:
                    raise self._deny(f"x-ms-host {value!r} does not name this resource ({self.host})")
            if value is None:
                raise self._deny(f"signed header {name} is missing from the request")
            values.append(value)

        try:
            sent_at = parsedate_to_datetime(request.headers[date_header])
        except (TypeError, ValueError):
            raise self._deny(f"unreadable {date_header}: {request.headers[date_header]!r}") from None
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=UTC)
        skew = abs(datetime.now(UTC) - sent_at)
        if skew > self.max_clock_skew:
            raise self._deny(f"{date_header} is {skew} away from the server clock")

        body_hash = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        if not hmac.compare_digest(request.headers["x-ms-content-sha256"], body_hash):
            raise self._deny("x-ms-content-sha256 does not match the body")

        # The Python SDKs sign the percent-decoded path and query, other SDKs the encoded form; the service
        # takes either.
        raw = request.raw_path
        candidates = {raw, urllib.parse.unquote(raw)}
        expected = [self._sign(f"{request.method}\n{path}\n{';'.join(values)}") for path in candidates]
        if not any(hmac.compare_digest(signature, candidate) for candidate in expected):
            raise self._deny(
                f"signature mismatch for {request.method} {raw} host={request.headers.get('host')!r} "
                "(wrong key, a changed request, or an endpoint with a path or trailing slash)"
            )

    def _sign(self, string_to_sign: str) -> str:
        digest = hmac.new(self._secret, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    @staticmethod
    def _check_api_version(path: str, api_version: str | None) -> None:
        if path.startswith(("/identities", "/teamsUser")):
            expected = IDENTITY_API_VERSION
        elif path.startswith("/rooms"):
            expected = ROOMS_API_VERSION
        elif path.startswith("/calling"):
            expected = CALL_AUTOMATION_API_VERSION
        else:
            return
        if api_version != expected:
            # Strict on purpose: an SDK upgrade that moves to another wire version must show up here.
            raise _AcsError(
                400,
                "UnsupportedApiVersion",
                f"The api-version '{api_version}' is not served by this stand-in; it serves {expected}.",
                target="api-version",
            )

    # --- Identity ----------------------------------------------------------------------------------------

    async def _create_identity(self, request: web.Request) -> web.StreamResponse:
        # The SDK's create_user sends no body at all; create_user_and_token sends createTokenWithScopes.
        body = await _json_body(request, required=False, invalid=_identity_bad_json)
        scopes = body.get("createTokenWithScopes")
        token_request = None
        # No scopes (absent, null - recorded live - or empty) means an identity without a token.
        if scopes:
            token_request = _token_request(
                scopes, body.get("expiresInMinutes"), scopes_field="CreateTokenWithScopes"
            )
        identity = Identity(id=self._new_identity_id(), created_at=datetime.now(UTC))
        self.state.identities[identity.id] = identity
        self.state.identity_creations += 1
        answer: JsonObject = {"identity": {"id": identity.id}}
        if token_request is not None:
            answer["accessToken"] = self._issue(identity, *token_request)
        return web.json_response(answer, status=201)

    async def _delete_identity(self, request: web.Request) -> web.StreamResponse:
        identity = self._identity(request)
        for token in identity.tokens:
            token.revoked = True
        del self.state.identities[identity.id]
        self.state.deleted_identities.add(identity.id)
        return web.Response(status=204)

    async def _issue_token(self, request: web.Request) -> web.StreamResponse:
        identity = self._identity(request)
        body = await _json_body(request, required=True, invalid=_identity_bad_json)
        scopes, minutes = _token_request(
            body.get("scopes"), body.get("expiresInMinutes"), scopes_field="Scopes"
        )
        return web.json_response(self._issue(identity, scopes, minutes))

    async def _revoke_tokens(self, request: web.Request) -> web.StreamResponse:
        identity = self._identity(request)
        for token in identity.tokens:
            token.revoked = True
        identity.revocations += 1
        return web.Response(status=204)

    def _identity(self, request: web.Request) -> Identity:
        identity_id = request.match_info["id"]
        identity = self.state.identities.get(identity_id)
        if identity is None:
            raise _AcsError(404, "IdentityNotFound", f"Identity '{identity_id}' does not exist.")
        return identity

    def _new_identity_id(self) -> str:
        # The service's shape: 8:acs:<resource id>_<8-4-4-4-12 hex>.
        suffix = uuid.uuid4().hex
        parts = (suffix[:8], suffix[8:12], suffix[12:16], suffix[16:20], suffix[20:])
        return f"8:acs:{self.state.resource_id}_{'-'.join(parts)}"

    def _issue(self, identity: Identity, scopes: tuple[str, ...], minutes: int) -> JsonObject:
        now = datetime.now(UTC)
        expires_on = now + timedelta(minutes=minutes)
        header = {"alg": "RS256", "kid": "acs-server-test", "typ": "JWT"}
        claims = {
            "skypeid": identity.id.removeprefix("8:"),
            "scp": 1792,
            "csi": int(now.timestamp()),
            "exp": int(expires_on.timestamp()),
            "rgn": "amer",
            "acsScope": ",".join(scopes),
            "resourceId": self.state.resource_id,
            "resourceLocation": "unitedstates",
            "iat": int(now.timestamp()),
        }
        # JWT-shaped so clients that peek at `exp` work; the signature is random, nobody can verify it.
        token = ".".join(
            (
                _b64url(json.dumps(header).encode()),
                _b64url(json.dumps(claims).encode()),
                _b64url(secrets.token_bytes(64)),
            )
        )
        identity.tokens.append(IssuedToken(token=token, scopes=scopes, expires_on=expires_on))
        return {"token": token, "expiresOn": _wire_time(expires_on)}

    # --- Rooms -------------------------------------------------------------------------------------------

    async def _create_room(self, request: web.Request) -> web.StreamResponse:
        repeat_id = request.headers.get("Repeatability-Request-ID")
        if repeat_id and repeat_id in self.state.room_requests:
            room_id = self.state.room_requests[repeat_id]
            if room_id in self.state.rooms:
                return self._room_response(self.state.rooms[room_id], status=201, repeatable=True)
        body = await _json_body(request, required=True, invalid=_rooms_bad_json)
        now = datetime.now(UTC)
        valid_from = _optional_time(body, "validFrom") or now
        valid_until = _optional_time(body, "validUntil") or valid_from + MAX_ROOM_SPAN
        _check_window(valid_from, valid_until, now)
        pstn = _optional_bool(body, "pstnDialOutEnabled")
        participants = _participants(body.get("participants"), allow_removal=False)
        room = Room(
            id=self._new_room_id(),
            created_at=now,
            valid_from=valid_from,
            valid_until=valid_until,
            pstn_dial_out_enabled=bool(pstn),
            participants={raw_id: role for raw_id, role in participants.items() if role is not None},
        )
        self.state.rooms[room.id] = room
        if repeat_id:
            self.state.room_requests[repeat_id] = room.id
        return self._room_response(room, status=201, repeatable=bool(repeat_id))

    async def _get_room(self, request: web.Request) -> web.StreamResponse:
        return self._room_response(self._room(request))

    async def _update_room(self, request: web.Request) -> web.StreamResponse:
        room = self._room(request)
        body = await _json_body(request, required=True, invalid=_rooms_bad_json)
        # JSON merge-patch, but the SDK sends every field and null for "leave as is", and none of these
        # fields can be removed, so null keeps the current value.
        valid_from = _optional_time(body, "validFrom") or room.valid_from
        valid_until = _optional_time(body, "validUntil") or room.valid_until
        _check_window(valid_from, valid_until, datetime.now(UTC))
        pstn = _optional_bool(body, "pstnDialOutEnabled")
        room.valid_from, room.valid_until = valid_from, valid_until
        if pstn is not None:
            room.pstn_dial_out_enabled = pstn
        return self._room_response(room)

    async def _delete_room(self, request: web.Request) -> web.StreamResponse:
        room_id = _room_id(request)
        if room_id in self.state.deleted_rooms:
            # Recorded against the live service: deleting a room twice answers 204 both times.
            return web.Response(status=204)
        if self.state.rooms.pop(room_id, None) is None:
            raise _not_found()
        self.state.deleted_rooms.add(room_id)
        return web.Response(status=204)

    async def _list_rooms(self, request: web.Request) -> web.StreamResponse:
        rooms = [_room_json(room) for room in self.state.rooms.values()]
        return self._page(request, rooms, "/rooms")

    async def _update_participants(self, request: web.Request) -> web.StreamResponse:
        room = self._room(request)
        body = await _json_body(request, required=True, invalid=_rooms_bad_json)
        changes = _participants(body.get("participants"), allow_removal=True)
        for raw_id, role in changes.items():
            if role is None:
                # Removing someone who is not a member is not an error (recorded: 200 {}).
                room.participants.pop(raw_id, None)
            else:
                room.participants[raw_id] = role
        return web.json_response({})

    async def _list_participants(self, request: web.Request) -> web.StreamResponse:
        room = self._room(request)
        members = [{"rawId": raw_id, "role": role} for raw_id, role in room.participants.items()]
        return self._page(request, members, f"/rooms/{room.id}/participants")

    def _room(self, request: web.Request) -> Room:
        room = self.state.rooms.get(_room_id(request))
        if room is None:
            raise _not_found()
        return room

    def _new_room_id(self) -> str:
        # Live room ids are 16-17 digit decimal strings.
        while True:
            room_id = str(secrets.randbelow(9 * 10**16) + 10**16)
            if room_id not in self.state.rooms and room_id not in self.state.deleted_rooms:
                return room_id

    @staticmethod
    def _room_response(room: Room, *, status: int = 200, repeatable: bool = False) -> web.Response:
        headers = {"Location": room.id} if status == 201 else {}
        if repeatable:
            # A create carrying Repeatability-Request-ID is accepted, the first time and on replay.
            headers["Repeatability-Result"] = "accepted"
        return web.json_response(_room_json(room), status=status, headers=headers)

    def _page(self, request: web.Request, items: list[JsonObject], path: str) -> web.Response:
        token = request.query.get("skipToken", "0")
        if not token.isdigit():
            raise _bad_argument("The continuation token is not valid.", "skipToken")
        start = int(token)
        page: JsonObject = {"value": items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            query = urllib.parse.urlencode(
                {"api-version": ROOMS_API_VERSION, "skipToken": start + self.page_size}
            )
            page["nextLink"] = f"https://{self.host}{path}?{query}"
        return web.json_response(page)

    # --- Call Automation: recording ----------------------------------------------------------------------

    async def _start_recording(self, request: web.Request) -> web.StreamResponse:
        repeat_id = request.headers.get("Repeatability-Request-ID")
        if repeat_id and repeat_id in self.state.recording_requests:
            return _recording_json(self.state.recordings[self.state.recording_requests[repeat_id]])
        body = await _json_body(request, required=True, invalid=_invalid_argument)
        locator = _call_locator(body.get("callLocator"))
        if locator in self.state.ended_calls:
            raise _AcsError(404, "8522", "Call not found.")
        recording_request = _recording_request(body)
        if any(r.locator == locator and r.state != "stopped" for r in self.state.recordings.values()):
            raise _AcsError(
                400,
                "8559",
                "Duplicate start recording request: a recording is already initiated or in progress "
                "for this call.",
            )
        session = CallRecordingSession(
            id=_b64url(
                json.dumps({"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())})
                .replace(" ", "")
                .encode()
            ),
            locator=locator,
            request=recording_request,
            call_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"acs-server:{locator[0]}:{locator[1]}")),
            server_call_id=locator[1]
            if locator[0] == "serverCallLocator"
            else _b64url(f"https://acs-server.invalid/conv/{locator[1]}".encode()),
            started_at=datetime.now(UTC),
        )
        self.state.recordings[session.id] = session
        self.state.recording_starts += 1
        if repeat_id:
            self.state.recording_requests[repeat_id] = session.id
        return _recording_json(session)

    # --- Call Automation's connections (real-time transcription) -------------------------------------------

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        """Connect to a call (ConnectRequest): the call must not have ended; a transcription needs its
        transport URL (a WebSocket's), transport type and locale."""
        repeat_id = request.headers.get("Repeatability-Request-ID")
        if repeat_id and repeat_id in self.state.connection_requests:
            return _connection_json(self.state.connection_requests[repeat_id], self.state)
        body = await _json_body(request, required=True, invalid=_invalid_argument)
        locator = _call_locator(body.get("callLocator"))
        if locator in self.state.ended_calls:
            raise _AcsError(404, "8522", "Call not found.")
        callback = body.get("callbackUri")
        if not isinstance(callback, str) or not callback.startswith("https://"):
            raise _invalid_argument("callbackUri must be an https URL.")
        transcription = body.get("transcriptionOptions")
        if transcription is not None:
            url = transcription.get("transportUrl") if isinstance(transcription, dict) else None
            if not isinstance(url, str) or not url.startswith("wss://"):
                raise _invalid_argument("transcriptionOptions.transportUrl must be a wss URL.")
            if str(transcription.get("transportType", "")).lower() != "websocket" or not transcription.get(
                "locale"
            ):
                raise _invalid_argument("transcriptionOptions needs transportType websocket and a locale.")
        connection_id = str(uuid.uuid4())
        self.state.connections[connection_id] = {
            "locator": list(locator),
            "callbackUri": callback,
            "transcription": transcription,
            "state": "connected",
        }
        if repeat_id:
            self.state.connection_requests[repeat_id] = connection_id
        return _connection_json(connection_id, self.state)

    def _connection(self, request: web.Request) -> JsonObject:
        connection = self.state.connections.get(request.match_info["connection_id"])
        if connection is None or connection["state"] == "disconnected":
            raise _AcsError(404, "8522", "Call connection not found.")
        return connection

    async def _stop_transcription(self, request: web.Request) -> web.StreamResponse:
        connection = self._connection(request)
        await _json_body(request, required=False, invalid=_invalid_argument)
        if connection["transcription"] is None:
            raise _AcsError(400, "8501", "Transcription is not active.")
        connection["transcriptionStopped"] = True
        return web.Response(status=202)

    async def _hang_up(self, request: web.Request) -> web.StreamResponse:
        self._connection(request)["state"] = "disconnected"
        return web.Response(status=204)

    async def _get_recording(self, request: web.Request) -> web.StreamResponse:
        return _recording_json(self._recording(request))

    async def _pause_recording(self, request: web.Request) -> web.StreamResponse:
        session = self._running_recording(request, "pause")
        if session.state == "active":
            session.state = "paused"
            session.pauses.append((datetime.now(UTC), None))
        return web.Response(status=202)

    async def _resume_recording(self, request: web.Request) -> web.StreamResponse:
        session = self._running_recording(request, "resume")
        if session.state == "paused":
            session.state = "active"
            session.pauses[-1] = (session.pauses[-1][0], datetime.now(UTC))
        return web.Response(status=202)

    async def _stop_recording(self, request: web.Request) -> web.StreamResponse:
        session = self._recording(request)
        if session.state == "stopped":
            raise _AcsError(404, "8522", "Recording not found: the recording session has ended.")
        self._end(session)
        return web.Response(status=204)

    def _recording(self, request: web.Request) -> CallRecordingSession:
        session = self.state.recordings.get(request.match_info["recording_id"])
        if session is None:
            raise _AcsError(404, "8522", "Recording not found.")
        return session

    def _running_recording(self, request: web.Request, action: str) -> CallRecordingSession:
        session = self._recording(request)
        if session.state == "stopped":
            raise _AcsError(
                409, "8571", f"Recording operation conflict: cannot {action} a stopped recording."
            )
        return session

    @staticmethod
    def _end(session: CallRecordingSession) -> None:
        now = datetime.now(UTC)
        if session.state == "paused":
            session.pauses[-1] = (session.pauses[-1][0], now)
        session.state, session.stopped_at = "stopped", now

    def _recorded_call(self, session: CallRecordingSession) -> RecordedCall:
        end = session.stopped_at or datetime.now(UTC)
        return RecordedCall(
            resource_id=self.state.resource_id,
            call_id=session.call_id,
            server_call_id=session.server_call_id,
            recording_id=session.id,
            request=session.request,
            started_at=session.started_at,
            duration_ms=session.duration_ms(),
            pauses=[
                (since, int(((until or end) - since).total_seconds() * 1000))
                for since, until in session.pauses
            ],
        )

    def _store_chunks(self, session: CallRecordingSession) -> list[RecordedChunk]:
        assert session.data is not None
        data, file_format = session.data, session.request.format
        parts = list(split_recording(io.BytesIO(data), file_format, session.chunk_bytes or len(data) or 1))
        parts = parts or [b""]
        kind: Literal["audio", "video"] = "video" if file_format == "mp4" else "audio"
        durations = chunk_durations(session.duration_ms(), [len(part) for part in parts])
        base = f"https://{self.storage_host}:{self._port}/v1/objects/"
        call = self._recorded_call(session)
        chunks: list[RecordedChunk] = []
        started = session.started_at
        for index, (part, duration) in enumerate(zip(parts, durations, strict=True)):
            document_id = f"0-eus-d{index % 20 + 1}-{secrets.token_hex(16)}"
            chunk = RecordedChunk(
                document_id=document_id,
                index=index,
                content_location=f"{base}{document_id}/content/{kind}",
                metadata_location=f"{base}{document_id}/content/acsmetadata",
                delete_location=f"{base}{document_id}",
                duration_ms=duration,
                started_at=started,
                end_reason="SessionEnded" if index == len(parts) - 1 else "ChunkMaximumSizeExceeded",
            )
            metadata = recording_metadata(call, chunk, session.participants)
            self.state.documents[document_id] = StoredDocument(
                session.id, kind, part, json.dumps(metadata).encode()
            )
            chunks.append(chunk)
            started += timedelta(milliseconds=duration)
        return chunks

    # --- recording storage -------------------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.StreamResponse:
        document = self.state.documents.get(request.match_info["document_id"])
        kind = request.match_info["kind"]
        if document is None or document.expired or kind not in ("acsmetadata", document.content_kind):
            raise _AcsError(404, "NotFound", "The requested object was not found.")
        data = document.metadata if kind == "acsmetadata" else document.content
        start = _range_start(request.headers.get("Range"), len(data))
        body = data[start:]
        headers = {
            "Content-Type": "application/json" if kind == "acsmetadata" else "application/octet-stream"
        }
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if self._cuts > 0 and len(body) > self._cut_after:
            self._cuts -= 1
            return await _stream(request, body, status, headers, cut_after=self._cut_after)
        return await _stream(request, body, status, headers)


# --- request parsing and validation -------------------------------------------------------------------


def _invalid_argument(message: str) -> _AcsError:
    """Call Automation's 400 for a request it cannot take (subcode 8523, "Invalid Argument")."""
    return _AcsError(400, "8523", message)


def _connection_json(connection_id: str, state: AcsState) -> web.Response:
    connection = state.connections[connection_id]
    return web.json_response(
        {
            "callConnectionId": connection_id,
            "serverCallId": connection["locator"][1],
            "callbackUri": connection["callbackUri"],
            "callConnectionState": "connecting",
            "targets": [],
        }
    )


def _call_locator(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict):
        # A start by callConnectionId needs a call this server's app answered: none here.
        raise _invalid_argument("A callLocator is required.")
    kind = value.get("kind")
    if kind not in _LOCATOR_FIELDS:
        raise _invalid_argument(f"The callLocator kind {kind!r} is not supported.")
    call_id = value.get(_LOCATOR_FIELDS[kind])
    if not isinstance(call_id, str) or not call_id:
        raise _invalid_argument(f"A {kind} needs its {_LOCATOR_FIELDS[kind]}.")
    return kind, call_id


def _recording_request(body: JsonObject) -> RecordingRequest:
    # The service's defaults when a field is left out: mixed audio and video, in MP4.
    content = body.get("recordingContentType") or "audioVideo"
    channels = body.get("recordingChannelType") or "mixed"
    file_format = body.get("recordingFormatType") or "mp4"
    if content not in _CONTENT_TO_PORT or channels not in ("mixed", "unmixed"):
        raise _invalid_argument(f"Unknown recording content or channel type: {content!r}, {channels!r}.")
    if file_format not in RECORDING_FORMATS.get((_CONTENT_TO_PORT[content], channels), ()):
        raise _AcsError(
            400,
            "8557",
            f"Wrong format type: {file_format!r} is not recorded for {content} {channels} content.",
        )
    # Checked against RECORDING_FORMATS just above: the values are the port's literals.
    return RecordingRequest(_CONTENT_TO_PORT[content], cast(Any, channels), cast(Any, file_format))


def _recording_json(session: CallRecordingSession) -> web.Response:
    return web.json_response(
        {
            "recordingId": session.id,
            "recordingState": "active" if session.state == "active" else "inactive",
            "recordingKind": "azureCommunicationServices",
        }
    )


def _range_start(header: str | None, size: int) -> int:
    """The start of a `bytes=N-` range (the only form the SDK and the adapter send); 0 without one."""
    if header is None:
        return 0
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    if unit.strip() != "bytes" or not first.isdigit() or last:
        raise _AcsError(400, "InvalidRange", f"Unsupported Range header {header!r}.")
    if int(first) >= size:
        raise _AcsError(
            416, "InvalidRange", "The range is not satisfiable.", headers={"Content-Range": f"bytes */{size}"}
        )
    return int(first)


async def _stream(
    request: web.Request,
    body: bytes,
    status: int,
    headers: dict[str, str],
    *,
    cut_after: int | None = None,
    piece: int = 64 * 1024,
) -> web.StreamResponse:
    """Sends the body piece by piece, waiting for the client to take each (as a storage service streams a
    large file); with `cut_after`, drops the connection after that many bytes of it."""
    response = web.StreamResponse(status=status, headers={**headers, "Content-Length": str(len(body))})
    await response.prepare(request)
    view = memoryview(body)[: len(body) if cut_after is None else cut_after]
    for start in range(0, len(view), piece):
        await response.write(view[start : start + piece])
    if cut_after is not None and request.transport is not None:
        request.transport.close()
        return response
    await response.write_eof()
    return response


def _identity_bad_json(message: str) -> _AcsError:
    return _validation_error(message, "body")


def _rooms_bad_json(message: str) -> _AcsError:
    return _bad_argument(message, "$")


async def _json_body(
    request: web.Request, *, required: bool, invalid: Callable[[str], _AcsError]
) -> JsonObject:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise invalid("A non-empty request body is required.")
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def _token_request(scopes: Any, minutes: Any, *, scopes_field: str) -> tuple[tuple[str, ...], int]:
    if not isinstance(scopes, list) or not scopes:
        raise _validation_error(f"{scopes_field}: The {scopes_field} field is required.", scopes_field)
    for scope in scopes:
        if scope not in TOKEN_SCOPES:
            raise _validation_error(
                f"{scopes_field}: '{scope}' is not a valid scope. "
                f"Valid scopes: {', '.join(sorted(TOKEN_SCOPES))}.",
                scopes_field,
            )
    if minutes is None:
        minutes = DEFAULT_TOKEN_MINUTES
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not (MIN_TOKEN_MINUTES <= minutes <= MAX_TOKEN_MINUTES)
    ):
        raise _validation_error(
            f"ExpiresInMinutes value {minutes} is invalid. "
            f"Value must be within the [{MIN_TOKEN_MINUTES}, {MAX_TOKEN_MINUTES}] interval.",
            "ExpiresInMinutes",
        )
    return tuple(scopes), minutes


def _room_id(request: web.Request) -> str:
    room_id = request.match_info["room_id"]
    if not 14 <= len(room_id) <= 20:
        raise _AcsError(400, "BadRequest", "Invalid room ID length.")
    if not room_id.isdigit():
        raise _AcsError(400, "BadRequest", "Invalid room ID.")
    return room_id


def _optional_time(body: JsonObject, name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    target = name[0].upper() + name[1:]
    if not isinstance(value, str):
        raise _bad_argument(f"The {name} value must be an RFC 3339 timestamp.", target)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_argument(f"The {name} value must be an RFC 3339 timestamp.", target) from None
    if moment.tzinfo is None:
        raise _bad_argument(f"The {name} value must carry a time zone offset.", target)
    return moment.astimezone(UTC)


def _optional_bool(body: JsonObject, name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise _bad_argument(f"The {name} value must be a boolean.", name)


def _check_window(valid_from: datetime, valid_until: datetime, now: datetime) -> None:
    # The live service's messages and targets (from the SDK's test recordings).
    if valid_from > now + MAX_ROOM_SPAN:
        raise _bad_argument("Value is incorrect or more than 180 days in the future.", "ValidFrom")
    if valid_until <= now:
        raise _bad_argument("The time range end is in the past.", "ValidUntil")
    if valid_until <= valid_from or valid_until - valid_from > MAX_ROOM_SPAN:
        raise _bad_argument("The time range is incorrect, or larger than 180 days.", "ValidUntil")


def _participants(value: Any, *, allow_removal: bool) -> dict[str, str | None]:
    """`{rawId: {"role": ...}}`; with `allow_removal`, `{rawId: null}` removes (merge-patch)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_argument("The participants value must be an object keyed by raw id.", "participants")
    changes: dict[str, str | None] = {}
    for raw_id, properties in value.items():
        if not raw_id.startswith(_ACS_USER_PREFIXES) or len(raw_id) <= len("8:acs:"):
            raise _AcsError(400, "BadRequest", "Invalid format for communication identifier.")
        if properties is None:
            if not allow_removal:
                raise _bad_argument(
                    "A participant to create a room with needs a role.", f"$.participants.{raw_id}"
                )
            changes[raw_id] = None
            continue
        role = properties.get("role") if isinstance(properties, dict) else None
        if role is None:
            role = "Attendee"  # The API's documented default role.
        # The service's JSON binding takes enum names without regard to case and answers in canonical case.
        canonical = next(
            (known for known in ROLES if isinstance(role, str) and known.lower() == role.lower()), None
        )
        if canonical is None:
            raise _bad_argument(
                f"The JSON value could not be converted to Role. Path: $.participants.{raw_id}.role",
                f"$.participants.{raw_id}.role",
            )
        changes[raw_id] = canonical
    return changes


def _room_json(room: Room) -> JsonObject:
    return {
        "id": room.id,
        "createdAt": _wire_time(room.created_at),
        "validFrom": _wire_time(room.valid_from),
        "validUntil": _wire_time(room.valid_until),
        "pstnDialOutEnabled": room.pstn_dial_out_enabled,
    }
