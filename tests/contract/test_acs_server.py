"""The local ACS server speaks the SDKs' language: driven here by the real async SDK clients.

If these pass, an adapter built on `azure.communication.identity.aio` and `azure.communication.rooms.aio` can
be contract-tested against `tests.acs_server.AcsServer` and what it does there is what it would send to Azure.
Some tests also pin SDK behaviour an adapter has to cope with (times come back as strings, a direct identity
endpoint with a trailing slash signs wrongly).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import Any

import aiohttp
import pytest
from azure.communication.identity import CommunicationUserIdentifier
from azure.communication.identity.aio import CommunicationIdentityClient
from azure.communication.rooms import CommunicationUserIdentifier as RoomsUser
from azure.communication.rooms import ParticipantRole, RoomParticipant
from azure.communication.rooms.aio import RoomsClient
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline import PipelineRequest
from yarl import URL

from tests.acs_server import IDENTITY_API_VERSION, ROOMS_API_VERSION, AcsServer, RecordedRequest

KEY = base64.b64encode(b"contract-test-access-key-" * 3).decode()
OTHER_KEY = base64.b64encode(b"some-other-resource-key-" * 3).decode()
MANAGED_IDENTITY_SCOPE = "https://communication.azure.com//.default"


@pytest.fixture
async def acs() -> AsyncIterator[AcsServer]:
    # Two items a page, so every list below goes through the SDKs' nextLink paging.
    async with AcsServer(access_key=KEY, page_size=2) as server:
        yield server


@pytest.fixture
async def identity(acs: AcsServer) -> AsyncIterator[CommunicationIdentityClient]:
    async with CommunicationIdentityClient.from_connection_string(
        acs.connection_string, **acs.client_kwargs
    ) as client:
        yield client


@pytest.fixture
async def rooms(acs: AcsServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient.from_connection_string(acs.connection_string, **acs.client_kwargs) as client:
        yield client


class FakeCredential:
    """An AsyncTokenCredential standing in for DefaultAzureCredential / managed identity."""

    def __init__(self, token: str = "fake-managed-identity-token") -> None:
        self.token = token
        self.requested_scopes: list[tuple[str, ...]] = []

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.requested_scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> FakeCredential:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        return None


def _window(start_in: timedelta, length: timedelta) -> tuple[datetime, datetime]:
    start = datetime.now(UTC) + start_in
    return start, start + length


def _member(user: CommunicationUserIdentifier, role: ParticipantRole | None = None) -> RoomParticipant:
    """A room member from an identity-SDK user.

    The two SDKs each ship their own CommunicationUserIdentifier; the raw id is what carries across.
    """
    rooms_user = RoomsUser(user.raw_id)
    if role is None:
        return RoomParticipant(communication_identifier=rooms_user)
    return RoomParticipant(communication_identifier=rooms_user, role=role)


async def _send_signed(
    acs: AcsServer,
    method: str,
    path_and_query: str,
    body: bytes = b"",
    *,
    key: str = KEY,
    sent_at: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request signed by hand the way the ACS docs describe, over the exact (encoded) path given."""
    date = format_datetime(sent_at or datetime.now(UTC), usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    string_to_sign = f"{method}\n{path_and_query}\n{date};{acs.host};{content_hash}"
    signature = base64.b64encode(
        hmac.new(base64.b64decode(key), string_to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    signed = {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        + signature,
        "Content-Type": "application/json",
        **(headers or {}),
    }
    # encoded=True keeps the path byte for byte, so what was signed is what is sent.
    url = URL(f"https://{acs.host}{path_and_query}", encoded=True)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=signed, ssl=acs.client_ssl_context) as response,
    ):
        text = await response.text()
        return response.status, json.loads(text) if text else None


# --- Identity ---------------------------------------------------------------------------------------------


async def test_a_user_gets_a_voip_join_token_for_an_hour_and_has_it_revoked(
    acs: AcsServer, identity: CommunicationIdentityClient
) -> None:
    user = await identity.create_user()

    token = await identity.get_token(user, ["voip.join"], token_expires_in=timedelta(minutes=60))
    await identity.revoke_tokens(user)

    assert user.raw_id.startswith("8:acs:")
    assert acs.identity_creations == 1
    # The 1.5.0 SDK hands expires_on back as the wire string, not epoch seconds: adapters must parse it.
    assert isinstance(token.expires_on, str)
    expires_on = datetime.fromisoformat(token.expires_on)
    assert timedelta(minutes=59) < expires_on - datetime.now(UTC) <= timedelta(minutes=60)
    claims = json.loads(base64.urlsafe_b64decode(token.token.split(".")[1] + "=="))
    assert claims["exp"] == int(expires_on.timestamp())
    held = acs.state.identity(user.raw_id)
    assert [(t.scopes, t.revoked) for t in held.tokens] == [(("voip.join",), True)]
    assert acs.state.revocations(user.raw_id) == 1
    assert acs.requests == [
        RecordedRequest("POST", "/identities", IDENTITY_API_VERSION, "hmac"),
        RecordedRequest("POST", f"/identities/{user.raw_id}/:issueAccessToken", IDENTITY_API_VERSION, "hmac"),
        RecordedRequest(
            "POST", f"/identities/{user.raw_id}/:revokeAccessTokens", IDENTITY_API_VERSION, "hmac"
        ),
    ]
    assert acs.statuses == [201, 200, 204]


async def test_a_user_and_token_come_in_one_call_with_the_default_day_long_lifetime(
    acs: AcsServer, identity: CommunicationIdentityClient
) -> None:
    user, token = await identity.create_user_and_token(["chat", "voip"])

    lifetime = datetime.fromisoformat(str(token.expires_on)) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)
    assert acs.state.identity(user.raw_id).tokens[0].scopes == ("chat", "voip")
    assert acs.identity_creations == 1


