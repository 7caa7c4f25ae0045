"""Which browser origins may call this app from another origin (CORS), and the headers that say so.

Pure: no HTTP framework. devhost answers preflights and decorates responses with it; in Azure the Function
App's own CORS setting (`siteConfig.cors`, set by infra/ from the same list as ALLOWED_ORIGINS) does.

An allowed origin is exact (`https://app.example.com`, `http://localhost:5173`): no `*`, no path, no
pattern. The web client authenticates with a bearer token, never with cookies, so credentials are not
allowed: a page on another origin gets nothing a plain `fetch` without the user's token could not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# What the web client sends: its token, JSON bodies, the ETag of an edit, and the Put Blob headers of an
# upload (to devhost's upload route locally; Blob storage's own CORS rule covers the SAS URL in Azure).
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "x-ms-blob-type",
    "x-ms-version",
    "x-ms-client-request-id",
    "traceparent",
    "tracestate",
)
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Response headers a script may read besides the CORS-safelisted ones: the ETag an edit sends back in
# If-Match, the Location of what was created, and how long to wait when throttled.
EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "X-Summary-Regenerating")
# Chromium caps a preflight's cache at 2 hours; Firefox at 24.
MAX_AGE_SECONDS = 7200

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A DNS name or IPv4 address as browsers serialize it (IDNs in their punycode form).
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class InvalidOrigin(ValueError):
    """A configured origin that is not a bare `scheme://host[:port]`."""


def parse_origin(text: str) -> str:
    """`text` as the browser serializes an origin (lower case, no default port); InvalidOrigin otherwise."""
    value = text.strip()
    if value == "*" or "*" in value:
        raise InvalidOrigin(f"{value!r}: wildcards are refused; list each origin exactly")
    try:
        url = urlsplit(value)
        port = url.port
    except ValueError as exc:
        raise InvalidOrigin(f"{value!r} is not an origin: {exc}") from None
    if url.scheme not in _DEFAULT_PORTS or not url.hostname:
        raise InvalidOrigin(f"{value!r} is not an origin: expected http(s)://host[:port]")
    if url.path or url.query or url.fragment or url.username or url.password or value[-1] in "?#":
        raise InvalidOrigin(
            f"{value!r} is not a bare origin: no path (not even a trailing /), query or credentials"
        )
    host = url.hostname
    if ":" in host:  # IPv6, bracketed again
        host = f"[{host}]"
    elif not _HOST.match(host):
        raise InvalidOrigin(f"{value!r} is not an origin: {host!r} is not a host name")
    origin = f"{url.scheme}://{host}"
    return origin if port is None or port == _DEFAULT_PORTS[url.scheme] else f"{origin}:{port}"


def parse_origins(text: str | None) -> tuple[str, ...]:
    """A comma-separated list of origins (empty or None: none), normalized and without repeats."""
    found: list[str] = []
    for part in (text or "").split(","):
        if part.strip() and (origin := parse_origin(part)) not in found:
            found.append(origin)
    return tuple(found)


def add_vary(headers: Mapping[str, str], name: str) -> str:
    """The Vary value of `headers` with `name` added once (case-insensitively)."""
    current = next((v for k, v in headers.items() if k.lower() == "vary"), "")
    names = [n.strip() for n in current.split(",") if n.strip()]
    if "*" in names or any(n.lower() == name.lower() for n in names):
        return ", ".join(names)
    return ", ".join([*names, name])


@dataclass(frozen=True)
class CorsPolicy:
    """The allowed origins; empty, the default, allows none (same origin only)."""

    origins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, origins: Iterable[str]) -> CorsPolicy:
        return cls(frozenset(parse_origin(o) for o in origins))

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        # Browsers send an origin serialized as parse_origin makes it; anything else (`null` from a file:
        # page or a sandboxed frame, a typo) is simply not in the set.
        return origin is not None and origin.lower() in self.origins

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        """OPTIONS with Origin and Access-Control-Request-Method (`headers` case-insensitive)."""
        return (
            method.upper() == "OPTIONS"
            and headers.get("Origin") is not None
            and headers.get("Access-Control-Request-Method") is not None
        )

    def preflight_headers(self, origin: str | None) -> dict[str, str] | None:
        """The answer to an allowed origin's preflight (a 204 with these); None for any other origin."""
        if not self.allows(origin):
            return None
        assert origin is not None
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            "Vary": "Origin",
        }

    def response_headers(self, origin: str | None, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to set on an actual response that already has `headers`.

        Once any origin is allowed, whether a response carries Allow-Origin depends on the request's
        Origin, so every response says `Vary: Origin`: a cache must not hand a response made for one
        origin (or for none) to another. Allow-Origin and Expose-Headers go to allowed origins only.
        """
        if not self.enabled:
            return {}
        extra = {"Vary": add_vary(headers, "Origin")}
        if self.allows(origin):
            assert origin is not None
            extra["Access-Control-Allow-Origin"] = origin
            extra["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        return extra
