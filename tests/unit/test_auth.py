"""Caller identity in the three modes; entra against a fake identity provider on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import (
    Caller,
    DevAuthenticator,
    EasyAuthAuthenticator,
    build_authenticator,
)
from shared.config import ConfigurationError, Settings
from shared.domain.errors import Forbidden, Unauthenticated, Unavailable
from shared.entra import EntraAuthenticator

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUDIENCE = "api://video-signaling"
CLIENT_ID = "0b6e0a4c-3f1d-4c41-9d3e-4b1f2a9c8e11"
OID = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS = {kid: _new_key() for kid in ("key-a", "key-b", "key-c", "key-unpublished")}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_json(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value).encode())


def _public_jwk(kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(KEYS[kid].public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeIdentityProvider:
    """Serves OpenID metadata and a JWKS, counting requests so that refreshes can be asserted."""

    def __init__(self) -> None:
        self.url = ""
        self.published = ["key-a"]
        self.metadata_requests = 0
        self.jwks_requests = 0
        self.jwks_status = 200
        self.jwks_override: str | None = None
        self.metadata_override: dict[str, Any] | None = None

    @property
    def v2_issuer(self) -> str:
        return f"{self.url}/{TENANT}/v2.0"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/discovery/v2.0/keys", self._jwks)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        # Like the multi-tenant document: the issuer names the tenant with a placeholder.
        body = self.metadata_override or {
            "issuer": f"{self.url}/{{tenantid}}/v2.0",
            "jwks_uri": f"{self.url}/discovery/v2.0/keys",
        }
        return web.json_response(body)

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        if self.jwks_status != 200:
            return web.Response(status=self.jwks_status, text="unavailable")
        if self.jwks_override is not None:
            return web.Response(text=self.jwks_override, content_type="application/json")
        return web.json_response({"keys": [_public_jwk(kid) for kid in self.published]})


@pytest.fixture
async def idp() -> AsyncIterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    runner = web.AppRunner(provider.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    provider.url = f"http://127.0.0.1:{port}"
    yield provider
    await runner.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def entra(idp: FakeIdentityProvider, clock: FakeClock) -> AsyncIterator[EntraAuthenticator]:
    authenticator = EntraAuthenticator(TENANT, (AUDIENCE, CLIENT_ID), idp.url, clock=clock)
    yield authenticator
    await authenticator.aclose()


def _claims(idp: FakeIdentityProvider, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "iss": idp.v2_issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "oid": OID,
        "tid": TENANT,
        "name": "Ada Lovelace",
        "preferred_username": "ada@example.com",
        "ver": "2.0",
        "scp": "user_impersonation",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _token(idp: FakeIdentityProvider, kid: str = "key-a", **overrides: Any) -> str:
    return jwt.encode(_claims(idp, **overrides), KEYS[kid], algorithm="RS256", headers={"kid": kid})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _rejected(authenticator: EntraAuthenticator, token: str, match: str) -> None:
    with pytest.raises(Unauthenticated, match=match) as caught:
        await authenticator.authenticate(_bearer(token))
    assert token not in caught.value.detail


# --- entra: accepted tokens -------------------------------------------------------------------------


async def test_entra_accepts_a_valid_v2_token(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    caller = await entra.authenticate(_bearer(_token(idp)))
    assert caller == Caller(user_id=OID, display_name="Ada Lovelace")


async def test_entra_accepts_a_valid_v1_token(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    token = _token(idp, iss=f"https://sts.windows.net/{TENANT}/", aud=CLIENT_ID, ver="1.0")
    caller = await entra.authenticate(_bearer(token))
    assert caller.user_id == OID


async def test_entra_falls_back_to_preferred_username(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    caller = await entra.authenticate(_bearer(_token(idp, name=None)))
    assert caller.display_name == "ada@example.com"


async def test_entra_looks_the_header_up_case_insensitively(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    caller = await entra.authenticate({"authorization": f"bearer {_token(idp)}"})
    assert caller.user_id == OID


async def test_entra_tolerates_clock_skew_within_the_leeway(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    now = int(time.time())
    assert (await entra.authenticate(_bearer(_token(idp, exp=now - 30)))).user_id == OID
    assert (await entra.authenticate(_bearer(_token(idp, nbf=now + 30, iat=now + 30)))).user_id == OID


# --- entra: refused tokens --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "   "}, "missing Authorization header"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer scheme"),
        ({"Authorization": "Bearer"}, "no token"),
        ({"Authorization": "Bearer not-a-jwt"}, "not a JWT"),
        ({"Authorization": "Bearer a.b.c.d"}, "not a JWT"),
        ({"Authorization": "Bearer !!!.???.###"}, "header is malformed"),
        ({"Authorization": f"Bearer {_b64url(b'not json')}.e30.c2ln"}, "header is malformed"),
        ({"Authorization": f"Bearer {_b64url(b'[1, 2]')}.e30.c2ln"}, "header is malformed"),
    ],
)
async def test_entra_refuses_missing_or_malformed_headers(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, headers: dict[str, str], match: str
) -> None:
    with pytest.raises(Unauthenticated, match=match):
        await entra.authenticate(headers)
    assert idp.jwks_requests == 0, "a malformed token must not cost a key fetch"


async def test_entra_refuses_an_expired_token(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    await _rejected(entra, _token(idp, exp=int(time.time()) - 120), "the token has expired")


async def test_entra_refuses_a_token_not_yet_valid(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    await _rejected(entra, _token(idp, nbf=int(time.time()) + 300), "not yet valid")


async def test_entra_refuses_another_audience(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    await _rejected(entra, _token(idp, aud="api://someone-else"), "audience is not accepted")


async def test_entra_refuses_another_issuer(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    other_tenant = "00000000-0000-0000-0000-000000000001"
    await _rejected(entra, _token(idp, iss=f"{idp.url}/{other_tenant}/v2.0"), "issuer is not accepted")
    await _rejected(entra, _token(idp, iss=f"https://sts.windows.net/{other_tenant}/"), "issuer")


async def test_entra_refuses_a_token_without_exp(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    await _rejected(entra, _token(idp, exp=None), "lacks the exp claim")


@pytest.mark.parametrize("oid", [None, "", "not a valid id!", 42])
async def test_entra_refuses_a_token_without_a_valid_oid(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, oid: object
) -> None:
    claims = _claims(idp, oid=None) if oid is None else _claims(idp, oid=oid)
    token = jwt.encode(claims, KEYS["key-a"], algorithm="RS256", headers={"kid": "key-a"})
    await _rejected(entra, token, "no valid oid")


async def test_entra_refuses_an_unknown_signing_key(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    await _rejected(entra, _token(idp, kid="key-unpublished"), "signing key is unknown")


async def test_entra_refuses_a_published_kid_signed_with_another_key(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    token = jwt.encode(_claims(idp), KEYS["key-unpublished"], algorithm="RS256", headers={"kid": "key-a"})
    await _rejected(entra, token, "signature is invalid")


async def test_entra_refuses_alg_none(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": "key-a"}
    token = f"{_b64url_json(header)}.{_b64url_json(_claims(idp))}."
    await _rejected(entra, token, "algorithm is not accepted")
    assert idp.jwks_requests == 0, "refused on its header, before any key is looked up"


async def test_entra_refuses_hs256_signed_with_the_public_key(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    # The classic confusion attack: the public key, which anyone can fetch, used as an HMAC secret.
    pem = (
        KEYS["key-a"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        f"{_b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': 'key-a'})}.{_b64url_json(_claims(idp))}"
    )
    signature = _b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    await _rejected(entra, f"{signing_input}.{signature}", "algorithm is not accepted")
    assert idp.jwks_requests == 0, "refused on its header, before any key is looked up"


async def test_entra_refuses_a_tampered_payload(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    header, _, signature = _token(idp).split(".")
    forged = _b64url_json(_claims(idp, oid="00000000-0000-0000-0000-00000000beef"))
    await _rejected(entra, f"{header}.{forged}.{signature}", "signature is invalid")


# --- entra: key fetching and rotation ---------------------------------------------------------------


async def test_entra_fetches_the_keys_once_for_concurrent_first_requests(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    callers = await asyncio.gather(*(entra.authenticate(_bearer(_token(idp))) for _ in range(10)))
    assert {caller.user_id for caller in callers} == {OID}
    assert (idp.metadata_requests, idp.jwks_requests) == (1, 1)


async def test_entra_refreshes_on_rotation_at_most_once_a_minute(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    await entra.authenticate(_bearer(_token(idp, kid="key-a")))
    assert idp.jwks_requests == 1

    # Entra rotates: a new key appears some time after our first fetch.
    clock.advance(600)
    idp.published = ["key-a", "key-b"]
    assert (await entra.authenticate(_bearer(_token(idp, kid="key-b")))).user_id == OID
    assert idp.jwks_requests == 2
    assert idp.metadata_requests == 1, "the metadata is fetched once, only the key set is refreshed"

    # Another unknown key within the minute: refused without asking the identity provider again.
    idp.published = ["key-a", "key-b", "key-c"]
    clock.advance(59)
    await _rejected(entra, _token(idp, kid="key-c"), "signing key is unknown")
    assert idp.jwks_requests == 2

    clock.advance(1)
    assert (await entra.authenticate(_bearer(_token(idp, kid="key-c")))).user_id == OID
    assert idp.jwks_requests == 3


async def test_entra_refreshes_once_for_concurrent_requests_with_a_new_key(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    await entra.authenticate(_bearer(_token(idp, kid="key-a")))
    clock.advance(60)
    idp.published = ["key-b"]
    callers = await asyncio.gather(
        *(entra.authenticate(_bearer(_token(idp, kid="key-b"))) for _ in range(10))
    )
    assert len(callers) == 10
    assert idp.jwks_requests == 2


async def test_entra_drops_keys_no_longer_published(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    await entra.authenticate(_bearer(_token(idp, kid="key-a")))
    clock.advance(60)
    idp.published = ["key-b"]
    await entra.authenticate(_bearer(_token(idp, kid="key-b")))
    await _rejected(entra, _token(idp, kid="key-a"), "signing key is unknown")


async def test_entra_skips_unusable_keys_in_the_key_set(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    junk: list[Any] = [
        "not a key",
        {"kty": "RSA", "kid": "no-modulus", "use": "sig"},
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {**_public_jwk("key-b"), "use": "enc"},
        {**_public_jwk("key-c"), "kid": 7},
    ]
    idp.jwks_override = json.dumps({"keys": [*junk, _public_jwk("key-a")]})
    assert (await entra.authenticate(_bearer(_token(idp, kid="key-a")))).user_id == OID
    await _rejected(entra, _token(idp, kid="key-b"), "signing key is unknown")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_entra_is_unavailable_when_the_identity_provider_cannot_be_reached(
    idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    authenticator = EntraAuthenticator(TENANT, (AUDIENCE,), f"http://127.0.0.1:{_closed_port()}", clock=clock)
    try:
        with pytest.raises(Unavailable, match="cannot be reached"):
            await authenticator.authenticate(_bearer(_token(idp)))
    finally:
        await authenticator.aclose()


async def test_entra_is_unavailable_when_the_key_set_fails_then_recovers(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    idp.jwks_status = 500
    with pytest.raises(Unavailable, match="answered 500"):
        await entra.authenticate(_bearer(_token(idp)))

    # Right after a failure callers fail fast instead of piling onto a struggling provider.
    idp.jwks_status = 200
    with pytest.raises(Unavailable) as caught:
        await entra.authenticate(_bearer(_token(idp)))
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    assert idp.jwks_requests == 1

    clock.advance(5)
    assert (await entra.authenticate(_bearer(_token(idp)))).user_id == OID
    assert idp.jwks_requests == 2


@pytest.mark.parametrize(
    "body",
    ["this is not json", "[]", '{"keys": "none"}', '{"keys": []}', '{"keys": [{"kty": "RSA", "kid": "x"}]}'],
)
async def test_entra_is_unavailable_when_the_key_set_is_malformed(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, body: str
) -> None:
    idp.jwks_override = body
    with pytest.raises(Unavailable):
        await entra.authenticate(_bearer(_token(idp)))


@pytest.mark.parametrize(
    "metadata", [{"issuer": "x"}, {"jwks_uri": "http://127.0.0.1:1/keys"}, {"jwks_uri": 3}]
)
async def test_entra_is_unavailable_when_the_metadata_is_malformed(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, metadata: dict[str, Any]
) -> None:
    idp.metadata_override = metadata
    with pytest.raises(Unavailable, match="lacks jwks_uri or issuer"):
        await entra.authenticate(_bearer(_token(idp)))


async def test_entra_aclose_is_idempotent(entra: EntraAuthenticator, idp: FakeIdentityProvider) -> None:
    await entra.authenticate(_bearer(_token(idp)))
    await entra.aclose()
    await entra.aclose()


# --- dev --------------------------------------------------------------------------------------------


async def test_dev_accepts_a_dev_token() -> None:
    caller = await DevAuthenticator().authenticate({"authorization": "bearer dev:alice@example.com"})
    assert caller == Caller(user_id="alice@example.com")


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "Basic dev:alice"}, "Bearer scheme"),
        ({"Authorization": "Bearer alice"}, "dev:<userId>"),
        ({"Authorization": "Bearer test:alice"}, "dev:<userId>"),
        ({"Authorization": "Bearer dev:"}, "not a valid user id"),
        ({"Authorization": "Bearer dev:alice smith"}, "not a valid user id"),
        ({"Authorization": "Bearer dev:" + "a" * 129}, "not a valid user id"),
        ({"Authorization": "Bearer dev:al/ice"}, "not a valid user id"),
    ],
)
async def test_dev_refuses_bad_tokens(headers: dict[str, str], match: str) -> None:
    with pytest.raises(Unauthenticated, match=match):
        await DevAuthenticator().authenticate(headers)


# --- easyauth ---------------------------------------------------------------------------------------


def _principal(claims: list[dict[str, str]], name_typ: str | None = None) -> str:
    document: dict[str, Any] = {
        "auth_typ": "aad",
        "claims": claims,
        "name_typ": name_typ,
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


async def test_easyauth_reads_the_object_id_and_name() -> None:
    principal = _principal(
        [{"typ": "name", "val": "Ada Lovelace"}, {"typ": OBJECT_ID_CLAIM, "val": OID}],
        name_typ="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    )
    caller = await EasyAuthAuthenticator().authenticate({"x-ms-client-principal": principal})
    assert caller == Caller(user_id=OID, display_name="Ada Lovelace")


async def test_easyauth_reads_the_roles_under_the_principals_role_type() -> None:
    role_claim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    principal = _principal(
        [
            {"typ": OBJECT_ID_CLAIM, "val": OID},
            {"typ": role_claim, "val": "Operator"},
            {"typ": "roles", "val": "Meetings.User"},
            {"typ": "groups", "val": "not-a-role"},
        ]
    )
    caller = await EasyAuthAuthenticator().authenticate({"x-ms-client-principal": principal})
    assert caller.roles == frozenset({"Operator", "Meetings.User"})


async def test_easyauth_accepts_the_short_oid_claim_and_the_name_typ_claim() -> None:
    email_claim = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    principal = _principal(
        [{"typ": "oid", "val": OID}, {"typ": email_claim, "val": "ada@example.com"}], name_typ=email_claim
    )
    caller = await EasyAuthAuthenticator().authenticate({"X-MS-CLIENT-PRINCIPAL": principal})
    assert caller == Caller(user_id=OID, display_name="ada@example.com")


async def test_easyauth_falls_back_to_the_principal_id_and_name_headers() -> None:
    headers = {
        "X-MS-CLIENT-PRINCIPAL": _principal([{"typ": "ver", "val": "2.0"}]),
        "X-MS-CLIENT-PRINCIPAL-ID": OID,
        "X-MS-CLIENT-PRINCIPAL-NAME": "ada@example.com",
    }
    caller = await EasyAuthAuthenticator().authenticate(headers)
    assert caller == Caller(user_id=OID, display_name="ada@example.com")


async def test_easyauth_accepts_unpadded_base64() -> None:
    principal = _principal([{"typ": "oid", "val": OID}]).rstrip("=")
    caller = await EasyAuthAuthenticator().authenticate({"x-ms-client-principal": principal})
    assert caller.user_id == OID


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({}, "missing X-MS-CLIENT-PRINCIPAL header"),
        ({"X-MS-CLIENT-PRINCIPAL-ID": OID}, "missing X-MS-CLIENT-PRINCIPAL header"),
        ({"X-MS-CLIENT-PRINCIPAL": "***not base64***"}, "not base64-encoded JSON"),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b"{not json").decode()}, "not base64-encoded JSON"),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b"\xff\xfe").decode()}, "not base64-encoded JSON"),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b'"text"').decode()}, "not a client principal"),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b'{"claims": 5}').decode()}, "not a client principal"),
        ({"X-MS-CLIENT-PRINCIPAL": _principal([{"typ": "name", "val": "Ada"}])}, "no object id"),
        (
            {"X-MS-CLIENT-PRINCIPAL": _principal([{"typ": "oid", "val": "has spaces"}])},
            "not a valid user id",
        ),
        (
            {"X-MS-CLIENT-PRINCIPAL": _principal([]), "X-MS-CLIENT-PRINCIPAL-ID": "bad id"},
            "not a valid user id",
        ),
    ],
)
async def test_easyauth_refuses_missing_or_malformed_principals(headers: dict[str, str], match: str) -> None:
    with pytest.raises(Unauthenticated, match=match):
        await EasyAuthAuthenticator().authenticate(headers)


# --- entra: what a token must grant ------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"scp": None, "roles": ["Meetings.Admin"]},  # client credentials: roles, no scp
        {"scp": None},
        {"idtyp": "app"},  # marked app-only even though it carries a scope
    ],
)
async def test_entra_refuses_app_only_tokens(
    entra: EntraAuthenticator, idp: FakeIdentityProvider, overrides: dict[str, Any]
) -> None:
    with pytest.raises(Forbidden, match="app-only"):
        await entra.authenticate(_bearer(_token(idp, **overrides)))


async def test_entra_refuses_a_token_without_the_apis_scope(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    with pytest.raises(Forbidden, match="scope"):
        await entra.authenticate(_bearer(_token(idp, scp="User.Read openid")))


async def test_entra_accepts_the_scope_among_others(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    caller = await entra.authenticate(_bearer(_token(idp, scp="openid user_impersonation profile")))
    assert caller.user_id == OID


async def test_entra_accepts_an_app_role_assigned_to_the_user(
    idp: FakeIdentityProvider, clock: FakeClock
) -> None:
    authenticator = EntraAuthenticator(
        TENANT, (AUDIENCE,), idp.url, scopes=(), roles=("Meetings.User",), clock=clock
    )
    try:
        token = _token(idp, scp="openid", roles=["Meetings.User"])
        assert (await authenticator.authenticate(_bearer(token))).user_id == OID
        with pytest.raises(Forbidden):
            await authenticator.authenticate(_bearer(_token(idp, scp="openid", roles=["Other"])))
    finally:
        await authenticator.aclose()


async def test_entra_hands_the_users_app_roles_to_the_app(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    caller = await entra.authenticate(_bearer(_token(idp, roles=["Operator", 7])))
    assert caller.roles == frozenset({"Operator"})
    assert (await entra.authenticate(_bearer(_token(idp)))).roles == frozenset()


@pytest.mark.parametrize(
    "authority", ["http://login.microsoftonline.com", "http://10.0.0.1", "ftp://127.0.0.1", "login.example"]
)
def test_entra_refuses_an_authority_that_is_not_https(authority: str) -> None:
    with pytest.raises(ValueError, match="https"):
        EntraAuthenticator(TENANT, (AUDIENCE,), authority)
    with pytest.raises(ConfigurationError, match="https"):
        Settings(auth_mode="entra", auth_tenant_id=TENANT, auth_audience=AUDIENCE, auth_authority=authority)


def test_a_loopback_http_authority_is_refused_when_hosted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSITE_SITE_NAME", "app")
    with pytest.raises(ConfigurationError, match="https"):
        Settings(
            auth_mode="entra",
            auth_tenant_id=TENANT,
            auth_audience=AUDIENCE,
            auth_authority="http://127.0.0.1:9",
            signing_key="k" * 32,
        )


async def test_entra_refuses_keys_published_over_plain_http(
    entra: EntraAuthenticator, idp: FakeIdentityProvider
) -> None:
    idp.metadata_override = {"issuer": f"{idp.url}/{{tenantid}}/v2.0", "jwks_uri": "http://keys.example/keys"}
    with pytest.raises(Unavailable, match="https"):
        await entra.authenticate(_bearer(_token(idp)))


# --- build_authenticator ----------------------------------------------------------------------------


@pytest.fixture
def outside_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSITE_INSTANCE_ID", raising=False)


@pytest.mark.usefixtures("outside_azure")
@pytest.mark.parametrize(
    ("mode", "expected"), [("dev", DevAuthenticator), ("easyauth", EasyAuthAuthenticator)]
)
async def test_build_authenticator_picks_the_class_of_the_mode(mode: str, expected: type[object]) -> None:
    authenticator = build_authenticator(Settings(auth_mode=mode))
    assert type(authenticator) is expected
    await authenticator.aclose()


@pytest.mark.usefixtures("outside_azure")
async def test_build_authenticator_builds_an_entra_authenticator(idp: FakeIdentityProvider) -> None:
    settings = Settings(
        auth_mode="entra",
        auth_tenant_id=TENANT,
        auth_audience=f"{AUDIENCE}, {CLIENT_ID}",
        auth_authority=idp.url,
    )
    authenticator = build_authenticator(settings)
    try:
        assert isinstance(authenticator, EntraAuthenticator)
        token = _token(idp, aud=CLIENT_ID)
        assert (await authenticator.authenticate(_bearer(token))).user_id == OID
    finally:
        await authenticator.aclose()


def test_the_auth_module_does_not_import_the_entra_dependencies() -> None:
    # A fresh interpreter: this test process has imported everything already.
    script = (
        "import sys, shared.auth; "
        "heavy = sorted(m for m in ('jwt', 'cryptography', 'aiohttp', 'shared.entra') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
