"""Azure Communication Services: identities and tokens (azure-communication-identity) and rooms
(azure-communication-rooms), through their async clients.

Authenticated by a connection string (HMAC with the access key) or, in Azure, by `ACS_ENDPOINT` and a
managed identity. Throttling (429 with Retry-After) and 5xx are retried with bounded waits (acs_common), so
a Retry-After of an hour never parks a request; SDK exceptions never leave this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from shared.adapters import acs_common
from shared.adapters.acs_common import Refusal, acs_client, acs_endpoint, call_acs, rejected
from shared.domain.models import Role
from shared.domain.rules import MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME
from shared.ports import (
    AccessToken,
    CommunicationError,
    CommunicationRejected,
    RoomMember,
    RoomNotFound,
)

if TYPE_CHECKING:
    from azure.communication.identity.aio import CommunicationIdentityClient
    from azure.communication.rooms.aio import RoomsClient
    from azure.core.credentials_async import AsyncTokenCredential

T = TypeVar("T")

# Pinned wire versions, as plain strings: rooms 1.2.0 puts its enum's name into next-page links when the
# version is left to its default. The contract tests run a server that speaks exactly these.
IDENTITY_API_VERSION = "2023-10-01"
ROOMS_API_VERSION = "2025-03-13"
MAX_WAIT_SECONDS = acs_common.MAX_WAIT_SECONDS  # kept here too: callers read this adapter's limits from it
_ROLES = {Role.PRESENTER: "Presenter", Role.ATTENDEE: "Attendee", Role.CONSUMER: "Consumer"}


class AcsCommunication:
    def __init__(
        self,
        *,
        endpoint: str | None = None,
        connection_string: str | None = None,
        credential: AsyncTokenCredential | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **client_options: Any,
    ) -> None:
        """`client_options` go to both SDK clients (e.g. a transport); status retries are ours."""
        self._endpoint = acs_endpoint(endpoint, connection_string, credential)
        self._connection_string = connection_string
        self._credential = credential
        self._sleep = sleep
        # Connection errors keep azure-core's retries; HTTP status retries are ours (bounded waits).
        self._options = {"retry_status": 0, **client_options}
        self._identity: CommunicationIdentityClient | None = None
        self._rooms: RoomsClient | None = None

    @property
    def endpoint(self) -> str:
        return self._endpoint

    # --- clients, built on first use (the SDK imports are not paid at cold start) -------------------

    def _identity_client(self) -> CommunicationIdentityClient:
        if self._identity is None:
            from azure.communication.identity.aio import CommunicationIdentityClient  # noqa: PLC0415

            self._identity = acs_client(
                CommunicationIdentityClient,
                endpoint=self._endpoint,
                connection_string=self._connection_string,
                credential=self._credential,
                **self._options,
            )
        return self._identity

    def _rooms_client(self) -> RoomsClient:
        if self._rooms is None:
            from azure.communication.rooms.aio import RoomsClient  # noqa: PLC0415

            self._rooms = acs_client(
                RoomsClient,
                endpoint=self._endpoint.rstrip("/"),
                connection_string=self._connection_string,
                credential=self._credential,
                api_version=ROOMS_API_VERSION,
                **self._options,
            )
        return self._rooms

    async def aclose(self) -> None:
        for client in (self._identity, self._rooms):
            if client is not None:
                await client.close()
        if self._credential is not None:
            await self._credential.close()

    # --- rooms -------------------------------------------------------------------------------------

    async def create_room(self, valid_from: datetime, valid_until: datetime) -> str:
        rooms = self._rooms_client()
        room = await self._call(
            "create room", lambda: rooms.create_room(valid_from=valid_from, valid_until=valid_until)
        )
        return str(room.id)

    async def update_room(self, room_id: str, valid_from: datetime, valid_until: datetime) -> None:
        rooms = self._rooms_client()
        await self._call(
            "update room",
            lambda: rooms.update_room(room_id=room_id, valid_from=valid_from, valid_until=valid_until),
            room_id=room_id,
        )

    async def delete_room(self, room_id: str) -> None:
        rooms = self._rooms_client()
        with contextlib.suppress(RoomNotFound):  # already gone: what we wanted
            await self._call("delete room", lambda: rooms.delete_room(room_id), room_id=room_id)

    async def upsert_room_members(self, room_id: str, members: Sequence[RoomMember]) -> None:
        from azure.communication.rooms import RoomParticipant  # noqa: PLC0415

        participants = [
            RoomParticipant(communication_identifier=_user(m.acs_user_id), role=_ROLES[m.role])
            for m in members
        ]
        rooms = self._rooms_client()
        await self._call(
            "update room members",
            lambda: rooms.add_or_update_participants(room_id=room_id, participants=participants),
            room_id=room_id,
        )

    async def remove_room_members(self, room_id: str, acs_user_ids: Sequence[str]) -> None:
        identifiers: list[Any] = [_user(acs_id) for acs_id in acs_user_ids]
        rooms = self._rooms_client()
        await self._call(
            "remove room members",
            lambda: rooms.remove_participants(room_id=room_id, participants=identifiers),
            room_id=room_id,
        )

    # --- identities and tokens ---------------------------------------------------------------------

    async def create_user(self) -> str:
        identity = self._identity_client()
        user = await self._call("create identity", identity.create_user)
        return str(user.raw_id)

    async def delete_user(self, acs_user_id: str) -> None:
        identity = self._identity_client()
        with contextlib.suppress(CommunicationRejected):  # not found: already deleted
            await self._call("delete identity", lambda: identity.delete_user(_user(acs_user_id)))

    async def issue_token(self, acs_user_id: str, scopes: Sequence[str], lifetime: timedelta) -> AccessToken:
        # The SDK sends whole minutes, truncating: 24 h and 1 s would pass as 24 h. Refuse it here.
        if not MIN_TOKEN_LIFETIME <= lifetime <= MAX_TOKEN_LIFETIME:
            raise CommunicationRejected("a token lives between 60 minutes and 24 hours")
        identity = self._identity_client()
        token = await self._call(
            "issue token",
            lambda: identity.get_token(_user(acs_user_id), list(scopes), token_expires_in=lifetime),
        )
        return AccessToken(token.token, _as_datetime(token.expires_on))

    async def revoke_tokens(self, acs_user_id: str) -> None:
        identity = self._identity_client()
        await self._call("revoke tokens", lambda: identity.revoke_tokens(_user(acs_user_id)))

    # --- errors and retries ------------------------------------------------------------------------

    async def _call(self, what: str, request: Callable[[], Awaitable[T]], room_id: str | None = None) -> T:
        return await call_acs(what, request, sleep=self._sleep, refusal=_refusal(what, room_id))


def _refusal(what: str, room_id: str | None) -> Refusal:
    otherwise = rejected(what)

    def refusal(status: int, code: str) -> CommunicationError:
        if status == 404:
            return (
                RoomNotFound(room_id)
                if room_id is not None
                else CommunicationRejected(f"ACS could not {what}: not found")
            )
        return otherwise(status, code)

    return refusal


def _user(acs_user_id: str) -> Any:
    from azure.communication.identity import CommunicationUserIdentifier  # noqa: PLC0415

    return CommunicationUserIdentifier(acs_user_id, raw_id=acs_user_id)


def _as_datetime(value: Any) -> datetime:
    """The SDK hands `expires_on` over as the service's RFC 3339 text (7-digit fractions), not a number."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)
