"""Which Entra authority (and key-set address) may be trusted: https, or plain http on loopback only.

Tokens are trusted on the keys the authority publishes, so those must not travel over plain HTTP. A
loopback address is the exception: tests and local identity providers run there and no network is
crossed. Kept free of heavy imports: Settings checks it at start.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    try:
        return urlsplit(url).hostname in _LOOPBACK_HOSTS
    except ValueError:
        return False


def trusted_key_source(url: str, *, allow_loopback_http: bool = True) -> bool:
    if url.startswith("https://"):
        return True
    return allow_loopback_http and url.startswith("http://") and is_loopback(url)
