"""shared/cors.py: which origins ALLOWED_ORIGINS accepts, and the headers a policy gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import ConfigurationError, Settings
from shared.cors import (
    ALLOWED_HEADERS,
    CorsPolicy,
    InvalidOrigin,
    add_vary,
    parse_origin,
    parse_origins,
)

WEB = "https://x.azurestaticapps.net"
DEV = "http://localhost:5173"


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        (WEB, WEB),
        (DEV, DEV),
        ("  HTTPS://X.AzureStaticApps.NET ", WEB),  # as browsers serialize it: lower case
        ("https://x.azurestaticapps.net:443", WEB),  # the default port is left out by browsers
        ("http://localhost:80", "http://localhost"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("http://[::1]:5173", "http://[::1]:5173"),
    ],
)
def test_an_origin_is_normalized_as_browsers_send_it(text: str, origin: str) -> None:
    assert parse_origin(text) == origin


@pytest.mark.parametrize(
    "text",
    [
        "*",
        "https://*.azurestaticapps.net",
        "https://x.azurestaticapps.net/",
        "https://x.azurestaticapps.net/app",
        "https://x.azurestaticapps.net?a=1",
        "https://x.azurestaticapps.net#top",
        "https://user:pw@x.azurestaticapps.net",
        "x.azurestaticapps.net",
        "ftp://x.example",
        "null",
        "https://",
        "https://x.example:99999",
        "https://bad host.example",
        "https://under_score.example",
    ],
)
def test_anything_but_a_bare_origin_is_refused(text: str) -> None:
    with pytest.raises(InvalidOrigin):
        parse_origin(text)


def test_a_list_is_comma_separated_without_repeats_or_blanks() -> None:
    assert parse_origins(f"{WEB}, {DEV},,{WEB.upper()}") == (WEB, DEV)
    assert parse_origins("") == ()
    assert parse_origins(None) == ()


def test_settings_refuse_a_bad_origin_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"ALLOWED_ORIGINS.*wildcard"):
        Settings(data_dir=tmp_path, allowed_origins="*")
    with pytest.raises(ConfigurationError, match=r"ALLOWED_ORIGINS.*bare origin"):
        Settings(data_dir=tmp_path, allowed_origins=f"{DEV},{WEB}/")
    settings = Settings(data_dir=tmp_path, allowed_origins=f"{WEB},{DEV}")
    assert settings.cors_origins == (WEB, DEV)
    assert Settings(data_dir=tmp_path).cors_origins == ()


def test_preflight_of_an_allowed_origin_grants_what_the_web_client_sends() -> None:
    policy = CorsPolicy.of([WEB])
    grants = policy.preflight_headers(WEB)
    assert grants is not None
    assert grants["Access-Control-Allow-Origin"] == WEB
    assert grants["Vary"] == "Origin"
    methods = {m.strip() for m in grants["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    headers = {h.strip().lower() for h in grants["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "x-ms-blob-type"} <= headers
    assert int(grants["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in grants
    assert len(ALLOWED_HEADERS) == len(headers)


@pytest.mark.parametrize(
    "origin", [DEV, None, "null", "https://x.azurestaticapps.net.evil.example", WEB + "/"]
)
def test_any_other_origin_gets_nothing(origin: str | None) -> None:
    policy = CorsPolicy.of([WEB])
    assert policy.preflight_headers(origin) is None
    assert "Access-Control-Allow-Origin" not in policy.response_headers(origin, {})


def test_actual_responses_vary_on_origin_once_any_origin_is_allowed() -> None:
    policy = CorsPolicy.of([WEB])
    allowed = policy.response_headers(WEB, {"vary": "Accept-Encoding"})
    assert allowed == {
        "Vary": "Accept-Encoding, Origin",
        "Access-Control-Allow-Origin": WEB,
        "Access-Control-Expose-Headers": "ETag, Location, Retry-After, X-Summary-Regenerating",
    }
    # Made without an Origin, the response must still not be served from a cache to the web client.
    assert policy.response_headers(None, {}) == {"Vary": "Origin"}
    # No origin allowed: the responses are what they always were.
    assert CorsPolicy().response_headers(WEB, {}) == {}


def test_is_preflight_needs_options_origin_and_a_requested_method() -> None:
    assert CorsPolicy.is_preflight("OPTIONS", {"Origin": WEB, "Access-Control-Request-Method": "PUT"})
    assert not CorsPolicy.is_preflight("OPTIONS", {"Origin": WEB})
    assert not CorsPolicy.is_preflight("OPTIONS", {"Access-Control-Request-Method": "PUT"})
    assert not CorsPolicy.is_preflight("PUT", {"Origin": WEB, "Access-Control-Request-Method": "PUT"})


def test_add_vary_keeps_what_is_there() -> None:
    assert add_vary({}, "Origin") == "Origin"
    assert add_vary({"Vary": "origin"}, "Origin") == "origin"
    assert add_vary({"Vary": "*"}, "Origin") == "*"