async def test_every_documented_scope_is_accepted(identity: CommunicationIdentityClient) -> None:
    user = await identity.create_user()

    token = await identity.get_token(user, ["chat", "voip", "chat.join", "chat.join.limited", "voip.join"])

    assert token.token.count(".") == 2


@pytest.mark.parametrize("minutes", [59, 1441])
async def test_a_token_lifetime_outside_an_hour_to_a_day_is_refused(
    identity: CommunicationIdentityClient, minutes: int
) -> None:
    user = await identity.create_user()

    with pytest.raises(HttpResponseError) as refused:
        await identity.get_token(user, ["voip.join"], token_expires_in=timedelta(minutes=minutes))

    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "ValidationError"
    assert f"ExpiresInMinutes value {minutes} is invalid" in str(refused.value.message)


async def test_an_unknown_scope_is_refused(identity: CommunicationIdentityClient) -> None:
    user = await identity.create_user()

    with pytest.raises(HttpResponseError) as refused:
        await identity.get_token(user, ["voip.superpowers"])

    assert refused.value.status_code == 400


async def test_a_deleted_user_is_gone(acs: AcsServer, identity: CommunicationIdentityClient) -> None:
    user = await identity.create_user()
    await identity.get_token(user, ["chat"])

    await identity.delete_user(user)

    assert user.raw_id not in acs.state.identities
    with pytest.raises(ResourceNotFoundError):
        await identity.get_token(user, ["chat"])
    with pytest.raises(ResourceNotFoundError):
        await identity.revoke_tokens(CommunicationUserIdentifier(f"8:acs:{uuid.uuid4()}_{uuid.uuid4()}"))


# --- Rooms ------------------------------------------------------------------------------------------------


async def test_a_room_lives_through_window_changes_and_membership_changes_until_deleted(
    acs: AcsServer, identity: CommunicationIdentityClient, rooms: RoomsClient
) -> None:
    host, guest, late = [await identity.create_user() for _ in range(3)]
    opens, closes = _window(timedelta(minutes=5), timedelta(hours=1))

    room = await rooms.create_room(
        valid_from=opens,
        valid_until=closes,
        participants=[_member(host, ParticipantRole.PRESENTER)],
    )
    # The SDK hands the times back as the wire strings too.
    assert datetime.fromisoformat(room.valid_from) == opens
    assert datetime.fromisoformat(room.valid_until) == closes
    assert room.pstn_dial_out_enabled is False

    later = closes + timedelta(hours=2)
    updated = await rooms.update_room(room_id=room.id, valid_until=later)
    assert datetime.fromisoformat(updated.valid_from) == opens
    assert datetime.fromisoformat(updated.valid_until) == later

    await rooms.add_or_update_participants(
        room_id=room.id,
        participants=[
            _member(guest),  # the SDK's default role, Attendee
            _member(late, ParticipantRole.CONSUMER),
            _member(host, ParticipantRole.COLLABORATOR),
        ],
    )
    assert acs.state.participants(room.id) == {
        host.raw_id: "Collaborator",
        guest.raw_id: "Attendee",
        late.raw_id: "Consumer",
    }

    await rooms.remove_participants(room_id=room.id, participants=[RoomsUser(late.raw_id)])
    members = [member async for member in rooms.list_participants(room.id)]
    assert [(m.communication_identifier.raw_id, m.role) for m in members] == [
        (host.raw_id, "Collaborator"),
        (guest.raw_id, "Attendee"),
    ]

    await rooms.delete_room(room.id)
    with pytest.raises(ResourceNotFoundError) as gone:
        await rooms.get_room(room.id)
    assert gone.value.error is not None
    assert gone.value.error.code == "NotFound"
    assert room.id not in acs.state.rooms
    assert {(r.method, r.api_version) for r in acs.requests if r.path.startswith("/rooms")} == {
        ("POST", ROOMS_API_VERSION),
        ("PATCH", ROOMS_API_VERSION),
        ("GET", ROOMS_API_VERSION),
        ("DELETE", ROOMS_API_VERSION),
    }


