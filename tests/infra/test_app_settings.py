"""The Function App's settings in infra/ match what the app reads in Azure, one for one.

The list the app reads is derived from shared/config.py's Settings at test time (field names and their
aliases), so a new setting fails here until the Bicep sets it or LOCAL_ONLY says why Azure needs none.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import AliasChoices

from shared.config import Settings
from tests.infra.bicep_text import INFRA, Expr, load

# Settings the app has but that a deployment to Azure must not set, each with the reason.
LOCAL_ONLY: dict[str, str] = {
    "cosmos_key": "the Cosmos DB emulator's key; in Azure the app signs in with its managed identity",
    "azure_web_jobs_storage": "a storage connection string (Azurite, or keys); Azure uses the identity-based "
    "AzureWebJobsStorage__* settings and the account refuses keys",
    "acs_connection_string": "ACS with an access key; in Azure the app signs in with its managed identity",
    "openai_api_key": "OpenAI.com (TRANSCRIBER/SUMMARIZER=openai); the deployment uses Azure OpenAI, keyless",
    "openai_base_url": "an OpenAI-compatible server for TRANSCRIBER/SUMMARIZER=openai; not deployed",
    "data_dir": "where the embedded (local) backends keep their files; nothing is local in Azure",
    "public_base_url": "where devhost's embedded upload URLs point; in Azure uploads go to Blob storage "
    "(user-delegation SAS URLs)",
    "event_webhooks": "local webhooks (EVENTS=local); Azure publishes to the Event Grid topic",
    "admin_users": "operators by user id, honoured only with AUTH_MODE=dev; in Azure operators hold the "
    "Operator app role",
    "local_call_audio": "the local ACS stand-in's file played as a captioned call's audio; ACS hears calls",
    "local_call_audio_speed": "how fast the local stand-in plays LOCAL_CALL_AUDIO; nothing plays in Azure",
    "website_instance_id": "set by the platform on every instance (it is how the app knows it runs in Azure)"
    "; a deployment must not set it",
}

# The platform's own settings the Bicep may set although the app does not read them.
PLATFORM: dict[str, str] = {
    "AZURE_CLIENT_ID": "picks the user-assigned identity for DefaultAzureCredential (azure-identity reads "
    "it, not Settings)",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra sign-in for telemetry: the host and the worker's "
    "OpenTelemetry exporter read it",
    "FUNCTIONS_EXTENSION_VERSION": "the Functions runtime version (set by the backend on Flex Consumption)",
}

# Flex Consumption moved these into functionAppConfig; setting them is deprecated or refused.
FLEX_DEPRECATED = (
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "AzureWebJobsStorage",
)


def env_names(field_name: str) -> tuple[str, ...]:
    """The environment variables a Settings field is read from (pydantic-settings, case-insensitive)."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    if isinstance(alias, str):
        return (alias,)
    return (field_name.upper(),)


