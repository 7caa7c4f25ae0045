"""`keyvault:` settings through azure-keyvault-secrets against a local Key Vault (tests/keyvault_server.py).

The SDK runs as it does against Azure: HTTPS with certificate checks, the challenge-based bearer
authentication (401 + `WWW-Authenticate`, then a token for `https://vault.azure.net/.default` in the
challenge's tenant) and the check that the challenge's resource is a parent domain of the vault's host.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.keyvault.secrets.aio import SecretClient
from pydantic import SecretStr

from shared.bootstrap import build_services, resolve_secrets
from shared.config import ConfigurationError, Settings
from shared.secrets import (
    SecretConfigurationError,
    SecretError,
    SecretNotFoundError,
    SecretReference,
    SecretResolver,
    SecretUnavailableError,
    check_references,
    is_reference,
    is_unauthorized,
    parse_reference,
    with_secret,
)
from tests.keyvault_server import SCOPE, FakeCredential, KeyVaultServer

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Unauthorized(Exception):
    """What a client of another service raises when the key it was given is refused (e.g. openai's 401)."""

    status_code = 401


class Consumer:
    """A service that accepts only the key currently in the vault, like OpenAI after a key rotation."""

    def __init__(self, vault: KeyVaultServer, name: str) -> None:
        self._vault, self._name = vault, name
        self.keys_used: list[str] = []

    async def call(self, key: str) -> str:
        self.keys_used.append(key)
        if key != self._vault.secrets[self._name].latest.value:
            raise Unauthorized("401 Incorrect API key provided")
        return "ok"


@pytest.fixture
async def vault() -> AsyncIterator[KeyVaultServer]:
    async with KeyVaultServer() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def credential(vault: KeyVaultServer) -> FakeCredential:
    return vault.credential()


@pytest.fixture
async def resolver(
    vault: KeyVaultServer, credential: FakeCredential, clock: Clock
) -> AsyncIterator[SecretResolver]:
    built = SecretResolver(vault.vault_url, credential, clock=clock, **vault.client_kwargs())
    yield built
    await built.aclose()


def secret_value() -> str:
    return f"s3cr3t-{uuid.uuid4().hex}"


# --- references ----------------------------------------------------------------------------------------


def test_references_are_recognised_and_validated() -> None:
    assert is_reference("keyvault:signing-key")
    assert is_reference("  KeyVault:signing-key\n")
    assert not is_reference("sk-plain-key")
    assert not is_reference("")
    assert not is_reference(None)
    version = uuid.uuid4().hex
    assert parse_reference("keyvault:signing-key") == SecretReference("signing-key")
    assert parse_reference(f"KEYVAULT:Signing-Key/{version}") == SecretReference("Signing-Key", version)
    assert parse_reference("endpoint=https://x/;accesskey=abc") is None
    assert parse_reference("keyvault:a" * 1) == SecretReference("a")
    assert parse_reference("keyvault:" + "a" * 127) == SecretReference("a" * 127)
    for bad in (
        "keyvault:",
        "keyvault:" + "a" * 128,
        "keyvault:signing_key",
        "keyvault:signing.key",
        "keyvault:signing key",
        "keyvault:signing-key/",
        "keyvault:signing-key/v1",
        f"keyvault:signing-key/{version}/extra",
        "keyvault:schlüssel",
    ):
        with pytest.raises(
            SecretConfigurationError, match=r"SIGNING_KEY .* is not a valid Key Vault reference"
        ):
            parse_reference(bad, setting="SIGNING_KEY")


def test_start_up_check_names_the_settings_and_needs_a_vault_url() -> None:
    values = {
        "SIGNING_KEY": "keyvault:signing-key",
        "OPENAI_API_KEY": "keyvault:openai-key",
        "ACS_CONNECTION_STRING": "endpoint=https://acs/;accesskey=abc",
        "COSMOS_KEY": None,
    }
    found = check_references(values, "https://kv.vault.azure.net/")
    assert found == {
        "SIGNING_KEY": SecretReference("signing-key"),
        "OPENAI_API_KEY": SecretReference("openai-key"),
    }
    with pytest.raises(SecretConfigurationError, match="OPENAI_API_KEY, SIGNING_KEY refer to Key Vault but"):
        check_references(values, None)
    with pytest.raises(SecretConfigurationError, match="is not a vault URL"):
        check_references(values, "http://kv.vault.azure.net/")
    with pytest.raises(SecretConfigurationError, match="COSMOS_KEY"):
        check_references({"COSMOS_KEY": "keyvault:cosmos_key"}, "https://kv.vault.azure.net/")
    assert check_references({"ACS_CONNECTION_STRING": "plain"}, None) == {}


async def test_plain_values_pass_through_without_a_vault() -> None:
    resolver = SecretResolver(None)
    assert await resolver.resolve("sk-plain") == "sk-plain"
    assert await resolver.refresh("sk-plain", seen="sk-plain") == "sk-plain"
    with pytest.raises(
        SecretConfigurationError, match=r"SIGNING_KEY \(keyvault:signing-key\) refers to Key Vault"
    ):
        await resolver.resolve("keyvault:signing-key", setting="SIGNING_KEY")
    await resolver.aclose()


def test_importing_the_module_loads_no_azure_sdk() -> None:
    code = "import sys, shared.secrets; print(sorted(m for m in sys.modules if m.startswith('azure')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- reading through the SDK ---------------------------------------------------------------------------


async def test_first_use_reads_through_the_challenge_then_caches(
    vault: KeyVaultServer, credential: FakeCredential, resolver: SecretResolver
) -> None:
    value = secret_value()
    vault.set_secret("signing-key", value)

    assert await resolver.resolve("keyvault:signing-key") == value
    # The SDK's first request carries no token; the 401 challenge names the tenant and the resource.
    assert [(r.method, r.path, r.auth, r.status) for r in vault.requests] == [
        ("GET", "/secrets/signing-key/", "none", 401),
        ("GET", "/secrets/signing-key/", "bearer", 200),
    ]
    assert {r.api_version for r in vault.requests} == {"2026-04-01"}
    assert credential.requests == [((SCOPE,), vault.tenant_id)]

    # Cached: the same reference (names are case-insensitive) does not reach the vault again.
    assert await resolver.resolve("keyvault:signing-key") == value
    assert await resolver.resolve("keyvault:Signing-Key") == value
    assert vault.reads() == 1


async def test_a_pinned_version_is_read_and_never_refreshed(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    first, second = secret_value(), secret_value()
    version = vault.set_secret("openai-key", first)
    vault.set_secret("openai-key", second)
    pinned = f"keyvault:openai-key/{version}"

    assert await resolver.resolve(pinned) == first
    assert await resolver.resolve("keyvault:openai-key") == second
    assert await resolver.refresh(pinned, seen=first) == first
    assert vault.reads() == 2


async def test_rotation_is_picked_up_after_an_authentication_failure(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    old, new = secret_value(), secret_value()
    vault.set_secret("openai-key", old)
    assert await resolver.resolve("keyvault:openai-key") == old

    # Rotated in the vault (through the SDK, as an operator's script would).
    async with SecretClient(vault.vault_url, vault.credential(), **vault.client_kwargs()) as admin:
        await admin.set_secret("openai-key", new)

    # Until a consumer reports a failure, the cached value stays.
    assert await resolver.resolve("keyvault:openai-key") == old
    assert vault.reads("openai-key") == 1

    assert await resolver.refresh("keyvault:openai-key", seen=old) == new
    assert await resolver.resolve("keyvault:openai-key") == new
    assert vault.reads("openai-key") == 2

    # A consumer still holding the old value finds the new one without another read.
    assert await resolver.refresh("keyvault:openai-key", seen=old) == new
    assert vault.reads("openai-key") == 2


async def test_concurrent_first_reads_and_refreshes_reach_the_vault_once(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    old, new = secret_value(), secret_value()
    vault.set_secret("signing-key", old)
    vault.gate = asyncio.Event()
    readers = [asyncio.create_task(resolver.resolve("keyvault:signing-key")) for _ in range(20)]
    await vault.at_gate.wait()  # the first read is under way; the others wait for it
    await asyncio.sleep(0.05)
    vault.gate.set()
    assert await asyncio.gather(*readers) == [old] * 20
    assert vault.reads() == 1

    vault.set_secret("signing-key", new)
    vault.gate = asyncio.Event()
    refreshers = [asyncio.create_task(resolver.refresh("keyvault:signing-key", seen=old)) for _ in range(20)]
    await asyncio.sleep(0.05)
    vault.gate.set()
    assert await asyncio.gather(*refreshers) == [new] * 20
    assert vault.reads() == 2


async def test_refreshes_are_rate_limited_per_secret(
    vault: KeyVaultServer, resolver: SecretResolver, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    v1, v2, v3 = secret_value(), secret_value(), secret_value()
    vault.set_secret("openai-key", v1)
    vault.set_secret("signing-key", v1)
    await resolver.resolve("keyvault:openai-key")
    await resolver.resolve("keyvault:signing-key")

    vault.set_secret("openai-key", v2)
    assert await resolver.refresh("keyvault:openai-key", seen=v1) == v2
    vault.set_secret("openai-key", v3)
    clock.advance(10)
    # A consumer that keeps failing (e.g. the new key is wrong too) does not get another read yet.
    with caplog.at_level(logging.WARNING, logger="shared.secrets"):
        assert await resolver.refresh("keyvault:openai-key", seen=v2) == v2
    assert "keyvault:openai-key was re-read 10 s ago" in caplog.text
    assert vault.reads("openai-key") == 2
    # Other secrets have their own budget.
    assert await resolver.refresh("keyvault:signing-key", seen=v1) == v1
    assert vault.reads("signing-key") == 2

    clock.advance(21)
    assert await resolver.refresh("keyvault:openai-key", seen=v2) == v3
    assert vault.reads("openai-key") == 3


async def test_invalidate_forgets_the_cached_value(vault: KeyVaultServer, resolver: SecretResolver) -> None:
    old, new = secret_value(), secret_value()
    vault.set_secret("signing-key", old)
    assert await resolver.resolve("keyvault:signing-key") == old
    vault.set_secret("signing-key", new)
    resolver.invalidate("signing-key")
    assert await resolver.resolve("keyvault:signing-key") == new


# --- with_secret ---------------------------------------------------------------------------------------


async def test_with_secret_refreshes_and_retries_once_on_an_auth_failure(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    old, new = secret_value(), secret_value()
    vault.set_secret("openai-key", old)
    consumer = Consumer(vault, "openai-key")
    assert await with_secret(resolver, "keyvault:openai-key", consumer.call, is_unauthorized) == "ok"

    vault.set_secret("openai-key", new)
    assert await with_secret(resolver, "keyvault:openai-key", consumer.call, is_unauthorized) == "ok"
    assert consumer.keys_used == [old, old, new]
    assert vault.reads() == 2
    # Later calls use the new value straight away.
    handle = resolver.secret("keyvault:openai-key", setting="OPENAI_API_KEY")
    assert await handle.use(consumer.call) == "ok"
    assert consumer.keys_used[-1] == new
    assert new not in repr(handle)
    assert "keyvault" not in repr(handle)


async def test_with_secret_gives_up_when_the_vault_has_nothing_new(
    vault: KeyVaultServer, resolver: SecretResolver, clock: Clock
) -> None:
    value = secret_value()
    vault.set_secret("openai-key", value)
    used: list[str] = []

    async def always_refused(key: str) -> str:
        used.append(key)
        raise Unauthorized("401")

    # The vault is read again once, has the same value: no retry, the consumer's failure is raised.
    with pytest.raises(Unauthorized):
        await with_secret(resolver, "keyvault:openai-key", always_refused, is_unauthorized)
    assert used == [value]
    assert vault.reads() == 2
    # Within the refresh interval the vault is not asked again.
    for _ in range(5):
        with pytest.raises(Unauthorized):
            await with_secret(resolver, "keyvault:openai-key", always_refused, is_unauthorized)
    assert vault.reads() == 2
    clock.advance(31)
    with pytest.raises(Unauthorized):
        await with_secret(resolver, "keyvault:openai-key", always_refused, is_unauthorized)
    assert vault.reads() == 3


async def test_with_secret_does_not_retry_other_failures(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    vault.set_secret("openai-key", secret_value())
    calls = 0

    async def broken(key: str) -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("500 from the service")

    with pytest.raises(RuntimeError, match="500"):
        await with_secret(resolver, "keyvault:openai-key", broken, is_unauthorized)
    assert calls == 1
    assert vault.reads() == 1

    # A plain (non-reference) value is never refreshed: the auth failure is the caller's.
    async def refused(key: str) -> str:
        nonlocal calls
        calls += 1
        raise Unauthorized("401")

    with pytest.raises(Unauthorized):
        await with_secret(resolver, "sk-plain", refused, is_unauthorized)
    assert calls == 2


async def test_with_secret_reports_a_vault_failure_during_refresh_and_keeps_the_value(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    value = secret_value()
    vault.set_secret("openai-key", value)
    await resolver.resolve("keyvault:openai-key")
    vault.forbidden = True

    async def refused(key: str) -> str:
        raise Unauthorized("401")

    with pytest.raises(SecretUnavailableError, match="403") as raised:
        await with_secret(resolver, "keyvault:openai-key", refused, is_unauthorized, setting="OPENAI_API_KEY")
    assert isinstance(raised.value.__cause__, Unauthorized)
    assert await resolver.resolve("keyvault:openai-key") == value


# --- errors ----------------------------------------------------------------------------------------------


async def test_a_missing_secret_is_a_configuration_error_naming_it(
    vault: KeyVaultServer, resolver: SecretResolver, clock: Clock
) -> None:
    other = secret_value()
    vault.set_secret("openai-key", other)
    with pytest.raises(SecretNotFoundError) as raised:
        await resolver.resolve("keyvault:signing-key", setting="SIGNING_KEY")
    message = str(raised.value)
    assert message.startswith("SIGNING_KEY (keyvault:signing-key): Key Vault https://kv-")
    assert "has no secret 'signing-key'" in message
    assert isinstance(raised.value, SecretConfigurationError)
    assert (raised.value.secret_name, raised.value.status) == ("signing-key", 404)
    assert other not in message

    # Remembered for a few seconds: requests during that time do not each ask the vault.
    requests = len(vault.requests)
    with pytest.raises(SecretNotFoundError):
        await resolver.resolve("keyvault:signing-key", setting="SIGNING_KEY")
    assert len(vault.requests) == requests
    value = secret_value()
    vault.set_secret("signing-key", value)
    clock.advance(6)
    assert await resolver.resolve("keyvault:signing-key") == value

    version = uuid.uuid4().hex
    with pytest.raises(SecretNotFoundError, match=f"has no secret 'signing-key' version {version}"):
        await resolver.resolve(f"keyvault:signing-key/{version}")


async def test_a_disabled_secret_is_a_configuration_error(
    vault: KeyVaultServer, resolver: SecretResolver
) -> None:
    vault.set_secret("signing-key", secret_value())
    vault.disable("signing-key")
    with pytest.raises(SecretConfigurationError, match="secret 'signing-key' is disabled"):
        await resolver.resolve("keyvault:signing-key")


async def test_access_refused_says_so(vault: KeyVaultServer, resolver: SecretResolver) -> None:
    vault.set_secret("signing-key", secret_value())
    vault.forbidden = True
    with pytest.raises(SecretUnavailableError) as raised:
        await resolver.resolve("keyvault:signing-key", setting="SIGNING_KEY")
    assert "refused to read secret 'signing-key' (403 ForbiddenByRbac)" in str(raised.value)
    assert "Key Vault Secrets User" in str(raised.value)
    assert raised.value.status == 403


async def test_no_token_says_so(
    vault: KeyVaultServer, credential: FakeCredential, resolver: SecretResolver
) -> None:
    vault.set_secret("signing-key", secret_value())
    credential.fail_with = ClientAuthenticationError(
        "ManagedIdentityCredential: no managed identity endpoint"
    )
    with pytest.raises(
        SecretUnavailableError, match=r"could not authenticate to Key Vault .*no managed identity"
    ):
        await resolver.resolve("keyvault:signing-key")


async def test_an_unreachable_or_failing_vault_says_so(
    vault: KeyVaultServer, credential: FakeCredential
) -> None:
    vault.set_secret("signing-key", secret_value())
    vault.fail_next(1, 503)
    resolver = SecretResolver(vault.vault_url, credential, retry_total=0, **vault.client_kwargs())
    with pytest.raises(SecretUnavailableError, match="answered 503 ServiceUnavailable"):
        await resolver.resolve("keyvault:signing-key")
    await resolver.aclose()

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    resolver = SecretResolver(f"https://127.0.0.1:{port}/", credential, retry_total=0)
    with pytest.raises(SecretUnavailableError, match=rf"Key Vault https://127.0.0.1:{port}/ is unreachable"):
        await resolver.resolve("keyvault:signing-key")
    await resolver.aclose()


async def test_the_sdk_checks_the_challenge_resource() -> None:
    """The SDK sends a token only where the challenge's resource is a parent domain of the vault's host."""
    value = secret_value()
    async with KeyVaultServer(challenge_resource="https://vault.example.com") as impostor:
        impostor.set_secret("signing-key", value)
        credential = impostor.credential()
        resolver = SecretResolver(impostor.vault_url, credential, **impostor.client_kwargs())
        with pytest.raises(SecretUnavailableError, match="does not match the requested domain"):
            await resolver.resolve("keyvault:signing-key")
        await resolver.aclose()
        assert credential.requests == []

    # On 127.0.0.1:<port> the real resource never matches: such a vault needs verify_challenge_resource=False.
    async with KeyVaultServer() as local:
        local.set_secret("signing-key", value)
        credential = local.credential()
        resolver = SecretResolver(local.loopback_url, credential, **local.loopback_kwargs)
        with pytest.raises(SecretUnavailableError, match="does not match the requested domain"):
            await resolver.resolve("keyvault:signing-key")
        await resolver.aclose()
        resolver = SecretResolver(
            local.loopback_url, credential, verify_challenge_resource=False, **local.loopback_kwargs
        )
        assert await resolver.resolve("keyvault:signing-key") == value
        await resolver.aclose()


async def test_the_default_credential_is_built_at_first_read_and_closed(
    vault: KeyVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import azure.identity.aio

    built: list[FakeCredential] = []
    closed: list[FakeCredential] = []

    class Recording(FakeCredential):
        async def close(self) -> None:
            closed.append(self)

    def default_credential(**kwargs: Any) -> FakeCredential:
        built.append(Recording(vault))
        return built[-1]

    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", default_credential)
    resolver = SecretResolver(vault.vault_url, **vault.client_kwargs())
    assert built == []
    value = secret_value()
    vault.set_secret("signing-key", value)
    assert await resolver.resolve("keyvault:signing-key") == value
    assert len(built) == 1
    await resolver.aclose()
    assert closed == built


async def test_no_secret_value_is_logged(
    vault: KeyVaultServer, credential: FakeCredential, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    values = [secret_value() for _ in range(3)]
    vault.set_secret("openai-key", values[0])
    caplog.set_level(logging.DEBUG)
    # devhost quiets azure-core's request logger (its configure_logging may have run in this process).
    caplog.set_level(logging.DEBUG, logger="azure.core.pipeline.policies.http_logging_policy")
    # logging_enable would make azure-core log response bodies: it is dropped.
    resolver = SecretResolver(
        vault.vault_url, credential, clock=clock, logging_enable=True, **vault.client_kwargs()
    )
    consumer = Consumer(vault, "openai-key")
    errors: list[SecretError] = []

    assert await with_secret(resolver, "keyvault:openai-key", consumer.call, setting="OPENAI_API_KEY") == "ok"
    vault.set_secret("openai-key", values[1])
    assert await with_secret(resolver, "keyvault:openai-key", consumer.call, setting="OPENAI_API_KEY") == "ok"
    vault.set_secret("openai-key", values[2])
    clock.advance(5)
    assert await resolver.refresh("keyvault:openai-key", seen=values[1]) == values[1]  # rate-limited
    for reference in ("keyvault:missing", "keyvault:openai-key/" + uuid.uuid4().hex):
        try:
            await resolver.resolve(reference)
        except SecretError as exc:
            errors.append(exc)
    vault.forbidden = True
    clock.advance(60)
    try:
        await resolver.refresh("keyvault:openai-key", seen=values[1])
    except SecretError as exc:
        errors.append(exc)
    await resolver.aclose()

    assert len(errors) == 3
    text = caplog.text + "\n".join(str(e) for e in errors) + repr(resolver)
    assert "OPENAI_API_KEY (keyvault:openai-key) read from Key Vault" in caplog.text
    assert "re-reading OPENAI_API_KEY (keyvault:openai-key)" in caplog.text
    assert "logging_enable ignored" in caplog.text
    assert any(r.name.startswith("azure.core") for r in caplog.records)  # the SDK's own logging was on
    for value in values:
        assert value not in text


# --- wiring: settings that hold references are read before the services are built -------------------------


async def test_services_are_built_with_secrets_read_from_the_vault(
    vault: KeyVaultServer, resolver: SecretResolver, tmp_path: Path
) -> None:
    vault.set_secret("signing-key", "a-signing-key-from-the-vault")
    settings = Settings(
        data_dir=tmp_path, key_vault_url=vault.vault_url, signing_key=SecretStr("keyvault:signing-key")
    )
    resolved = await resolve_secrets(settings, resolver)
    assert resolved.signing_key is not None
    assert resolved.signing_key.get_secret_value() == "a-signing-key-from-the-vault"
    assert settings.signing_key is not None
    assert settings.signing_key.get_secret_value() == "keyvault:signing-key", "the raw reference is kept"
    services = build_services(resolved, secrets=resolver)
    try:
        assert not (tmp_path / "signing.key").exists(), "the vault's key is used, not a local one"
    finally:
        await services.aclose()


def test_a_reference_without_a_vault_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="KEY_VAULT_URL"):
        Settings(data_dir=tmp_path, signing_key=SecretStr("keyvault:signing-key"))
