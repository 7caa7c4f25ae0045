"""The captions service's routes.

- `GET /ws/{meetingId}/{recordingId}`: ACS's real-time transcription WebSocket for one captions recording.
  The upgrade request must carry ACS's signed token (Authorization) and name captions that are on; then
  every frame is read as ACS's messages (shared/live_captions.py) and each result goes to the recording's
  `CaptionStream`. A frame that does not parse is logged and dropped, never fatal: one bad result must not
  cost the rest of the call's captions.
- `POST /callbacks/{meetingId}/{recordingId}`: Call Automation's mid-call events (CloudEvents, with the
  same signed token): `CallDisconnected` ends the captions (transcript, then the summary at once).
- `GET /health`.

Refusals before the upgrade are problem+json (401 no or bad token, 404 no such captions, 409 captions
over), so ACS, and a person with curl, sees why.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import WSMsgType, web

from shared.bootstrap import Services
from shared.domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated, Unavailable
from shared.live_captions import MalformedMessage, TranscriptionData, TranscriptionMetadata, parse
from shared.logs import bind_meeting, bind_recording
from shared.services.captions import CaptionStream
from shared.stream_auth import StreamAuthenticator

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_FRAME_BYTES = 1024 * 1024
# Call Automation's events that end what we transcribe.
ENDING_EVENTS = ("Microsoft.Communication.CallDisconnected", "Microsoft.Communication.TranscriptionStopped")
_STATUS = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409, Unavailable: 503}

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
AUTH: web.AppKey[StreamAuthenticator] = web.AppKey("auth", object)  # type: ignore[arg-type]


def build_app(services: Services, authenticator: StreamAuthenticator) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[SERVICES] = services
    app[AUTH] = authenticator
    app.add_routes(
        [
            web.get("/health", _health),
            web.get("/ws/{meetingId}/{recordingId}", _stream),
            web.post("/callbacks/{meetingId}/{recordingId}", _callback),
        ]
    )
    return app


def problem(status: int, detail: str) -> web.Response:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
              503: "Service Unavailable"}  # fmt: skip
    body = {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json", headers=headers
    )


def _error(exc: DomainError) -> web.Response:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
    return problem(status, exc.detail)


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _ids(request: web.Request) -> tuple[str, str] | None:
    meeting_id, recording_id = request.match_info["meetingId"], request.match_info["recordingId"]
    if not (_ID.fullmatch(meeting_id) and _ID.fullmatch(recording_id)):
        return None
    bind_meeting(meeting_id)
    bind_recording(recording_id)
    return meeting_id, recording_id


async def _stream(request: web.Request) -> web.StreamResponse:
    ids = _ids(request)
    if ids is None:
        return problem(404, "no such captions")
    services = request.app[SERVICES]
    try:
        await request.app[AUTH].verify(request.headers)
        stream = CaptionStream(services.store, services.blobs, *ids, events=services.events)
        await stream.open()
    except DomainError as exc:
        log.warning("captions stream refused: %s", exc.detail)
        return _error(exc)
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    log.info("ACS connected the transcription stream")
    received = published = dropped = 0
    async for frame in socket:
        if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            continue
        received += 1
        try:
            message = parse(frame.data)
            if isinstance(message, TranscriptionMetadata):
                stream.check_metadata(message.call_connection_id)
            elif isinstance(message, TranscriptionData):
                published += await stream.on_result(message)
        except MalformedMessage as exc:
            dropped += 1
            log.warning("a transcription frame was dropped: %s", exc)
        except Forbidden as exc:
            log.warning("captions stream closed: %s", exc.detail)
            await socket.close(code=1008, message=b"another call connection")
            break
        except Exception:
            # Storage or the hub failing: this result is lost, the stream goes on.
            dropped += 1
            log.exception("a transcription result could not be handled")
    log.info(
        "the transcription stream closed: %d frames, %d captions, %d dropped", received, published, dropped
    )
    return socket


async def _callback(request: web.Request) -> web.Response:
    ids = _ids(request)
    if ids is None:
        return problem(404, "no such captions")
    try:
        await request.app[AUTH].verify(request.headers)
    except DomainError as exc:
        return _error(exc)
    try:
        events: Any = json.loads(await request.read())
    except ValueError:
        return problem(400, "the body is not JSON")
    if isinstance(events, dict):
        events = [events]
    if not isinstance(events, list):
        return problem(400, "the body is not a list of events")
    types = [e.get("type") for e in events if isinstance(e, dict)]
    if any(t in ENDING_EVENTS for t in types):
        try:
            await request.app[SERVICES].captions.call_ended(*ids)
        except DomainError as exc:
            return _error(exc)
    return web.Response(status=204)
