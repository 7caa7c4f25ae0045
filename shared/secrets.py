"""Settings whose value is `keyvault:<secret-name>` are read from Azure Key Vault (`KEY_VAULT_URL`).

A reference is `keyvault:<name>` (the latest version) or `keyvault:<name>/<version>` (pinned): a name of
1-127 letters, digits and dashes, a version of 32 hex digits, the prefix in any case. Any other value is plain
and is used as it is. (App Service's own `@Microsoft.KeyVault(...)` references never reach the app: the
platform resolves them before the worker starts.)

- `is_reference` / `parse_reference` / `check_references` tell at start-up which settings are references and
  refuse malformed ones, without touching the vault; Settings keeps the raw values.
- `SecretResolver.resolve` reads a reference at first use through azure-keyvault-secrets' async SecretClient,
  once (concurrent first reads share one request), and keeps the value for the life of the worker.
- Rotation: a consumer that gets an authentication failure with the cached value calls `refresh`, which reads
  the vault again (at most once per secret per `min_refresh_interval`, so a wrong secret cannot hammer the
  vault) unless another caller already did. `with_secret` wraps that: use the value, and on an authentication
  failure refresh once and retry once with the new value.
- Errors name the setting and the secret, never a value: `SecretConfigurationError` (malformed reference, no
  `KEY_VAULT_URL`, `SecretNotFoundError`, a disabled secret) and `SecretUnavailableError` (vault unreachable,
  access refused, no token, throttled or failing). A failed first read is remembered for `failure_backoff`
  seconds, so requests during an outage do not each wait on the vault.

Nothing here imports the Azure SDK until a reference is first read (cold start): the SecretClient and, unless
one is given, `azure.identity.aio.DefaultAzureCredential` are built then.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.keyvault.secrets.aio import SecretClient

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFIX: Final = "keyvault:"
DEFAULT_MIN_REFRESH_INTERVAL: Final = 30.0
DEFAULT_FAILURE_BACKOFF: Final = 5.0
# Timeouts and retries for the SecretClient unless the caller gives its own: azure-core's defaults (300 s to
# connect, 10 retries) would hold a request far longer than a read of one secret deserves.
_CLIENT_DEFAULTS: Final[Mapping[str, Any]] = {"connection_timeout": 10, "read_timeout": 20, "retry_total": 3}

_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION = re.compile(r"[0-9A-Fa-f]{32}")


# --- errors ---------------------------------------------------------------------------------------------


class SecretError(RuntimeError):
    """A setting that refers to Key Vault could not be resolved. Messages never contain a secret value."""

    def __init__(self, message: str, *, secret_name: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.secret_name = secret_name
        self.status = status

    def _again(self) -> SecretError:
        """A fresh error like this one, to raise again from the failure cache."""
        return type(self)(str(self), secret_name=self.secret_name, status=self.status)


class SecretConfigurationError(SecretError):
    """The setting is wrong: a malformed reference, no KEY_VAULT_URL, a missing or disabled secret."""


class SecretNotFoundError(SecretConfigurationError):
    """The vault has no such secret (or no such version)."""


class SecretUnavailableError(SecretError):
    """The vault could not be read: unreachable, access refused, no token for it, throttled or failing."""


# --- references -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecretReference:
    name: str
    version: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """Key Vault compares names (and versions) case-insensitively."""
        return self.name.lower(), self.version.lower() if self.version else None

    def __str__(self) -> str:
        return PREFIX + self.name + (f"/{self.version}" if self.version else "")


def is_reference(value: str | None) -> bool:
    """True when `value` is meant as a Key Vault reference (`keyvault:...`, prefix in any case)."""
    return value is not None and value.lstrip()[: len(PREFIX)].lower() == PREFIX


def parse_reference(value: str, *, setting: str | None = None) -> SecretReference | None:
    """The reference in `value`, None for a plain value; a malformed one is a SecretConfigurationError."""
    if not is_reference(value):
        return None
    body = value.strip()[len(PREFIX) :]
    name, slash, version = body.partition("/")
    if not _NAME.fullmatch(name) or (slash and not _VERSION.fullmatch(version)):
        shown = value.strip()
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise SecretConfigurationError(
            f"{setting + ' ' if setting else ''}{shown!r} is not a valid Key Vault reference: expected "
            "'keyvault:<name>' or 'keyvault:<name>/<version>', the name 1-127 letters, digits and dashes, "
            "the version 32 hex digits",
            secret_name=name or None,
        )
    return SecretReference(name, version or None)


def check_vault_url(vault_url: str) -> str:
    """`vault_url` if it can be a vault's URL (https, a host, no query): else a SecretConfigurationError."""
    parts = urlsplit(vault_url.strip())
    if parts.scheme.lower() != "https" or not parts.hostname or parts.query or parts.fragment:
        raise SecretConfigurationError(
            f"KEY_VAULT_URL {vault_url!r} is not a vault URL: expected https://<vault-name>.vault.azure.net/"
        )
    return vault_url.strip()


