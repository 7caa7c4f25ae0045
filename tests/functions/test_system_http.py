"""Health and the OpenAPI document answer without building the services (no store, no ACS, no auth)."""

from __future__ import annotations

import pytest

from shared import bootstrap
from tests.conftest import FunctionCaller


@pytest.fixture
def broken_services(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse() -> bootstrap.Services:
        raise AssertionError("an anonymous operation built the services")

    monkeypatch.setattr(bootstrap, "get_services", refuse)


@pytest.mark.usefixtures("broken_services")
async def test_health_and_openapi_build_no_services(call: FunctionCaller) -> None:
    health = await call("health", "GET", "health", user=None)
    assert health.status == 200
    assert health.json()["status"] == "ok"
    document = await call("openapi", "GET", "openapi.json", user=None)
    assert document.status == 200


@pytest.mark.usefixtures("broken_services")
async def test_an_authenticated_operation_does_build_them(call: FunctionCaller) -> None:
    reply = await call("list_meetings", "GET", "meetings")
    assert reply.status == 500
