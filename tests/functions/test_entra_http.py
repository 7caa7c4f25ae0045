"""AUTH_MODE=entra through the functions: every bad token is a 401 problem, and no service is reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap
from shared.bootstrap import Services, build_services
from shared.config import Settings
from tests.conftest import FunctionCaller
from tests.unit.test_auth import (
    AUDIENCE,
    OID,
    TENANT,
    FakeIdentityProvider,
    _b64url_json,
    _claims,
    _token,
    idp,
)

__all__ = ["idp"]  # the fixture, used by name


@pytest.fixture
async def entra_services(tmp_path: Path, idp: FakeIdentityProvider) -> AsyncIterator[Services]:
    settings = Settings(
        auth_mode="entra",
        auth_tenant_id=TENANT,
        auth_audience=AUDIENCE,
        auth_authority=idp.url,
        data_dir=tmp_path / "data",
    )
    services = build_services(settings)
    bootstrap.override(services)
    yield services
    bootstrap.override(None)
    await services.aclose()


def _bad_tokens(idp: FakeIdentityProvider) -> dict[str, str | None]:
    header, _, signature = _token(idp).split(".")
    forged = _b64url_json(_claims(idp, oid="00000000-0000-0000-0000-00000000beef"))
    return {
        "missing": None,
        "malformed": "not-a-jwt",
        "expired": _token(idp, exp=1_000_000, iat=999_000, nbf=999_000),
        "not yet valid": _token(idp, nbf=4_000_000_000),
        "wrong audience": _token(idp, aud="api://someone-else"),
        "wrong issuer": _token(idp, iss="https://login.example.com/other/v2.0"),
        "unknown key": _token(idp, kid="key-b"),
        "alg none": f"{_b64url_json({'alg': 'none', 'kid': 'key-a'})}.{_b64url_json(_claims(idp))}.",
        "tampered": f"{header}.{forged}.{signature}",
    }


async def test_bad_tokens_are_401_problems_and_reach_no_service(
    call: FunctionCaller,
    entra_services: Services,
    idp: FakeIdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reached: list[Any] = []

    async def spy(*args: object, **kwargs: object) -> None:
        reached.append(args)

    monkeypatch.setattr(entra_services.meetings, "list", spy)
    for case, token in _bad_tokens(idp).items():
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        reply = await call("list_meetings", "GET", "meetings", user=None, headers=headers)
        assert reply.status == 401, case
        assert reply.headers["content-type"] == "application/problem+json", case
        assert token is None or token not in reply.body.decode(), "the token is never echoed"
    assert reached == []


async def test_a_valid_token_makes_the_oid_the_caller(
    call: FunctionCaller, entra_services: Services, idp: FakeIdentityProvider
) -> None:
    auth = {"Authorization": f"Bearer {_token(idp)}"}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    body = {"title": "x", "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=1)).isoformat()}
    created = await call("create_meeting", "POST", "meetings", user=None, headers=auth, json_body=body)
    assert created.status == 201
    assert created.json()["organizerId"] == OID
    listed = await call("list_meetings", "GET", "meetings", user=None, headers=auth)
    assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]
