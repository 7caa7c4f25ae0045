"""Health, the OpenAPI document and the client configuration answer without building the services
(no store, no ACS, no auth)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import __version__, bootstrap, config
from shared.client_config import client_config
from shared.config import Settings
from shared.domain.recording_paths import EXTENSIONS
from shared.http import OPERATIONS
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


# --- GET /client-config ---------------------------------------------------------------------------------


def _use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(config, "get_settings", lambda: settings)


@pytest.mark.usefixtures("broken_services")
async def test_client_config_in_dev_mode_is_anonymous_cacheable_and_builds_no_services(
    call: FunctionCaller, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use(monkeypatch, Settings(data_dir=tmp_path))
    reply = await call("client_config", "GET", "client-config", user=None)
    assert reply.status == 200
    assert reply.headers["cache-control"] == "public, max-age=300"
    body = reply.json()
    assert body == {
        "authMode": "dev",
        "entra": None,
        "calling": "local",
        "acsEndpoint": None,
        "maxUploadBytes": 4 * 1024**3,
        "uploadContentTypes": sorted(EXTENSIONS, key=list(EXTENSIONS).index),
        "version": __version__,
    }
    # Every type the client is told about is one a recording may be created with, and the other way round.
    assert set(body["uploadContentTypes"]) == set(EXTENSIONS)


@pytest.mark.usefixtures("broken_services")
@pytest.mark.parametrize(
    "authority", ["https://login.microsoftonline.com/", "https://login.microsoftonline.com"]
)
async def test_client_config_for_entra_names_the_spa_the_authority_and_the_scopes(
    call: FunctionCaller, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, authority: str
) -> None:
    secret = "endpoint=https://acs-x.communication.azure.com/;accesskey=c2VjcmV0LWtleQ=="
    settings = Settings(
        data_dir=tmp_path,
        auth_mode="entra",
        auth_tenant_id="tenant-1",
        auth_audience="api://video-signaling",
        auth_authority=authority,
        auth_client_id="spa-client-id",
        auth_api_scope="api://video-signaling/user_impersonation, api://video-signaling/other",
        communication="acs",
        acs_connection_string=secret,
    )
    _use(monkeypatch, settings)
    reply = await call("client_config", "GET", "client-config", user=None)
    assert reply.status == 200
    body = reply.json()
    assert body["authMode"] == "entra"
    assert body["entra"] == {
        "clientId": "spa-client-id",
        "authority": "https://login.microsoftonline.com/tenant-1",
        "scopes": ["api://video-signaling/user_impersonation", "api://video-signaling/other"],
    }
    assert (body["calling"], body["acsEndpoint"]) == ("acs", "https://acs-x.communication.azure.com")
    assert b"accesskey" not in reply.body.lower()
    assert b"c2VjcmV0" not in reply.body


@pytest.mark.parametrize(
    ("overrides", "acs_endpoint"),
    [
        # The web client's settings missing: the API works, the config says there is no Entra sign-in.
        ({}, None),
        ({"auth_client_id": "spa"}, None),
        # A Key Vault reference is not read by an anonymous route: no endpoint rather than a vault call.
        ({"communication": "acs", "acs_connection_string": "keyvault:acs-connection"}, None),
        ({"communication": "acs", "acs_endpoint": "https://user:pw@acs-y.communication.azure.com/x?y"}, 1),
    ],
)
def test_client_config_is_null_safe(
    tmp_path: Path, overrides: dict[str, str], acs_endpoint: int | None
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        auth_mode="easyauth",
        auth_tenant_id="t",
        auth_audience="client-id",
        key_vault_url="https://kv.vault.azure.net/",
        **overrides,  # type: ignore[arg-type]
    )
    made = client_config(settings, "1.2.3")
    assert made.entra is None
    assert made.acs_endpoint == ("https://acs-y.communication.azure.com" if acs_endpoint else None)


def test_client_config_is_documented_as_a_schema() -> None:
    operation = next(op for op in OPERATIONS if op.name == "client_config")
    assert (operation.ok_schema, operation.authenticated) == ("ClientConfig", False)
    assert "Cache-Control" in operation.response_headers