def bicep_settings() -> dict[str, Any]:
    app = load(INFRA / "modules" / "functionapp.bicep")
    entries = app.variables["appSettings"]
    site = app.resources_of("Microsoft.Web/sites")[0]
    assert site.get("properties.siteConfig.appSettings") == Expr("appSettings"), (
        "the site's siteConfig.appSettings must be the appSettings variable this test reads"
    )
    names = [entry["name"] for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"set twice: {duplicates}"
    return {entry["name"]: entry["value"] for entry in entries}


def app_reads_in_azure() -> dict[str, tuple[str, ...]]:
    return {name: env_names(name) for name in Settings.model_fields if name not in LOCAL_ONLY}


def read_by_app(setting: str) -> bool:
    return any(
        setting.lower() == env.lower() for names in map(env_names, Settings.model_fields) for env in names
    )


def test_every_setting_the_app_reads_in_azure_is_set() -> None:
    set_by_bicep = {name.lower() for name in bicep_settings()}
    missing = {
        field: names
        for field, names in app_reads_in_azure().items()
        if not any(name.lower() in set_by_bicep for name in names)
    }
    assert not missing, (
        f"shared/config.py reads these in Azure but infra/modules/functionapp.bicep does not set them: "
        f"{missing}. Set them there, or add them to LOCAL_ONLY with the reason Azure needs none."
    )


def test_every_setting_the_bicep_sets_is_read_by_the_app_or_the_platform() -> None:
    unread = [name for name in bicep_settings() if not read_by_app(name) and name not in PLATFORM]
    assert not unread, f"nothing reads these settings: {unread} (not in Settings, not in PLATFORM)"


def test_local_only_settings_are_real_fields_and_not_set_in_azure() -> None:
    assert set(LOCAL_ONLY) <= set(Settings.model_fields), (
        f"stale LOCAL_ONLY entries: {sorted(set(LOCAL_ONLY) - set(Settings.model_fields))}"
    )
    set_by_bicep = {name.lower() for name in bicep_settings()}
    leaked = [name for field in LOCAL_ONLY for name in env_names(field) if name.lower() in set_by_bicep]
    assert not leaked, f"local-only settings set in Azure: {leaked}"


def test_platform_settings_are_not_app_settings() -> None:
    overlap = [name for name in PLATFORM if read_by_app(name)]
    assert not overlap, f"the app reads {overlap}: they belong in its Settings, not in PLATFORM"


def test_no_flex_deprecated_setting() -> None:
    present = [name for name in FLEX_DEPRECATED if name in bicep_settings()]
    assert not present, f"Flex Consumption deprecates {present}: functionAppConfig carries these"


def test_identity_based_connections_only() -> None:
    settings = bicep_settings()
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == settings["AZURE_CLIENT_ID"]
    assert settings["SIGNING_KEY"] == "keyvault:signing-key"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == Expr(
        "'Authorization=AAD;ClientId=${identityClientId}'"
    ), "the exporter parses exactly `Authorization=AAD;ClientId=<id>` (no trailing semicolon)"
    for name, value in settings.items():
        text = str(value).lower()
        assert "accountkey=" not in text, f"{name} carries a key"
        assert "listkeys(" not in text, f"{name} carries a key"


def test_auth_modes_offered_in_azure_are_the_apps_minus_dev() -> None:
    literal = Settings.model_fields["auth_mode"].annotation
    app_modes = set(getattr(literal, "__args__", ()))
    for path in (INFRA / "main.bicep", INFRA / "modules" / "functionapp.bicep"):
        allowed = load(path).params["authMode"].allowed
        assert allowed is not None, f"{path.name}: authMode has no @allowed list"
        assert "dev" not in allowed, "AUTH_MODE=dev trusts any caller and is refused in Azure"
        assert set(allowed) <= app_modes, (
            f"{path.name}: {set(allowed) - app_modes} are not modes the app knows"
        )
    assert load(INFRA / "main.bicep").params["authMode"].default == "'entra'"


PLACEHOLDERS = {
    "AUTH_TENANT_ID": "00000000-0000-0000-0000-000000000001",
    "AUTH_AUDIENCE": "00000000-0000-0000-0000-000000000002,api://video-signaling",
    "TRANSCRIBE_MODEL": "whisper-1",
    "TRANSCRIBE_CONCURRENCY": "4",
    "SUMMARY_MODEL": "gpt-4o-mini",
    "SUMMARY_TOKEN_BUDGET": "32000",
    "AZURE_OPENAI_API_VERSION": "2025-04-01-preview",
    "KEY_VAULT_URL": "https://kv-example.vault.azure.net/",
    "AUTH_CLIENT_ID": "00000000-0000-0000-0000-000000000003",
    "AUTH_API_SCOPE": "api://video-signaling/user_impersonation",
    "ALLOWED_ORIGINS": "https://swa-example.azurestaticapps.net,http://localhost:5173",
    "RETAIN_RECORDINGS_DAYS": "30",
    "RETAIN_NOTES_DAYS": "0",
    "REDACT_PII": "false",
    "CAPTIONS_URL": "wss://ca-captions-example.azurecontainerapps.io",
    "ACS_RESOURCE_ID": "00000000-0000-0000-0000-000000000004",
}


@pytest.mark.parametrize("auth_mode", ["entra", "easyauth"])
def test_the_deployed_settings_start_the_app_in_azure(
    monkeypatch: pytest.MonkeyPatch, auth_mode: str
) -> None:
    """Settings built from the Bicep's values (computed ones replaced by plausible stand-ins) validate as
    they would on an instance (WEBSITE_INSTANCE_ID set): no combination the app refuses at start."""
    for field in Settings.model_fields:
        for name in env_names(field):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.upper(), raising=False)
    for name, value in bicep_settings().items():
        stand_in = PLACEHOLDERS.get(name, "https://example.invalid/") if isinstance(value, Expr) else value
        monkeypatch.setenv(name, auth_mode if name == "AUTH_MODE" else str(stand_in))
    monkeypatch.setenv("WEBSITE_INSTANCE_ID", "0123456789abcdef")
    settings = Settings()
    assert settings.running_in_azure
    assert (settings.store, settings.storage, settings.communication) == ("cosmos", "azure", "acs")
    assert (settings.transcriber, settings.summarizer) == ("azure-openai", "azure-openai")
    assert settings.cosmos_key is None
    assert settings.azure_web_jobs_storage is None
    assert settings.cors_origins == ("https://swa-example.azurestaticapps.net", "http://localhost:5173")