async def test_removing_someone_who_is_not_a_member_is_not_an_error(
    acs: AcsServer, identity: CommunicationIdentityClient, rooms: RoomsClient
) -> None:
    room = await rooms.create_room()
    stranger = await identity.create_user()

    await rooms.remove_participants(room_id=room.id, participants=[RoomsUser(stranger.raw_id)])

    assert acs.state.participants(room.id) == {}


async def test_a_room_without_a_window_opens_now_for_180_days(acs: AcsServer, rooms: RoomsClient) -> None:
    room = await rooms.create_room(pstn_dial_out_enabled=True)

    span = datetime.fromisoformat(room.valid_until) - datetime.fromisoformat(room.valid_from)
    assert span == timedelta(days=180)
    assert acs.state.room(room.id).pstn_dial_out_enabled is True
    assert room.id.isdigit()


@pytest.mark.parametrize(
    ("start_in", "length", "target"),
    [
        (timedelta(hours=2), -timedelta(hours=1), "ValidUntil"),  # ends before it starts
        (timedelta(minutes=5), timedelta(days=181), "ValidUntil"),  # longer than 180 days
        (timedelta(days=200), timedelta(hours=1), "ValidFrom"),  # opens more than 180 days ahead
        (-timedelta(hours=3), timedelta(hours=1), "ValidUntil"),  # already over
    ],
)
async def test_an_impossible_window_is_refused(
    acs: AcsServer, rooms: RoomsClient, start_in: timedelta, length: timedelta, target: str
) -> None:
    opens, closes = _window(start_in, length)

    with pytest.raises(HttpResponseError) as refused:
        await rooms.create_room(valid_from=opens, valid_until=closes)

    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "BadRequest"
    assert [detail.target for detail in refused.value.error.details] == [target]
    assert acs.state.rooms == {}


async def test_a_window_update_is_checked_too(acs: AcsServer, rooms: RoomsClient) -> None:
    opens, closes = _window(timedelta(minutes=5), timedelta(hours=1))
    room = await rooms.create_room(valid_from=opens, valid_until=closes)

    with pytest.raises(HttpResponseError) as refused:
        await rooms.update_room(room_id=room.id, valid_until=opens - timedelta(minutes=1))

    assert refused.value.status_code == 400
    assert acs.state.room(room.id).valid_until == closes


async def test_a_malformed_member_id_or_room_id_is_a_bad_request(rooms: RoomsClient) -> None:
    with pytest.raises(HttpResponseError) as bad_member:
        await rooms.create_room(
            participants=[RoomParticipant(communication_identifier=RoomsUser("wrong_mri"))]
        )
    with pytest.raises(HttpResponseError) as bad_room:
        await rooms.get_room("123")

    assert (bad_member.value.status_code, bad_room.value.status_code) == (400, 400)


async def test_an_unknown_room_is_not_found_but_a_second_delete_is_fine(rooms: RoomsClient) -> None:
    room = await rooms.create_room()
    await rooms.delete_room(room.id)

    await rooms.delete_room(room.id)  # the live service answers 204 again
    with pytest.raises(ResourceNotFoundError):
        await rooms.update_room(room_id=room.id, pstn_dial_out_enabled=True)
    with pytest.raises(ResourceNotFoundError):
        await rooms.add_or_update_participants(room_id="12345678901234567", participants=[])
    with pytest.raises(ResourceNotFoundError):
        await rooms.delete_room("12345678901234567")


