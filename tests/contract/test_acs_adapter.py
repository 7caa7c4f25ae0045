"""What only the ACS adapter does: auth modes, pinned api-versions, bounded retries, error mapping."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.credentials import AccessToken as CoreAccessToken

from shared.adapters.acs_communication import (
    IDENTITY_API_VERSION,
    MAX_WAIT_SECONDS,
    ROOMS_API_VERSION,
    AcsCommunication,
)
from shared.ports import CommunicationError, CommunicationRejected, CommunicationUnavailable
from tests.acs_server import AcsServer

START = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
END = START + timedelta(hours=1)


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Sleeps:
    """Records the waits instead of sleeping: the tests check the backoff, and stay fast."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def server() -> AsyncIterator[AcsServer]:
    async with AcsServer(access_key=_key()) as running:
        yield running


@pytest.fixture
async def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def adapter(server: AcsServer, sleeps: Sleeps) -> AsyncIterator[AcsCommunication]:
    acs = AcsCommunication(connection_string=server.connection_string, sleep=sleeps, **server.client_kwargs)
    yield acs
    await acs.aclose()


async def test_every_request_is_signed_and_pins_the_api_versions(
    server: AcsServer, adapter: AcsCommunication
) -> None:
    room = await adapter.create_room(START, END)
    user = await adapter.create_user()
    await adapter.issue_token(user, ["voip.join"], timedelta(hours=1))
    await adapter.delete_room(room)
    assert {r.auth for r in server.requests} == {"hmac"}
    versions = {r.path.split("/")[1]: r.api_version for r in server.requests}
    assert versions == {"rooms": ROOMS_API_VERSION, "identities": IDENTITY_API_VERSION}
    assert adapter.endpoint == server.endpoint


async def test_the_token_carries_the_scope_and_lifetime_asked_for(
    server: AcsServer, adapter: AcsCommunication
) -> None:
    user = await adapter.create_user()
    token = await adapter.issue_token(user, ["voip.join"], timedelta(minutes=90))
    issued = server.state.identity(user).tokens[-1]
    assert issued.scopes == ("voip.join",)
    assert issued.token == token.token
    assert abs((token.expires_on - datetime.now(UTC)) - timedelta(minutes=90)) < timedelta(seconds=5)


async def test_throttling_is_retried_honouring_retry_after(
    server: AcsServer, adapter: AcsCommunication, sleeps: Sleeps
) -> None:
    server.throttle(2, retry_after=3)
    room = await adapter.create_room(START, END)
    assert room in server.state.rooms
    assert server.statuses[:3] == [429, 429, 201]
    assert len(sleeps.waits) == 2
    assert all(3 <= wait < 3.2 for wait in sleeps.waits)


async def test_throttling_past_the_retries_is_unavailable_with_retry_after(
    server: AcsServer, adapter: AcsCommunication, sleeps: Sleeps
) -> None:
    server.throttle(100, retry_after=2)
    with pytest.raises(CommunicationUnavailable) as caught:
        await adapter.create_user()
    assert caught.value.retry_after == 2
    assert len(server.requests) == 4, "bounded: four attempts, then give up"
    assert len(sleeps.waits) == 3


async def test_a_long_retry_after_is_passed_on_not_waited_out(
    server: AcsServer, adapter: AcsCommunication, sleeps: Sleeps
) -> None:
    server.throttle(1, retry_after=int(MAX_WAIT_SECONDS) + 60)
    with pytest.raises(CommunicationUnavailable) as caught:
        await adapter.create_user()
    assert caught.value.retry_after == MAX_WAIT_SECONDS + 60
    assert sleeps.waits == []


async def test_a_wrong_key_is_a_communication_error_not_an_sdk_exception(server: AcsServer) -> None:
    wrong = server.connection_string.replace(server.connection_string.split("accesskey=")[1], _key())
    acs = AcsCommunication(connection_string=wrong, **server.client_kwargs)
    try:
        with pytest.raises(CommunicationError) as caught:
            await acs.create_room(START, END)
        assert type(caught.value) is CommunicationError
    finally:
        await acs.aclose()
    assert server.statuses == [401]


async def test_invalid_requests_are_rejected_precisely(adapter: AcsCommunication) -> None:
    with pytest.raises(CommunicationRejected, match="400"):
        await adapter.create_room(
            datetime.now(UTC) + timedelta(days=200), datetime.now(UTC) + timedelta(days=201)
        )


class FakeManagedIdentity:
    """An AsyncTokenCredential as azure-identity's would be, without Entra ID."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> CoreAccessToken:
        self.scopes.append(scopes)
        return CoreAccessToken("managed-identity-token", int(datetime.now(UTC).timestamp()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeManagedIdentity:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


async def test_managed_identity_mode_uses_bearer_tokens_for_both_apis() -> None:
    async with AcsServer(access_key=_key(), accept_bearer=True) as server:
        credential = FakeManagedIdentity()
        acs = AcsCommunication(endpoint=server.endpoint, credential=credential, **server.client_kwargs)
        room = await acs.create_room(START, END)
        user = await acs.create_user()
        await acs.issue_token(user, ["voip.join"], timedelta(hours=1))
        await acs.aclose()
    assert room in server.state.rooms
    assert {r.auth for r in server.requests} == {"bearer"}
    assert set(server.bearer_tokens) == {"managed-identity-token"}
    assert {scope for scopes in credential.scopes for scope in scopes} == {
        "https://communication.azure.com//.default"
    }
    assert credential.closed


def test_settings_must_say_how_to_authenticate() -> None:
    with pytest.raises(ValueError, match="connection string"):
        AcsCommunication(endpoint="https://x.communication.azure.com/")
