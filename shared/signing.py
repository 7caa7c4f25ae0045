"""Tamper-proof opaque tokens: JSON payload plus an HMAC-SHA256 over it.

Continuation tokens are signed so a caller can neither forge one nor point it at someone else's list
(the caller and the filters are inside the signed payload).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        # A key per purpose: a token minted for one use is never valid for another.
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def sign(self, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> dict[str, Any]:
        body, dot, mac = token.partition(".")
        if not dot or not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise BadSignature("signature does not match")
        try:
            payload = json.loads(_unb64(body))
        except ValueError as exc:
            raise BadSignature("payload is not JSON") from exc
        if not isinstance(payload, dict):
            raise BadSignature("payload is not an object")
        return payload

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