def check_references(values: Mapping[str, str | None], vault_url: str | None) -> dict[str, SecretReference]:
    """Start-up check of settings (name -> raw value): the references among them, by setting.

    Every `keyvault:` value must parse, and KEY_VAULT_URL must be a vault URL when there is any. The vault is
    not contacted.
    """
    found: dict[str, SecretReference] = {}
    for setting, value in values.items():
        if value is None:
            continue
        reference = parse_reference(value, setting=setting)
        if reference is not None:
            found[setting] = reference
    if found:
        if not vault_url:
            raise SecretConfigurationError(
                f"{', '.join(sorted(found))} refer to Key Vault but KEY_VAULT_URL is not set"
            )
        check_vault_url(vault_url)
    return found


def is_unauthorized(exc: BaseException) -> bool:
    """A 401 from the usual clients: azure-core and openai (`status_code`), aiohttp (`status`), httpx
    (`response.status_code`). The default `is_auth_failure` of `with_secret`."""
    if getattr(exc, "status_code", None) == 401 or getattr(exc, "status", None) == 401:
        return True
    return getattr(getattr(exc, "response", None), "status_code", None) == 401


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- the resolver ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    value: str = field(repr=False)
    version: str | None


@dataclass(slots=True)
class _Failure:
    at: float
    error: SecretError