async def test_rooms_and_members_are_listed_across_pages_given_the_api_version_as_a_plain_string(
    acs: AcsServer, identity: CommunicationIdentityClient
) -> None:
    # See the next test for why the api_version is spelled out.
    async with RoomsClient.from_connection_string(
        acs.connection_string, api_version=ROOMS_API_VERSION, **acs.client_kwargs
    ) as rooms:
        created = [await rooms.create_room() for _ in range(5)]
        users = [await identity.create_user() for _ in range(5)]
        await rooms.add_or_update_participants(
            room_id=created[0].id,
            participants=[_member(user) for user in users],
        )

        listed = [room.id async for room in rooms.list_rooms()]
        members = [m.communication_identifier.raw_id async for m in rooms.list_participants(created[0].id)]

    assert listed == [room.id for room in created]
    assert members == [user.raw_id for user in users]
    gets = [r.path for r in acs.requests if r.method == "GET"]
    assert gets.count("/rooms") == 3  # pages of 2, 2 and 1
    assert gets.count(f"/rooms/{created[0].id}/participants") == 3


async def test_a_default_rooms_client_sends_a_broken_api_version_when_following_next_links(
    acs: AcsServer, rooms: RoomsClient
) -> None:
    # rooms 1.2.0 puts its ApiVersion enum itself into the next-page query, which str()s to
    # "ApiVersion.V2025_03_13". The first page is fine; every later page is refused.
    for _ in range(3):
        await rooms.create_room()

    with pytest.raises(HttpResponseError) as refused:
        _ = [room async for room in rooms.list_rooms()]

    assert refused.value.status_code == 400
    assert [r.api_version for r in acs.requests if r.method == "GET"] == [
        ROOMS_API_VERSION,
        "ApiVersion.V2025_03_13",
    ]


# --- authentication ---------------------------------------------------------------------------------------


async def test_a_client_with_the_wrong_key_is_denied(acs: AcsServer) -> None:
    wrong = f"endpoint={acs.endpoint};accesskey={OTHER_KEY}"
    async with (
        CommunicationIdentityClient.from_connection_string(wrong, **acs.client_kwargs) as identity,
        RoomsClient.from_connection_string(wrong, **acs.client_kwargs) as rooms,
    ):
        with pytest.raises(ClientAuthenticationError) as denied:
            await identity.create_user()
        with pytest.raises(ClientAuthenticationError):
            await rooms.create_room()

    assert denied.value.status_code == 401
    assert denied.value.error is not None
    assert (denied.value.error.code, denied.value.error.message) == (
        "Denied",
        "Denied by the resource provider.",
    )
    assert acs.statuses == [401, 401]
    assert acs.identity_creations == 0
    assert acs.state.rooms == {}


async def test_a_body_changed_after_signing_is_denied(acs: AcsServer, rooms: RoomsClient) -> None:
    def tamper(request: PipelineRequest[Any]) -> None:
        # Runs after the HMAC policy, so the body no longer matches x-ms-content-sha256. Same length, so
        # Content-Length stays true and the request still reaches the server whole.
        body = request.http_request.body
        request.http_request.body = body.replace('"pstnDialOutEnabled": false', '"pstnDialOutEnabled": true ')
        assert request.http_request.body != body

    with pytest.raises(ClientAuthenticationError):
        await rooms.create_room(raw_request_hook=tamper)

    assert acs.state.rooms == {}
    assert acs.auth_failures == ["x-ms-content-sha256 does not match the body"]


async def test_a_stale_or_unsigned_request_is_denied_and_a_well_signed_one_is_not(
    acs: AcsServer, identity: CommunicationIdentityClient
) -> None:
    user = await identity.create_user()
    # Signed over the percent-encoded path, as the .NET and JS SDKs sign it.
    encoded_id = user.raw_id.replace(":", "%3A")
    path = f"/identities/{encoded_id}/:revokeAccessTokens?api-version={IDENTITY_API_VERSION}"

    stale, _ = await _send_signed(acs, "POST", path, sent_at=datetime.now(UTC) - timedelta(minutes=16))
    fresh, _ = await _send_signed(acs, "POST", path)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"https://{acs.host}{path}", ssl=acs.client_ssl_context) as unsigned,
    ):
        body = await unsigned.json()

    assert (stale, fresh, unsigned.status) == (401, 204, 401)
    assert body == {"error": {"code": "Denied", "message": "Denied by the resource provider."}}
    assert unsigned.headers["x-ms-error-code"] == "Denied"
    assert acs.state.revocations(user.raw_id) == 1


