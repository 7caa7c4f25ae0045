"""Who is calling: turns request headers into a Caller, in the mode AUTH_MODE names.

- dev: `Authorization: Bearer dev:<userId>`, trusted as is (refused in Azure by Settings).
- easyauth: App Service authentication validated the caller and injected `X-MS-CLIENT-PRINCIPAL`.
- entra: we validate the Entra ID access token ourselves (shared/entra.py).

This module is imported on every cold start, so it stays light: PyJWT, cryptography and aiohttp are
only imported by shared/entra.py, and that only when the entra mode is chosen.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.domain.errors import Unauthenticated
from shared.domain.ids import is_valid_user_id

if TYPE_CHECKING:  # pydantic-settings is not paid for at cold start: Settings is built lazily
    from shared.config import Settings

logger = logging.getLogger(__name__)

DEV_PREFIX = "dev:"
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
PRINCIPAL_ID_HEADER = "X-MS-CLIENT-PRINCIPAL-ID"
PRINCIPAL_NAME_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"
# App Service writes the object id under its long claim type; some providers use the short one.
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    display_name: str | None = None
    # The app roles the identity provider says the user holds (Entra's `roles` claim), e.g. Operator.
    roles: frozenset[str] = frozenset()


class Authenticator(Protocol):
    async def authenticate(self, headers: Mapping[str, str]) -> Caller: ...

    async def aclose(self) -> None: ...


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup: the Functions worker lower-cases names, plain dicts in tests may not."""
    value = headers.get(name.lower())
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def bearer_token(headers: Mapping[str, str]) -> str:
    value = get_header(headers, "Authorization")
    if value is None or not value.strip():
        raise Unauthenticated("missing Authorization header")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated("the Authorization header must use the Bearer scheme")
    token = token.strip()
    if not token:
        raise Unauthenticated("the Authorization header has no token")
    return token


class DevAuthenticator:
    """Local development only: the token names the user, nothing proves it."""

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        token = bearer_token(headers)
        if not token.startswith(DEV_PREFIX):
            raise Unauthenticated(f"a dev token must look like {DEV_PREFIX}<userId>")
        user_id = token.removeprefix(DEV_PREFIX)
        if not is_valid_user_id(user_id):
            raise Unauthenticated("the dev token's user id is not a valid user id")
        return Caller(user_id=user_id)

    async def aclose(self) -> None:
        return None


class EasyAuthAuthenticator:
    """Trusts the principal App Service injects.

    Safe only behind App Service authentication, which strips these headers from incoming requests
    and sets them itself; it is never enabled by default for that reason.
    """

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        encoded = get_header(headers, PRINCIPAL_HEADER)
        if encoded is None or not encoded.strip():
            raise Unauthenticated(f"missing {PRINCIPAL_HEADER} header")
        claims, name_type, role_type = _decode_principal(encoded.strip())
        user_id = _first_claim(claims, OBJECT_ID_CLAIMS) or get_header(headers, PRINCIPAL_ID_HEADER)
        if not user_id:
            raise Unauthenticated("the client principal carries no object id")
        if not is_valid_user_id(user_id):
            raise Unauthenticated("the client principal's object id is not a valid user id")
        name_claims = ("name", name_type) if name_type else ("name",)
        display_name = _first_claim(claims, name_claims) or get_header(headers, PRINCIPAL_NAME_HEADER)
        role_types = {"roles", role_type} if role_type else {"roles"}
        roles = frozenset(value for claim_type, value in claims if claim_type in role_types and value)
        return Caller(user_id=user_id, display_name=display_name or None, roles=roles)

    async def aclose(self) -> None:
        return None


def _decode_principal(encoded: str) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """Returns the (type, value) claims, and the name and role claim types, of a client principal."""
    # Tolerate missing padding and the URL-safe alphabet: proxies in front have been seen to alter both.
    normalized = encoded.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        document: Any = json.loads(base64.b64decode(normalized, validate=True))
    except (binascii.Error, ValueError):
        raise Unauthenticated(f"the {PRINCIPAL_HEADER} header is not base64-encoded JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("claims", []), list):
        raise Unauthenticated(f"the {PRINCIPAL_HEADER} header is not a client principal")
    claims = [
        (claim["typ"], claim["val"])
        for claim in document.get("claims", [])
        if isinstance(claim, dict) and isinstance(claim.get("typ"), str) and isinstance(claim.get("val"), str)
    ]
    name_type, role_type = document.get("name_typ"), document.get("role_typ")
    return (
        claims,
        name_type if isinstance(name_type, str) and name_type else None,
        role_type if isinstance(role_type, str) and role_type else None,
    )


def _first_claim(claims: list[tuple[str, str]], types: tuple[str, ...]) -> str | None:
    """The value of the first claim type in `types` (in that order of preference) that is present."""
    for wanted in types:
        for claim_type, value in claims:
            if claim_type == wanted and value:
                return value
    return None


def build_authenticator(settings: Settings) -> Authenticator:
    if settings.auth_mode == "dev":
        logger.warning("AUTH_MODE=dev: callers are trusted without proof; never use this outside a laptop")
        return DevAuthenticator()
    if settings.auth_mode == "easyauth":
        return EasyAuthAuthenticator()
    if not settings.auth_tenant_id or not settings.audiences:
        from shared.config import ConfigurationError  # noqa: PLC0415

        raise ConfigurationError("AUTH_MODE=entra needs AUTH_TENANT_ID and AUTH_AUDIENCE")
    # Imported here so that the dev and easyauth modes never pay for PyJWT, cryptography and aiohttp.
    from shared.entra import EntraAuthenticator  # noqa: PLC0415

    return EntraAuthenticator(
        tenant_id=settings.auth_tenant_id,
        audiences=settings.audiences,
        authority=settings.auth_authority,
        scopes=settings.scopes,
        roles=settings.roles,
    )
