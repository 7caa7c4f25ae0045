"""Validation of Entra ID access tokens against the tenant's published signing keys.

The keys come from the tenant's OpenID metadata (its `jwks_uri`) and are cached by key id. Entra
rotates keys without notice, so a token with an unknown key id triggers a refresh; refreshes are
rate-limited so that tokens with made-up key ids cannot make us hammer the identity provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from shared.auth import Caller, bearer_token
from shared.authority import is_loopback, trusted_key_source
from shared.domain.errors import Forbidden, Unauthenticated, Unavailable
from shared.domain.ids import is_valid_user_id

logger = logging.getLogger(__name__)

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
# The delegated scope an app registration's "Expose an API" page suggests; AUTH_SCOPES changes it.
DEFAULT_SCOPES = ("user_impersonation",)
# Entra signs access tokens with RS256 only; pinning it refuses `none` and HMAC-with-the-public-key.
ALGORITHMS = ("RS256",)
# Checked in this order: the specific errors subclass the generic ones.
_REJECTIONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not yet valid"),
    (jwt.InvalidAudienceError, "the token's audience is not accepted"),
    (jwt.InvalidIssuerError, "the token's issuer is not accepted"),
    (jwt.InvalidIssuedAtError, "the token's iat claim is not a time"),
    (jwt.InvalidSignatureError, "the token's signature is invalid"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.DecodeError, "the token is malformed"),
)


class EntraAuthenticator:
    def __init__(
        self,
        tenant_id: str,
        audiences: Sequence[str],
        authority: str = DEFAULT_AUTHORITY,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        roles: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
        leeway: float = 60,
        refresh_interval: float = 60,
        failure_backoff: float = 5,
        http_timeout: float = 10,
    ) -> None:
        if not tenant_id or not audiences:
            raise ValueError("an Entra authenticator needs a tenant id and at least one audience")
        if not scopes and not roles:
            raise ValueError("an Entra authenticator needs a scope or an app role to require")
        if not trusted_key_source(authority):
            raise ValueError(f"the Entra authority must be an https:// URL, not {authority!r}")
        self._tenant_id = tenant_id
        self._scopes = frozenset(scopes)
        self._roles = frozenset(roles)
        self._authority_is_loopback = is_loopback(authority)
        self._audiences = tuple(audiences)
        self._metadata_url = f"{authority.rstrip('/')}/{tenant_id}/v2.0/.well-known/openid-configuration"
        self._clock = clock
        self._leeway = leeway
        self._refresh_interval = refresh_interval
        self._failure_backoff = failure_backoff
        self._http_timeout = http_timeout
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()
        self._jwks_uri: str | None = None
        self._issuers: frozenset[str] = frozenset()
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        token = bearer_token(headers)
        kid = _key_id(token)
        key = await self._key_for(kid)
        claims = self._decode(token, key)
        self._check_permission(claims)
        return _caller_from(claims)

    def _check_permission(self, claims: Mapping[str, Any]) -> None:
        """A user's token for this API: its delegated scope, or an app role of ours assigned to the user.

        An app-only token (client credentials: no `scp`, or `idtyp` app) acts for no user, and every route
        here acts for one: refused, whatever roles it holds. A token for another of the tenant's scopes
        of this audience is refused too (least privilege).
        """
        scp, idtyp = claims.get("scp"), claims.get("idtyp")
        if not isinstance(scp, str) or idtyp == "app":
            raise Forbidden("app-only tokens are not accepted: sign in as a user")
        granted = set(scp.split())
        roles = claims.get("roles")
        assigned = {r for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()
        if not (granted & self._scopes or assigned & self._roles):
            raise Forbidden("the token does not grant this API's scope")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self._audiences,
                issuer=self._issuers,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the token lacks the {error.claim} claim") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(_describe(error)) from None

    async def _key_for(self, kid: str) -> RSAPublicKey:
        key = self._keys.get(kid)
        if key is None:
            await self._refresh(kid)
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("the token's signing key is unknown")
        return key

    async def _refresh(self, kid: str) -> None:
        # Single flight: whoever waited on the lock finds the keys the first caller fetched.
        async with self._lock:
            now = self._clock()
            if kid in self._keys:
                return
            if self._fetched_at is not None and now - self._fetched_at < self._refresh_interval:
                # %r and a cut: the key id is the caller's text, it must not forge log lines.
                logger.debug("unknown signing key id %r; the keys were refreshed too recently", kid[:64])
                return
            if self._failed_at is not None and now - self._failed_at < self._failure_backoff:
                retry_after = self._failure_backoff - (now - self._failed_at)
                raise Unavailable("the identity provider's signing keys are unavailable", retry_after)
            try:
                await self._fetch_keys()
            except Unavailable:
                self._failed_at = now
                raise
            self._fetched_at = now
            self._failed_at = None

    async def _fetch_keys(self) -> None:
        if self._jwks_uri is None:
            metadata = await self._get_json(self._metadata_url)
            jwks_uri, self._issuers = _read_metadata(metadata, self._tenant_id)
            # The keys decide whom we trust: never over plain HTTP (a loopback test provider excepted).
            if not trusted_key_source(jwks_uri, allow_loopback_http=self._authority_is_loopback):
                raise Unavailable("the identity provider's jwks_uri is not https")
            self._jwks_uri = jwks_uri
        self._keys = _read_jwks(await self._get_json(self._jwks_uri))
        logger.info("fetched %s signing keys from %s", len(self._keys), self._jwks_uri)

    async def _get_json(self, url: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._http_timeout))
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    logger.warning("the identity provider answered %s for %s", response.status, url)
                    raise Unavailable(f"the identity provider answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("cannot fetch %s: %s", url, type(error).__name__)
            raise Unavailable("the identity provider cannot be reached") from None


def _key_id(token: str) -> str:
    """Reads the unverified header, refusing every algorithm but RS256 before any key is looked up."""
    if token.count(".") != 2:
        raise Unauthenticated("the token is not a JWT")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthenticated("the token's header is malformed") from None
    if header.get("alg") not in ALGORITHMS:
        raise Unauthenticated("the token's algorithm is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("the token has no key id")
    return kid


def _describe(error: jwt.InvalidTokenError) -> str:
    for error_type, detail in _REJECTIONS:
        if isinstance(error, error_type):
            return detail
    return "the token is not valid"


def _caller_from(claims: Mapping[str, Any]) -> Caller:
    oid = claims.get("oid")
    if not isinstance(oid, str) or not is_valid_user_id(oid):
        raise Unauthenticated("the token has no valid oid claim")
    name = claims.get("name") or claims.get("preferred_username")
    roles = claims.get("roles")
    held = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()
    return Caller(user_id=oid, display_name=name if isinstance(name, str) else None, roles=held)


def _read_metadata(metadata: Any, tenant_id: str) -> tuple[str, frozenset[str]]:
    """The JWKS address and the accepted issuers.

    v2 tokens carry the metadata's issuer; v1 tokens (an API whose manifest keeps
    accessTokenAcceptedVersion at null or 1) carry the sts.windows.net one.
    """
    if not isinstance(metadata, dict):
        raise Unavailable("the identity provider's metadata is malformed")
    jwks_uri, issuer = metadata.get("jwks_uri"), metadata.get("issuer")
    if not isinstance(jwks_uri, str) or not jwks_uri or not isinstance(issuer, str) or not issuer:
        raise Unavailable("the identity provider's metadata lacks jwks_uri or issuer")
    v2_issuer = issuer.replace("{tenantid}", tenant_id)
    return jwks_uri, frozenset({v2_issuer, f"https://sts.windows.net/{tenant_id}/"})


def _read_jwks(document: Any) -> dict[str, RSAPublicKey]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise Unavailable("the identity provider's key set is malformed")
    keys: dict[str, RSAPublicKey] = {}
    for jwk in document["keys"]:
        key = _read_jwk(jwk)
        if key is not None:
            keys[jwk["kid"]] = key
    if not keys:
        raise Unavailable("the identity provider publishes no usable signing key")
    return keys


def _read_jwk(jwk: Any) -> RSAPublicKey | None:
    """An RSA signing key, or None for a key we cannot or must not use (skipped, not fatal)."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("kty") != "RSA":
        return None
    if jwk.get("use", "sig") != "sig":
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (jwt.InvalidKeyError, ValueError, TypeError):
        logger.warning("skipping the malformed signing key %r", jwk["kid"][:64])
        return None
    return key if isinstance(key, RSAPublicKey) else None
