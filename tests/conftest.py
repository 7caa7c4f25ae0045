"""Shared fixtures: real embedded services under a temporary DATA_DIR, and a way to call functions."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from devhost.app_loader import functions_of
from devhost.emulators import Azurite, CosmosEmulator, OAuthAzurite, azurite, cosmos, oauth_azurite
from shared import bootstrap
from shared.bootstrap import Services, build_services
from shared.config import Settings
from tests.fakes import FakeCallRecorder, FakeSummarizer, FakeTranscriber


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(params=["sqlite", "cosmos"])
async def services(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Services]:
    """The app's services on each store: the embedded one, and the Cosmos adapter on the emulator."""
    store = None
    if request.param == "cosmos":
        from tests.contract.test_cosmos_store import emulator_store

        emulator: CosmosEmulator = request.getfixturevalue("cosmos_emulator")
        store = emulator_store(emulator, f"app-{uuid.uuid4().hex[:16]}")
    # Speech to text, summaries and call recording are the backends faked here: function tests are about
    # the app's rules; the real adapters have their own contract suites (and e2e tests run the local ones).
    built = build_services(
        settings,
        store=store,
        transcriber=FakeTranscriber(),
        summarizer=FakeSummarizer(),
        recorder=FakeCallRecorder(),
    )
    bootstrap.override(built)
    yield built
    bootstrap.override(None)
    await built.aclose()


_registered: dict[str, Any] = {}


def registered_functions() -> dict[str, Any]:
    """The app's functions by name. `get_functions()` may run once per app (it refuses to index twice)."""
    if not _registered:
        import function_app

        _registered.update({str(f.get_function_name()): f for f in functions_of(function_app.app)})
    return _registered


@dataclass
class FakeContext:
    """What the Functions worker passes as `context`: only the invocation id is read by the app."""

    invocation_id: str
    function_name: str = "test"
    function_directory: str = ""


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FunctionCaller:
    """Calls the app's registered functions with real `func.HttpRequest` objects, as the worker does."""

    def __init__(self) -> None:
        self._functions = registered_functions()

    async def __call__(
        self,
        name: str,
        method: str,
        path: str,
        *,
        user: str | None = "alice",
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        route: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if user is not None:
            all_headers.setdefault("authorization", f"Bearer dev:{user}")
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("content-type", "application/json")
        request = func.HttpRequest(
            method=method,
            url=f"http://localhost:7071/api/{path}",
            headers=all_headers,
            params=dict(params or {}),
            route_params=dict(route or {}),
            body=body or b"",
        )
        function = self._functions[name].get_user_function()
        response: func.HttpResponse = await function(request, FakeContext(str(uuid.uuid4()), name))
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return Reply(response.status_code, headers_out, response.get_body())


@pytest.fixture
def call() -> FunctionCaller:
    return FunctionCaller()


# --- emulators: one of each per test session, started on first use ------------------------------------


@pytest.fixture(scope="session")
def azurite_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with azurite(tmp_path_factory.mktemp("azurite")) as running:
        yield running


@pytest.fixture(scope="session")
def cosmos_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosEmulator]:
    with cosmos(tmp_path_factory.mktemp("cosmos")) as running:
        yield running


@pytest.fixture(scope="session")
def oauth_azurite_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthAzurite]:
    """Azurite over HTTPS taking bearer tokens: the managed-identity paths of the storage adapters."""
    with oauth_azurite(tmp_path_factory.mktemp("azurite-oauth")) as running:
        yield running
