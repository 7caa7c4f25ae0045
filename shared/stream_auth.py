"""Who may open the captions service's WebSocket (and post to its callback): ACS, for our resource.

ACS documents it ("How to secure webhook endpoints and websocket connections"): every WebSocket connection
request Call Automation makes carries a signed JWT in its Authorization header (a new one per connection,
valid 24 hours), validated as any OpenID Connect token: the keys from Call Automation's OpenID
configuration (`https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration`),
its issuer, and the audience the ACS resource's immutable resource id. Its mid-call webhook events carry
the same kind of token. The URL itself names the meeting and the captions' recording, and the service
checks that they are a captions session it started: the token says ACS sent it, the URL says which call.

Locally the ACS stand-in signs such a token (HS256, with a key derived from the app's signing key, issuer
`video-signaling-local-acs`, audience the stand-in's resource id), so the same check runs on the same
code path offline.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

import jwt

from shared.auth import bearer_token
from shared.domain.errors import Unauthenticated

ACS_OPENID_CONFIGURATION = (
    "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration"
)
LOCAL_ISSUER = "video-signaling-local-acs"
STREAM_TOKEN_LIFETIME = timedelta(hours=24)  # what ACS's tokens live
_LOCAL_PURPOSE = b"local-acs-stream-token"


class StreamAuthenticator(Protocol):
    async def verify(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """The token's claims; Unauthenticated when the request is not ACS's for our resource."""
        ...

    async def aclose(self) -> None: ...


def _local_key(signing_key: bytes) -> bytes:
    # Derived: a token for the stream is never a continuation token nor an upload signature, nor the reverse.
    return hmac.new(signing_key, _LOCAL_PURPOSE, hashlib.sha256).digest()


def sign_local_stream_token(
    signing_key: bytes, audience: str, *, lifetime: timedelta = STREAM_TOKEN_LIFETIME
) -> str:
    """What the local ACS stand-in sends in the Authorization header of its connections and callbacks."""
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + int(lifetime.total_seconds()),
    }
    return jwt.encode(claims, _local_key(signing_key), algorithm="HS256")


class LocalStreamAuthenticator:
    def __init__(self, signing_key: bytes, audience: str, *, leeway: float = 60) -> None:
        self._key = _local_key(signing_key)
        self._audience = audience
        self._leeway = leeway

    async def verify(self, headers: Mapping[str, str]) -> dict[str, Any]:
        return _decode(
            bearer_token(headers), self._key, ["HS256"], self._audience, {LOCAL_ISSUER}, self._leeway
        )

    async def aclose(self) -> None:
        return None


class AcsStreamAuthenticator:
    """ACS's tokens: RS256 from the keys its OpenID configuration names, cached and refreshed (rate
    limited) when a token names a key id we do not know."""

    def __init__(
        self,
        audience: str,
        *,
        configuration_url: str = ACS_OPENID_CONFIGURATION,
        clock: Callable[[], float] = time.monotonic,
        refresh_interval: float = 60,
        leeway: float = 60,
        ssl_context: Any = None,
    ) -> None:
        """`ssl_context`: what the key fetches trust (tests: a local CA); None: the system's CAs."""
        self._ssl = ssl_context
        self._audience = audience
        self._configuration_url = configuration_url
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._leeway = leeway
        self._keys: dict[str, Any] = {}
        self._issuers: frozenset[str] = frozenset()
        self._fetched_at: float | None = None
        self._session: Any = None

    async def verify(self, headers: Mapping[str, str]) -> dict[str, Any]:
        token = bearer_token(headers)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token's header is malformed") from None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Unauthenticated("the token's algorithm or key id is not accepted")
        kid = header["kid"]
        if kid not in self._keys and (
            self._fetched_at is None or self._clock() - self._fetched_at >= self._refresh_interval
        ):
            await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("the token's signing key is unknown")
        return _decode(token, key, ["RS256"], self._audience, set(self._issuers), self._leeway)

    async def _fetch(self) -> None:
        import aiohttp  # noqa: PLC0415

        from shared.domain.errors import Unavailable  # noqa: PLC0415
        from shared.entra import _read_jwks  # noqa: PLC0415 - the same JWK rules as Entra's keys

        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._ssl) if self._ssl is not None else None
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=10), connector=connector
            )

        async def get(url: str) -> Any:
            if not url.startswith("https://"):
                raise Unavailable("ACS's key source is not https")
            try:
                async with self._session.get(url) as response:
                    if response.status != 200:
                        raise Unavailable(f"ACS's OpenID configuration answered {response.status}")
                    return await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                raise Unavailable("ACS's OpenID configuration cannot be reached") from None

        configuration = await get(self._configuration_url)
        if not isinstance(configuration, dict) or not isinstance(configuration.get("jwks_uri"), str):
            raise Unavailable("ACS's OpenID configuration lacks jwks_uri")
        issuer = configuration.get("issuer")
        self._issuers = frozenset({issuer} if isinstance(issuer, str) and issuer else set())
        self._keys = dict(_read_jwks(await get(configuration["jwks_uri"])))
        self._fetched_at = self._clock()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _decode(  # noqa: PLR0917 - one private helper, called twice
    token: str, key: Any, algorithms: list[str], audience: str, issuers: set[str], leeway: float
) -> dict[str, Any]:
    if not issuers:
        raise Unauthenticated("no issuer is trusted yet")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=list(issuers),
            leeway=leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("the token is for another resource") from None
    except jwt.InvalidTokenError as error:
        raise Unauthenticated(f"the token is not valid: {type(error).__name__}") from None
    return claims
