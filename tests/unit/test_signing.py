"""Signed opaque tokens: what is signed verifies, and nothing else does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from shared.signing import BadSignature, Signer

KEY = b"k" * 32


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mac_for(key: bytes, purpose: str, body: str) -> str:
    """The MAC the scheme defines, computed independently: HMAC(HMAC(key, purpose), body)."""
    derived = hmac.new(key, purpose.encode(), hashlib.sha256).digest()
    return b64(hmac.new(derived, body.encode(), hashlib.sha256).digest())


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY, "continuation")


def test_round_trip(signer: Signer) -> None:
    payload = {"u": "alice", "f": None, "t": "2026-11-25T10:00:00Z", "c": '["x", "y"]', "n": 3}
    token = signer.sign(payload)
    assert signer.verify(token) == payload
    # URL-safe and unpadded: it travels in a query string as it is.
    assert token.isascii()
    assert not set(token) & set("+/= ")


def test_round_trip_of_non_ascii_values(signer: Signer) -> None:
    payload = {"u": "j\u00fcrgen", "c": "\u2603"}
    assert signer.verify(signer.sign(payload)) == payload


def test_signing_is_deterministic_and_key_order_free(signer: Signer) -> None:
    assert signer.sign({"a": 1, "b": 2}) == signer.sign({"b": 2, "a": 1})
    assert signer.sign({"a": 1}) != signer.sign({"a": 2})


def test_tampered_body_is_refused(signer: Signer) -> None:
    token = signer.sign({"u": "alice", "c": "page-2"})
    _, mac = token.split(".")
    forged = b64(json.dumps({"u": "mallory", "c": "page-2"}, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(BadSignature):
        signer.verify(f"{forged}.{mac}")


def test_tampered_mac_is_refused(signer: Signer) -> None:
    token = signer.sign({"u": "alice"})
    body, mac = token.split(".")
    flipped = ("B" if mac[0] == "A" else "A") + mac[1:]
    for bad in (f"{body}.{flipped}", f"{body}.", f"{body}.{mac}x", f"{body}.{mac[:-1]}", body):
        with pytest.raises(BadSignature):
            signer.verify(bad)


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "..", "\u00fc\u00df.\u2603", "eyJ1IjoiYSJ9.\u00e9\u00e9\u00e9", "\x00.\x00", "a" * 5000],
)
def test_garbage_is_bad_signature(signer: Signer, garbage: str) -> None:
    with pytest.raises(BadSignature):
        signer.verify(garbage)


def test_keys_per_purpose_do_not_verify_each_other() -> None:
    continuation = Signer(KEY, "continuation")
    upload = Signer(KEY, "upload")
    token = continuation.sign({"u": "alice"})
    with pytest.raises(BadSignature):
        upload.verify(token)
    with pytest.raises(BadSignature):
        continuation.verify(upload.sign({"u": "alice"}))


def test_another_key_does_not_verify() -> None:
    token = Signer(KEY, "continuation").sign({"u": "alice"})
    with pytest.raises(BadSignature):
        Signer(b"j" * 32, "continuation").verify(token)


def test_mac_is_the_documented_scheme(signer: Signer) -> None:
    token = signer.sign({"u": "alice"})
    body, mac = token.split(".")
    assert mac == mac_for(KEY, "continuation", body)
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == {"u": "alice"}


def test_correctly_signed_non_json_is_refused(signer: Signer) -> None:
    body = b64(b"not json at all")
    with pytest.raises(BadSignature, match="not JSON"):
        signer.verify(f"{body}.{mac_for(KEY, 'continuation', body)}")


@pytest.mark.parametrize("value", [[1, 2], "text", 3, None])
def test_correctly_signed_non_object_is_refused(signer: Signer, value: object) -> None:
    body = b64(json.dumps(value).encode())
    with pytest.raises(BadSignature, match="not an object"):
        signer.verify(f"{body}.{mac_for(KEY, 'continuation', body)}")


def test_correctly_signed_undecodable_body_is_refused(signer: Signer) -> None:
    body = "\u00fc\u00fc\u00fc"
    with pytest.raises(BadSignature):
        signer.verify(f"{body}.{mac_for(KEY, 'continuation', body)}")