class SecretResolver:
    """Resolves setting values, reading `keyvault:` references from one vault; one per worker.

    - `vault_url`: KEY_VAULT_URL; None when no setting refers to Key Vault (a reference is then an error).
    - `credential`: an async token credential; None builds `azure.identity.aio.DefaultAzureCredential` at
      the first read (the app's managed identity in Azure; AZURE_CLIENT_ID picks a user-assigned one).
      A credential built here is closed by `aclose`; one given is the caller's to close.
    - `min_refresh_interval`: at most one re-read per secret in this many seconds.
    - `failure_backoff`: a failed first read is raised again without asking the vault for this long.
    - `clock`: monotonic seconds (tests move it).
    - `client_kwargs`: passed to SecretClient (`connection_verify`, `transport`, `retry_total`, `api_version`,
      `verify_challenge_resource`...); timeouts and retries default to `_CLIENT_DEFAULTS`. `logging_enable`
      is dropped: azure-core's network trace would log response bodies, i.e. secret values.
    """

    def __init__(
        self,
        vault_url: str | None,
        credential: AsyncTokenCredential | None = None,
        *,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        failure_backoff: float = DEFAULT_FAILURE_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        **client_kwargs: Any,
    ) -> None:
        self._vault_url = check_vault_url(vault_url) if vault_url else None
        self._credential = credential
        self._owns_credential = False
        self._min_refresh_interval = min_refresh_interval
        self._failure_backoff = failure_backoff
        self._clock = clock
        if client_kwargs.pop("logging_enable", False):
            log.warning("Key Vault client: logging_enable ignored (it would log secret values)")
        self._client_kwargs = {**_CLIENT_DEFAULTS, **client_kwargs}
        self._client: SecretClient | None = None
        self._cache: dict[tuple[str, str | None], _Entry] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}
        self._refreshed_at: dict[tuple[str, str | None], float] = {}
        self._failures: dict[tuple[str, str | None], _Failure] = {}

    def __repr__(self) -> str:
        return f"SecretResolver(vault_url={self._vault_url!r}, cached={len(self._cache)})"

    @property
    def vault_url(self) -> str | None:
        return self._vault_url

    async def resolve(self, value: str, *, setting: str | None = None) -> str:
        """`value` itself if plain; the secret it refers to otherwise (read once, then from the cache)."""
        reference = parse_reference(value, setting=setting)
        if reference is None:
            return value
        entry = self._cache.get(reference.key)
        if entry is not None:
            return entry.value
        async with self._lock(reference.key):
            entry = self._cache.get(reference.key)
            if entry is None:
                entry = await self._first_read(reference, setting)
            return entry.value

    async def refresh(self, value: str, *, seen: str | None = None, setting: str | None = None) -> str:
        """Reads a reference again after its consumer had an authentication failure; returns the value to use.

        `seen` is the value the consumer failed with: if the cache already holds another one (someone else
        refreshed meanwhile) that one is returned without a read. Otherwise the vault is read, unless the
        secret was re-read less than `min_refresh_interval` ago or is pinned to a version; then the cached
        value is returned unchanged, and the caller should give up rather than retry with it. A failed
        re-read raises and keeps the cached value. Plain values are returned as they are.
        """
        reference = parse_reference(value, setting=setting)
        if reference is None:
            return value
        label = _label(reference, setting)
        async with self._lock(reference.key):
            entry = self._cache.get(reference.key)
            if entry is None:
                return (await self._first_read(reference, setting)).value
            if seen is not None and not _same(entry.value, seen):
                return entry.value
            if reference.version is not None:
                log.warning(
                    "%s is pinned to version %s: not re-read; rotate by changing the setting",
                    label,
                    reference.version,
                )
                return entry.value
            now = self._clock()
            last = self._refreshed_at.get(reference.key)
            if last is not None and now - last < self._min_refresh_interval:
                log.warning(
                    "%s was re-read %.0f s ago: not re-read again yet (at most once every %.0f s)",
                    label,
                    now - last,
                    self._min_refresh_interval,
                )
                return entry.value
            self._refreshed_at[reference.key] = now
            log.info("re-reading %s from Key Vault after an authentication failure", label)
            fresh = await self._fetch(reference, setting)
            self._cache[reference.key] = fresh
            if fresh.version is not None and fresh.version == entry.version:
                log.warning("%s: the vault still has version %s, the one in use", label, fresh.version)
            return fresh.value

    def invalidate(self, name: str) -> None:
        """Forgets what is cached for a secret (`keyvault:<name>[/<version>]` or a bare name: every version),
        including a remembered failure: the next `resolve` reads the vault. Not rate-limited; consumers that
        saw an authentication failure should call `refresh`."""
        reference = parse_reference(name if is_reference(name) else PREFIX + name)
        if reference is None:  # pragma: no cover - a prefixed value is always a reference
            return
        name_key, version_key = reference.key
        for store in (self._cache, self._failures):
            for key in [k for k in store if k[0] == name_key and version_key in (None, k[1])]:
                del store[key]

    def secret(self, value: str, *, setting: str | None = None) -> SecretSetting:
        """A handle on one setting's value (plain or reference) for the adapter that uses it."""
        return SecretSetting(self, value, setting)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        if self._owns_credential and self._credential is not None:
            credential, self._credential = self._credential, None
            self._owns_credential = False
            await credential.close()

    # --- internals ------------------------------------------------------------------------------------

    def _lock(self, key: tuple[str, str | None]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _first_read(self, reference: SecretReference, setting: str | None) -> _Entry:
        """Reads a reference not in the cache (the caller holds its lock), or raises a recent failure."""
        failure = self._failures.get(reference.key)
        if failure is not None and self._clock() - failure.at < self._failure_backoff:
            raise failure.error._again() from failure.error
        try:
            entry = await self._fetch(reference, setting)
        except SecretError as exc:
            self._failures[reference.key] = _Failure(self._clock(), exc)
            raise
        self._failures.pop(reference.key, None)
        self._cache[reference.key] = entry
        return entry

    def _secret_client(self, reference: SecretReference, setting: str | None) -> SecretClient:
        if self._client is not None:
            return self._client
        if self._vault_url is None:
            raise SecretConfigurationError(
                f"{_label(reference, setting)} refers to Key Vault but KEY_VAULT_URL is not set",
                secret_name=reference.name,
            )
        if self._credential is None:
            from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 - cold start

            self._credential = DefaultAzureCredential()
            self._owns_credential = True
        from azure.keyvault.secrets.aio import SecretClient  # noqa: PLC0415 - cold start

        self._client = SecretClient(self._vault_url, self._credential, **self._client_kwargs)
        return self._client

    async def _fetch(self, reference: SecretReference, setting: str | None) -> _Entry:
        client = self._secret_client(reference, setting)
        from azure.core.exceptions import (  # noqa: PLC0415 - cold start
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        label, vault, name = _label(reference, setting), self._vault_url, reference.name
        try:
            secret = await client.get_secret(reference.name, reference.version)
        except ResourceNotFoundError as exc:
            what = f"secret {name!r}" + (f" version {reference.version}" if reference.version else "")
            raise SecretNotFoundError(
                f"{label}: Key Vault {vault} has no {what}; create it or fix the setting",
                secret_name=name,
                status=404,
            ) from exc
        except ClientAuthenticationError as exc:
            # No token (e.g. no managed identity), or the vault refused the token it got.
            raise SecretUnavailableError(
                f"{label}: could not authenticate to Key Vault {vault}: {_first_line(exc)}",
                secret_name=name,
                status=getattr(exc, "status_code", None),
            ) from exc
        except HttpResponseError as exc:
            status = exc.status_code
            code, inner = _error_codes(exc)
            if status == 403 and inner == "SecretDisabled":
                raise SecretConfigurationError(
                    f"{label}: secret {name!r} is disabled in Key Vault {vault}; enable it or point the "
                    "setting at another secret",
                    secret_name=name,
                    status=status,
                ) from exc
            if status == 403:
                raise SecretUnavailableError(
                    f"{label}: Key Vault {vault} refused to read secret {name!r} (403 {inner or code}); give "
                    "the app's identity the 'Key Vault Secrets User' role on the vault (or a 'get' access "
                    "policy for secrets) and check the vault's network rules",
                    secret_name=name,
                    status=status,
                ) from exc
            raise SecretUnavailableError(
                f"{label}: Key Vault {vault} answered {status} {code or ''}".rstrip(),
                secret_name=name,
                status=status,
            ) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise SecretUnavailableError(
                f"{label}: Key Vault {vault} is unreachable: {_first_line(exc)}", secret_name=name
            ) from exc
        except AzureError as exc:
            raise SecretUnavailableError(
                f"{label}: reading from Key Vault {vault} failed: {_first_line(exc)}", secret_name=name
            ) from exc
        except ValueError as exc:
            # The SDK refuses a challenge whose resource is not a parent domain of the vault's host.
            raise SecretUnavailableError(
                f"{label}: the Key Vault client refused to talk to {vault}: {_first_line(exc)}",
                secret_name=name,
            ) from exc
        if secret.value is None:
            raise SecretConfigurationError(f"{label}: secret {name!r} has no value", secret_name=name)
        log.info("%s read from Key Vault %s (version %s)", label, vault, secret.properties.version)
        return _Entry(secret.value, secret.properties.version)


def _label(reference: SecretReference, setting: str | None) -> str:
    return f"{setting} ({reference})" if setting else str(reference)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error_codes(exc: Any) -> tuple[str | None, str | None]:
    """Key Vault's error code and inner error code, when the body had them."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    inner = getattr(error, "innererror", None)
    inner_code = inner.get("code") if isinstance(inner, dict) else None
    return (code if isinstance(code, str) else None), (inner_code if isinstance(inner_code, str) else None)


# --- for consumers --------------------------------------------------------------------------------------


async def with_secret(
    resolver: SecretResolver,
    reference: str,
    use: Callable[[str], Awaitable[T]],
    is_auth_failure: Callable[[Exception], bool] = is_unauthorized,
    *,
    setting: str | None = None,
) -> T:
    """`await use(value)`; if that fails with an authentication failure and `reference` is a Key Vault
    reference, refresh it once and, if that gives a different value, `use` it once more.

    When the refresh gives nothing new (rate-limited, pinned, or the vault still has the same value), the
    original failure is raised; a refresh that fails raises its SecretError (chained to the failure).
    """
    value = await resolver.resolve(reference, setting=setting)
    try:
        return await use(value)
    except Exception as exc:
        if not (is_reference(reference) and is_auth_failure(exc)):
            raise
        failure = exc
    try:
        fresh = await resolver.refresh(reference, seen=value, setting=setting)
    except SecretError as refresh_error:
        raise refresh_error from failure
    if _same(fresh, value):
        raise failure
    log.info("retrying with the re-read value of %s", setting or reference)
    return await use(fresh)


@dataclass(frozen=True, slots=True)
class SecretSetting:
    """One setting's value (plain or `keyvault:`) bound to the resolver: what an adapter keeps."""

    resolver: SecretResolver
    raw: str = field(repr=False)
    setting: str | None = None

    @property
    def is_reference(self) -> bool:
        return is_reference(self.raw)

    async def get(self) -> str:
        return await self.resolver.resolve(self.raw, setting=self.setting)

    async def refresh(self, seen: str | None = None) -> str:
        return await self.resolver.refresh(self.raw, seen=seen, setting=self.setting)

    async def use(
        self,
        use: Callable[[str], Awaitable[T]],
        is_auth_failure: Callable[[Exception], bool] = is_unauthorized,
    ) -> T:
        return await with_secret(self.resolver, self.raw, use, is_auth_failure, setting=self.setting)
