"""Who may open the captions WebSocket: ACS's signed tokens for our resource (OpenID Connect keys from a
local HTTPS stand-in for Call Automation's configuration), and the local stand-in's own tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.domain.errors import Unauthenticated
from shared.stream_auth import (
    AcsStreamAuthenticator,
    LocalStreamAuthenticator,
    sign_local_stream_token,
)
from tests.https_site import HttpsSite

RESOURCE = "b0e3d0b1-0000-4000-8000-00000000acs1"
ISSUER = "https://acscallautomation.communication.azure.com"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER = _key(), _key()


def _token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": RESOURCE, "iat": now, "nbf": now, "exp": now + 3600, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def acs() -> AsyncIterator[AcsStreamAuthenticator]:
    site = HttpsSite("acs-openid")
    fetches: list[str] = []

    async def configuration(request: web.Request) -> web.Response:
        fetches.append("configuration")
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"https://127.0.0.1:{site.port}/keys"})

    async def keys(request: web.Request) -> web.Response:
        fetches.append("keys")
        jwk = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        return web.json_response({"keys": [{**jwk, "kid": "k1", "use": "sig"}]})

    app = web.Application()
    app.add_routes(
        [web.get("/calling/.well-known/acsopenidconfiguration", configuration), web.get("/keys", keys)]
    )
    await site.start(app)
    authenticator = AcsStreamAuthenticator(
        RESOURCE,
        configuration_url=f"https://127.0.0.1:{site.port}/calling/.well-known/acsopenidconfiguration",
        ssl_context=site.client_ssl_context,
    )
    authenticator.fetches = fetches  # type: ignore[attr-defined]
    try:
        yield authenticator
    finally:
        await authenticator.aclose()
        await site.stop()


async def test_acs_token_for_our_resource_is_accepted(acs: AcsStreamAuthenticator) -> None:
    claims = await acs.verify({"Authorization": f"Bearer {_token()}"})
    assert claims["aud"] == RESOURCE
    await acs.verify({"Authorization": f"Bearer {_token()}"})
    assert acs.fetches == ["configuration", "keys"]  # type: ignore[attr-defined]  # keys cached


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: _token(aud="another-acs-resource"), id="another resource"),
        pytest.param(lambda: _token(iss="https://attacker.example"), id="another issuer"),
        pytest.param(lambda: _token(key=OTHER), id="signed by another key"),
        pytest.param(lambda: _token(kid="unknown"), id="unknown key id"),
        pytest.param(lambda: _token(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(
            lambda: jwt.encode(
                {"aud": RESOURCE, "iss": ISSUER, "exp": 2**31},
                "a secret of thirty-two bytes or more",
                algorithm="HS256",
                headers={"kid": "k1"},
            ),
            id="HS256",
        ),
        pytest.param(lambda: "not-a-jwt", id="not a JWT"),
    ],
)
async def test_anything_else_is_refused(acs: AcsStreamAuthenticator, token: Any) -> None:
    with pytest.raises(Unauthenticated):
        await acs.verify({"Authorization": f"Bearer {token()}"})


async def test_no_token_is_refused(acs: AcsStreamAuthenticator) -> None:
    with pytest.raises(Unauthenticated):
        await acs.verify({})


async def test_the_local_stand_ins_tokens() -> None:
    key = b"the app's signing key, 32 bytes at least"
    local = LocalStreamAuthenticator(key, "local-resource")
    good = sign_local_stream_token(key, "local-resource")
    assert (await local.verify({"Authorization": f"Bearer {good}"}))["aud"] == "local-resource"
    for token in (
        sign_local_stream_token(b"another app's signing key, 32 bytes", "local-resource"),
        sign_local_stream_token(key, "another-resource"),
        jwt.encode(
            {"iss": "video-signaling-local-acs", "aud": "local-resource", "exp": 2**31},
            key,  # the app's key itself, not the key derived from it for streams
            algorithm="HS256",
        ),
    ):
        with pytest.raises(Unauthenticated):
            await local.verify({"Authorization": f"Bearer {token}"})