async def test_the_identity_client_signs_a_direct_endpoint_with_a_trailing_slash_wrongly(
    acs: AcsServer,
) -> None:
    # CommunicationIdentityClient signs the endpoint's host part verbatim ("127.0.0.1:PORT/"); the service
    # checks against the Host header. Connection strings are fine: their parser strips the slash.
    async with CommunicationIdentityClient(
        acs.endpoint, AzureKeyCredential(KEY), **acs.client_kwargs
    ) as slash:
        with pytest.raises(ClientAuthenticationError):
            await slash.create_user()
    async with CommunicationIdentityClient(
        acs.endpoint.rstrip("/"), AzureKeyCredential(KEY), **acs.client_kwargs
    ) as bare:
        await bare.create_user()
    async with RoomsClient(acs.endpoint, AzureKeyCredential(KEY), **acs.client_kwargs) as rooms:
        await rooms.create_room()  # RoomsClient strips the slash itself

    assert acs.statuses == [401, 201, 201]


async def test_managed_identity_mode_sends_a_bearer_token() -> None:
    credential = FakeCredential()
    async with (
        AcsServer(access_key=KEY, accept_bearer=True) as acs,
        CommunicationIdentityClient(acs.endpoint, credential, **acs.client_kwargs) as identity,
        RoomsClient(acs.endpoint, credential, **acs.client_kwargs) as rooms,
    ):
        user = await identity.create_user()
        await identity.get_token(user, ["voip.join"], token_expires_in=timedelta(hours=1))
        room = await rooms.create_room(participants=[_member(user)])

        assert acs.state.participants(room.id) == {user.raw_id: "Attendee"}
        assert {r.auth for r in acs.requests} == {"bearer"}
        assert set(acs.bearer_tokens) == {"fake-managed-identity-token"}
        assert set(credential.requested_scopes) == {(MANAGED_IDENTITY_SCOPE,)}


async def test_a_bearer_token_is_denied_unless_the_server_accepts_them(acs: AcsServer) -> None:
    async with RoomsClient(acs.endpoint, FakeCredential(), **acs.client_kwargs) as rooms:
        with pytest.raises(ClientAuthenticationError):
            await rooms.create_room()

    assert acs.requests[0].auth == "bearer"


# --- throttling, repeatability, versions ------------------------------------------------------------------


async def test_a_throttled_call_succeeds_after_honouring_retry_after(
    acs: AcsServer, identity: CommunicationIdentityClient
) -> None:
    acs.throttle(1, retry_after=1)

    started = time.monotonic()
    user = await identity.create_user()
    waited = time.monotonic() - started

    assert user.raw_id in acs.state.identities
    assert [(r.method, r.path) for r in acs.requests] == [("POST", "/identities")] * 2
    assert acs.statuses == [429, 201]
    assert acs.identity_creations == 1
    assert waited >= 0.9  # azure-core slept for Retry-After before retrying


async def test_throttling_outlasting_the_retries_surfaces_as_429(acs: AcsServer) -> None:
    acs.throttle(5, retry_after=0)
    async with RoomsClient.from_connection_string(
        acs.connection_string, retry_total=2, **acs.client_kwargs
    ) as rooms:
        with pytest.raises(HttpResponseError) as throttled:
            await rooms.create_room()

    assert throttled.value.status_code == 429
    assert acs.statuses == [429, 429, 429]
    assert acs.state.rooms == {}


async def test_a_repeated_create_room_request_makes_one_room(acs: AcsServer) -> None:
    repeat = {
        "Repeatability-Request-ID": str(uuid.uuid4()),
        "Repeatability-First-Sent": format_datetime(datetime.now(UTC), usegmt=True),
    }
    path = f"/rooms?api-version={ROOMS_API_VERSION}"

    first = await _send_signed(acs, "POST", path, b"{}", headers=repeat)
    again = await _send_signed(acs, "POST", path, b"{}", headers=repeat)

    assert first[0] == again[0] == 201
    assert first[1]["id"] == again[1]["id"]
    assert list(acs.state.rooms) == [first[1]["id"]]


async def test_an_unexpected_api_version_is_refused(acs: AcsServer) -> None:
    async with (
        CommunicationIdentityClient.from_connection_string(
            acs.connection_string, api_version="2022-10-01", **acs.client_kwargs
        ) as identity,
        RoomsClient.from_connection_string(
            acs.connection_string, api_version="2024-04-15", **acs.client_kwargs
        ) as rooms,
    ):
        with pytest.raises(HttpResponseError) as old_identity:
            await identity.create_user()
        with pytest.raises(HttpResponseError) as old_rooms:
            await rooms.create_room()

    assert (old_identity.value.status_code, old_rooms.value.status_code) == (400, 400)
    assert [r.api_version for r in acs.requests] == ["2022-10-01", "2024-04-15"]
    assert acs.identity_creations == 0
