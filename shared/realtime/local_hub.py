"""What the embedded realtime adapter and devhost's Web PubSub-compatible endpoint share in one process.

devhost serves the app in its own process, so the app's adapter reaches devhost's endpoint through a hub
object devhost registers here (as the app's embedded blob store and devhost's upload route share the files
under DATA_DIR). Client access tokens are what the service issues: a JWT (HS256 here, with a key kept
under DATA_DIR) with `aud` the client URL, `sub` the user id, and the `role` and `webpubsub.group` claims.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from shared.secrets_files import local_key

log = logging.getLogger(__name__)

# The subprotocols of Web PubSub's JSON clients: `@azure/web-pubsub-client` speaks the reliable one by
# default (sequence ids it acknowledges), the plain one on request.
JSON_PROTOCOL = "json.webpubsub.azure.v1"
RELIABLE_JSON_PROTOCOL = "json.reliable.webpubsub.azure.v1"
CLIENT_PATH = "/client/hubs/"
KEY_FILE = "webpubsub.key"
GROUP_CLAIM = "webpubsub.group"


class LocalHubBackend(Protocol):
    """The endpoint's side: its connections, by user and by group."""

    async def send_to_group(self, hub: str, group: str, message: dict[str, object]) -> None: ...

    async def send_to_user(self, hub: str, user_id: str, message: dict[str, object]) -> None: ...

    async def add_user_to_group(self, hub: str, group: str, user_id: str) -> None: ...

    async def remove_user_from_group(self, hub: str, group: str, user_id: str) -> None: ...


_backend: LocalHubBackend | None = None


def register(backend: LocalHubBackend) -> None:
    global _backend  # noqa: PLW0603 - one endpoint per process, as one devhost serves one app
    _backend = backend


def unregister(backend: LocalHubBackend) -> None:
    global _backend  # noqa: PLW0603
    if _backend is backend:
        _backend = None


def current() -> LocalHubBackend | None:
    return _backend


def token_key(data_dir: Path) -> bytes:
    return local_key(data_dir, KEY_FILE)


@dataclass(frozen=True, slots=True)
class ClientClaims:
    user_id: str | None
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    expires_at: float


def client_url_base(public_base_url: str, hub: str) -> str:
    """`ws://host:port/client/hubs/<hub>` from devhost's `http://host:port` (wss from https)."""
    base = public_base_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{CLIENT_PATH}{hub}"


def sign_client_token(
    key: bytes,
    audience: str,
    user_id: str,
    *,
    groups: Sequence[str],
    roles: Sequence[str],
    lifetime: timedelta,
) -> tuple[str, float]:
    """A client access token as the service issues them; (token, expiry in epoch seconds)."""
    import jwt  # noqa: PLC0415 - only the embedded hub needs it, at its first negotiate

    now = time.time()
    expires = now + lifetime.total_seconds()
    claims: dict[str, object] = {"aud": audience, "sub": user_id, "iat": int(now), "exp": int(expires)}
    if roles:
        claims["role"] = list(roles)
    if groups:
        claims[GROUP_CLAIM] = list(groups)
    return jwt.encode(claims, key, algorithm="HS256"), expires


def verify_client_token(key: bytes, token: str, audience_path: str) -> ClientClaims:
    """The claims of a token this process's key signed for a client URL whose path is `audience_path`
    (the host may be named differently by the client: localhost or 127.0.0.1). ValueError if not."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    import jwt  # noqa: PLC0415

    try:
        claims = jwt.decode(
            token, key, algorithms=["HS256"], options={"verify_aud": False, "require": ["exp"]}
        )
    except jwt.PyJWTError as exc:
        raise ValueError(f"the access token is not valid: {exc}") from None
    audience = claims.get("aud")
    if not isinstance(audience, str) or urlsplit(audience).path.rstrip("/") != audience_path.rstrip("/"):
        raise ValueError("the access token is for another hub")

    def strings(name: str) -> tuple[str, ...]:
        value = claims.get(name)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        return ()

    sub = claims.get("sub")
    return ClientClaims(
        user_id=sub if isinstance(sub, str) and sub else None,
        roles=strings("role"),
        groups=strings(GROUP_CLAIM),
        expires_at=float(claims["exp"]),
    )
