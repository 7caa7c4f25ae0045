"""devhost's Web PubSub-compatible client endpoint: the embedded stand-in for Azure Web PubSub.

`GET /client/hubs/{hub}?access_token=<jwt>` upgrades to a WebSocket speaking what the service speaks to
its clients, so the very same `@azure/web-pubsub-client` connects to it:

- subprotocols `json.webpubsub.azure.v1` and `json.reliable.webpubsub.azure.v1` (messages then carry a
  `sequenceId` the client acknowledges with `sequenceAck`; recovery of a dropped connection is not
  offered, the client reconnects afresh), or none (a simple client receiving only the messages' data);
- first `{"type": "system", "event": "connected", "userId", "connectionId"}`;
- then `{"type": "message", "from": "group", "group", "dataType": "json", "data"}` for what the app sends
  to a group the connection is in (`"from": "server"` for what it sends to the user);
- client messages with an `ackId` are answered `{"type": "ack", "ackId", "success"[, "error"]}`:
  `joinGroup`/`leaveGroup` need the `webpubsub.joinLeaveGroup[.<group>]` role and `sendToGroup` the
  `webpubsub.sendToGroup[.<group>]` role, which the app's tokens never grant (receive-only clients).

Tokens are verified with the key the app's embedded adapter signs them with (DATA_DIR/webpubsub.key).
The endpoint registers itself in shared/realtime/local_hub, where the app's adapter, in this process,
finds it to send and to move users between groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import WSMsgType, web

from devhost.host import DevHost
from devhost.http_host import SystemRoute
from shared.realtime import local_hub

logger = logging.getLogger(__name__)

# Messages waiting for one slow connection; past this it is closed (the service drops slow clients too).
MAX_PENDING = 1_000
JOIN_LEAVE = "webpubsub.joinLeaveGroup"
SEND_TO_GROUP = "webpubsub.sendToGroup"


@dataclass(eq=False)
class Connection:
    id: str
    hub: str
    user_id: str | None
    roles: tuple[str, ...]
    socket: web.WebSocketResponse
    protocol: str | None
    groups: set[str] = field(default_factory=set)
    outbox: asyncio.Queue[dict[str, object] | None] = field(
        default_factory=lambda: asyncio.Queue(MAX_PENDING)
    )
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    closing: asyncio.Task[bool] | None = None

    def may(self, role: str, group: str) -> bool:
        return role in self.roles or f"{role}.{group}" in self.roles

    def push(self, message: dict[str, object]) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("realtime connection %s is too slow: closed", self.id)
            if self.closing is None:
                self.closing = asyncio.ensure_future(self.socket.close(code=1008, message=b"too slow"))


class RealtimeEndpoint:
    """The connections, by hub, user and group; a `LocalHubBackend` for the app's embedded adapter."""

    trigger_types: frozenset[str] = frozenset()

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._key: bytes | None = None
        self._connections: dict[str, Connection] = {}
        self._by_user: dict[tuple[str, str], set[Connection]] = defaultdict(set)
        self._by_group: dict[tuple[str, str], set[Connection]] = defaultdict(set)

    # --- as a devhost runner: registered while the host runs ------------------------------------------

    async def start(self) -> None:
        local_hub.register(self)

    async def stop(self) -> None:
        local_hub.unregister(self)
        for connection in list(self._connections.values()):
            with contextlib.suppress(Exception):
                await connection.socket.close(code=1001, message=b"server stopping")

    def describe(self) -> list[str]:
        return []  # it serves no function of the app: `serve` prints its own line for it

    def route(self) -> SystemRoute:
        return SystemRoute("GET", local_hub.CLIENT_PATH + "{hub}", self.connect, "webpubsub-client")

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # --- LocalHubBackend ----------------------------------------------------------------------------

    async def send_to_group(self, hub: str, group: str, message: dict[str, object]) -> None:
        envelope: dict[str, object] = {
            "type": "message",
            "from": "group",
            "group": group,
            "dataType": "json",
            "data": message,
        }
        for connection in list(self._by_group.get((hub, group), ())):
            connection.push(envelope)

    async def send_to_user(self, hub: str, user_id: str, message: dict[str, object]) -> None:
        envelope: dict[str, object] = {
            "type": "message",
            "from": "server",
            "dataType": "json",
            "data": message,
        }
        for connection in list(self._by_user.get((hub, user_id), ())):
            connection.push(envelope)

    async def add_user_to_group(self, hub: str, group: str, user_id: str) -> None:
        for connection in list(self._by_user.get((hub, user_id), ())):
            self._join(connection, group)

    async def remove_user_from_group(self, hub: str, group: str, user_id: str) -> None:
        for connection in list(self._by_user.get((hub, user_id), ())):
            self._leave(connection, group)

    def _join(self, connection: Connection, group: str) -> None:
        connection.groups.add(group)
        self._by_group[(connection.hub, group)].add(connection)

    def _leave(self, connection: Connection, group: str) -> None:
        connection.groups.discard(group)
        members = self._by_group.get((connection.hub, group))
        if members is not None:
            members.discard(connection)
            if not members:
                del self._by_group[(connection.hub, group)]

    # --- the WebSocket ------------------------------------------------------------------------------

    async def connect(self, request: web.Request) -> web.StreamResponse:
        hub = request.match_info["hub"]
        if self._key is None:
            self._key = local_hub.token_key(self._data_dir)
        token = request.query.get("access_token") or _bearer(request.headers.get("Authorization"))
        if not token:
            return web.Response(status=401, text="an access_token is required")
        try:
            claims = local_hub.verify_client_token(self._key, token, f"{local_hub.CLIENT_PATH}{hub}")
        except ValueError as exc:
            return web.Response(status=401, text=str(exc))
        socket = web.WebSocketResponse(
            protocols=(local_hub.RELIABLE_JSON_PROTOCOL, local_hub.JSON_PROTOCOL), heartbeat=30.0
        )
        await socket.prepare(request)
        connection = Connection(
            id=secrets.token_urlsafe(12),
            hub=hub,
            user_id=claims.user_id,
            roles=claims.roles,
            socket=socket,
            protocol=socket.ws_protocol,
        )
        self._add(connection, claims.groups)
        writer = asyncio.ensure_future(self._write(connection))
        try:
            if connection.protocol is not None:
                connected: dict[str, object] = {
                    "type": "system",
                    "event": "connected",
                    "userId": connection.user_id,
                    "connectionId": connection.id,
                }
                if connection.protocol == local_hub.RELIABLE_JSON_PROTOCOL:
                    connected["reconnectionToken"] = secrets.token_urlsafe(16)
                await socket.send_str(json.dumps(connected))
            async for frame in socket:
                if frame.type == WSMsgType.TEXT and connection.protocol is not None:
                    self._on_message(connection, frame.data)
                elif frame.type == WSMsgType.ERROR:
                    break
        finally:
            self._remove(connection)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return socket

    def _add(self, connection: Connection, groups: tuple[str, ...]) -> None:
        self._connections[connection.id] = connection
        if connection.user_id is not None:
            self._by_user[(connection.hub, connection.user_id)].add(connection)
        for group in groups:
            self._join(connection, group)
        logger.info(
            "realtime: %s connected (%s) in %d groups", connection.user_id, connection.protocol, len(groups)
        )

    def _remove(self, connection: Connection) -> None:
        self._connections.pop(connection.id, None)
        for group in list(connection.groups):
            self._leave(connection, group)
        if connection.user_id is not None:
            mine = self._by_user.get((connection.hub, connection.user_id))
            if mine is not None:
                mine.discard(connection)
                if not mine:
                    del self._by_user[(connection.hub, connection.user_id)]

    async def _write(self, connection: Connection) -> None:
        """One writer per connection, so a slow client never holds up a sender."""
        while (message := await connection.outbox.get()) is not None:
            if connection.socket.closed:
                return
            if connection.protocol is None:
                text = json.dumps(message.get("data"))  # a simple client gets the data alone
            else:
                if (
                    connection.protocol == local_hub.RELIABLE_JSON_PROTOCOL
                    and message.get("type") == "message"
                ):
                    message = {**message, "sequenceId": next(connection.sequence)}
                text = json.dumps(message)
            try:
                await connection.socket.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def _on_message(self, connection: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind, ack_id = message.get("type"), message.get("ackId")
        if kind == "ping":
            connection.push({"type": "pong"})
            return
        if kind in ("joinGroup", "leaveGroup"):
            error = self._join_or_leave(connection, kind, message.get("group"))
        elif kind == "sendToGroup":
            error = self._send_from(connection, message)
        elif kind == "event":
            error = ("InternalServerError", "no event handler is configured for this hub")
        else:  # sequenceAck and anything unknown: nothing to answer
            return
        if isinstance(ack_id, int):
            ack: dict[str, object] = {"type": "ack", "ackId": ack_id, "success": error is None}
            if error is not None:
                ack["error"] = {"name": error[0], "message": error[1]}
            connection.push(ack)

    def _join_or_leave(self, connection: Connection, kind: str, group: object) -> tuple[str, str] | None:
        if not isinstance(group, str) or not group:
            return ("BadRequest", "a group is required")
        if not connection.may(JOIN_LEAVE, group):
            return ("Forbidden", f"the connection has no permission to join or leave {group}")
        if kind == "joinGroup":
            self._join(connection, group)
        else:
            self._leave(connection, group)
        return None

    def _send_from(self, connection: Connection, message: dict[str, object]) -> tuple[str, str] | None:
        group = message.get("group")
        if not isinstance(group, str) or not group:
            return ("BadRequest", "a group is required")
        if not connection.may(SEND_TO_GROUP, group):
            return ("Forbidden", f"the connection has no permission to send to {group}")
        envelope: dict[str, object] = {
            "type": "message",
            "from": "group",
            "fromUserId": connection.user_id,
            "group": group,
            "dataType": message.get("dataType", "json"),
            "data": message.get("data"),
        }
        for other in list(self._by_group.get((connection.hub, group), ())):
            if not (message.get("noEcho") is True and other is connection):
                other.push(envelope)
        return None


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def wire_realtime(host: DevHost, data_dir: Path) -> RealtimeEndpoint:
    """Adds the endpoint to the host (as a runner, for the host's lifetime, and as a route)."""
    endpoint = RealtimeEndpoint(data_dir)
    host.add_runner(endpoint)
    host.http.add_system_route(endpoint.route())
    return endpoint
