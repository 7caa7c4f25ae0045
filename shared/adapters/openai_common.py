"""What the OpenAI adapters share: their clients, and one request with our own retries.

- `OpenAIBackend`: OpenAI (or a compatible OPENAI_BASE_URL) with an API key. The key may be a `keyvault:`
  reference: it is read through the SecretResolver at the first request (not at start), and read again once
  after a 401 (a rotated key), the client then swapped to it.
- `AzureBackend`: an Azure OpenAI deployment with Entra ID tokens for `https://cognitiveservices.azure.com`
  (DefaultAzureCredential unless a credential is given: the app's managed identity in Azure).
- `connect(service, settings, ...)`: the backend, model parameter and name that a provider setting
  (TRANSCRIBER, SUMMARIZER) asks for: what each adapter's factory starts from.
- `Requester.call(send)`: `send(client)` with the SDK's retries off (`max_retries=0`): 408, 409, 429 and 5xx,
  timeouts and connection failures are retried with exponential backoff and jitter, waiting what
  `retry-after-ms` / `Retry-After` ask for, up to ATTEMPTS in all; a Retry-After longer than MAX_WAIT_SECONDS
  is passed on to the caller instead of waited out. Then the port's "unavailable" error. Any other 4xx is the
  port's "rejected" error at once, with the provider's own message. SDK exceptions never leave here.

Each adapter raises its own port's errors: it hands them over as `Failures`. Nothing here imports `openai`
or `azure.identity` until the first request (cold start).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from shared.secrets import SecretConfigurationError, SecretError, SecretSetting

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from openai import APIStatusError, AsyncOpenAI

    from shared.config import Settings
    from shared.secrets import SecretResolver

log = logging.getLogger(__name__)
T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]

AZURE_SCOPE: Final = "https://cognitiveservices.azure.com/.default"

ATTEMPTS: Final = 4
BACKOFF_SECONDS: Final = 1.0  # the first wait without Retry-After; doubled after each failure
MAX_BACKOFF_SECONDS: Final = 8.0
MAX_WAIT_SECONDS: Final = 30.0  # a longer Retry-After is passed on to our caller instead of waited out
RETRY_AFTER_JITTER: Final = 0.25  # added to Retry-After so that throttled workers do not return in step
CONNECT_TIMEOUT_SECONDS: Final = 10.0

_RETRIED_STATUSES: Final = frozenset({408, 409, 429})


class UnavailableError(Protocol):
    """The constructor of a port's "retry later" error (TranscriberUnavailable, SummarizerUnavailable)."""

    def __call__(self, message: str, retry_after: float | None = None) -> Exception: ...


@dataclass(frozen=True, slots=True)
class Failures:
    """The port's errors an adapter raises: refused for good, and failed for now."""

    rejected: Callable[[str], Exception]
    unavailable: UnavailableError


# --- credentials and clients -----------------------------------------------------------------------------


class Backend(Protocol):
    async def client(self) -> tuple[AsyncOpenAI, str | None]:
        """The client to use and the credential it sends (for `renew`), built at first use."""
        ...

    async def renew(self, used: str | None) -> bool:
        """After a 401 with `used`: True if a retry may succeed with `client()` now."""
        ...

    def advice(self, status: int) -> str:
        """What to check when the provider refuses us with `status` (appended to the error)."""
        ...

    async def aclose(self) -> None: ...


def _timeout(total: float) -> Any:
    from openai import Timeout  # noqa: PLC0415 - cold start

    return Timeout(total, connect=min(total, CONNECT_TIMEOUT_SECONDS))


class OpenAIBackend:
    """OpenAI with an API key; a `keyvault:` key is re-read after a 401 and the client swapped to it.

    `model_setting` names the setting to check when OpenAI does not know the model (404).
    """

    def __init__(
        self, key: SecretSetting, base_url: str | None, timeout: float, *, model_setting: str
    ) -> None:
        self._key = key
        self._base_url = base_url
        self._timeout = timeout
        self._model_setting = model_setting
        self._client: AsyncOpenAI | None = None
        self._current: str | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> tuple[AsyncOpenAI, str | None]:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    key = await self._key.get()
                    from openai import AsyncOpenAI  # noqa: PLC0415 - cold start

                    # max_retries=0: retries and their waits are ours (see the module docstring).
                    self._client = AsyncOpenAI(
                        api_key=key, base_url=self._base_url, max_retries=0, timeout=_timeout(self._timeout)
                    )
                    self._current = key
        return self._client, self._current

    async def renew(self, used: str | None) -> bool:
        if used is None or not self._key.is_reference:
            return False  # a plain key cannot change under us
        async with self._lock:
            if self._client is None or self._current is None:
                return False
            if not hmac.compare_digest(self._current, used):
                return True  # another request already switched to the re-read key
            fresh = await self._key.refresh(seen=used)
            if hmac.compare_digest(fresh, used):
                return False  # the vault still has the refused key (or was read too recently)
            # Same connection pool, new key; the old client object shares it and is simply dropped.
            self._client = self._client.with_options(api_key=fresh)
            self._current = fresh
            return True

    def advice(self, status: int) -> str:
        if status == 401:
            what = "the secret it refers to" if self._key.is_reference else "it"
            return f"; check OPENAI_API_KEY ({what} must hold a valid key)"
        if status == 404:
            return f"; check {self._model_setting} and OPENAI_BASE_URL"
        return ""

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


@dataclass(frozen=True, slots=True)
class AzureDeployment:
    endpoint: str  # AZURE_OPENAI_ENDPOINT
    deployment: str
    api_version: str
    setting: str  # the setting that names the deployment, for the advice on a 404


class AzureBackend:
    """An Azure OpenAI deployment with Entra ID tokens from an AsyncTokenCredential (owned: closed here)."""

    def __init__(
        self,
        target: AzureDeployment,
        credential: AsyncTokenCredential | None,
        timeout: float,
        failures: Failures,
    ) -> None:
        self._target = target
        self._credential = credential
        self._timeout = timeout
        self._failures = failures
        self._client: AsyncOpenAI | None = None

    async def client(self) -> tuple[AsyncOpenAI, str | None]:
        if self._client is None:
            from openai import AsyncAzureOpenAI  # noqa: PLC0415 - cold start

            self._client = AsyncAzureOpenAI(
                azure_endpoint=self._target.endpoint,
                azure_deployment=self._target.deployment,
                api_version=self._target.api_version,
                azure_ad_token_provider=self._token_provider(),
                max_retries=0,
                timeout=_timeout(self._timeout),
            )
        return self._client, None

    def _token_provider(self) -> Callable[[], Awaitable[str]]:
        from azure.core.exceptions import AzureError  # noqa: PLC0415 - cold start
        from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider  # noqa: PLC0415

        if self._credential is None:
            self._credential = DefaultAzureCredential()
        provider = get_bearer_token_provider(self._credential, AZURE_SCOPE)
        deployment = self._target.deployment

        async def token() -> str:
            # Called by the SDK before each request; azure-identity's errors must not leave this module.
            try:
                return await provider()
            except AzureError as exc:
                raise self._failures.unavailable(
                    f"azure-openai:{deployment}: no Entra ID token for Azure OpenAI: {first_line(exc)}"
                ) from exc

        return token

    async def renew(self, used: str | None) -> bool:
        # The token provider already refreshes tokens before they expire: a 401 with a fresh token is a
        # wrong tenant, audience or endpoint, which another token will not fix.
        return False

    def advice(self, status: int) -> str:
        if status in (401, 403):
            return (
                "; the app's identity needs the 'Cognitive Services OpenAI User' role on the Azure OpenAI "
                "resource, and AZURE_OPENAI_ENDPOINT must be that resource"
            )
        if status == 404:
            return f"; check AZURE_OPENAI_ENDPOINT, {self._target.setting}, AZURE_OPENAI_API_VERSION"
        return ""

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        credential, self._credential = self._credential, None
        if credential is not None:
            await credential.close()


# --- from the settings --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Service:
    """What one provider setting picks, read from the settings by the adapter that serves it."""

    setting: str  # TRANSCRIBER, SUMMARIZER
    provider: str  # its value: `openai`, `azure-openai` (anything else is not for these adapters)
    model: str  # the model to call (OpenAI) or that the deployment runs (Azure)
    model_setting: str  # TRANSCRIBE_MODEL, SUMMARY_MODEL
    deployment: str | None  # the Azure deployment
    deployment_setting: str  # AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT, AZURE_OPENAI_CHAT_DEPLOYMENT


@dataclass(frozen=True, slots=True)
class Connection:
    backend: Backend
    model_param: str  # what requests send as `model`: the model, or on Azure the deployment (routed by path)
    name: str  # `openai:<model>` / `azure-openai:<deployment>`: logs, errors, usage


def connect(
    service: Service,
    settings: Settings,
    secrets: SecretResolver,
    *,
    credential: AsyncTokenCredential | None,
    timeout: float,
    failures: Failures,
) -> Connection:
    """The backend `service` asks for; nothing is contacted yet. `credential` (Azure only) replaces
    DefaultAzureCredential; the backend owns it either way (`aclose` closes it)."""
    if service.provider == "azure-openai":
        endpoint, deployment = settings.azure_openai_endpoint, service.deployment
        if not (endpoint and deployment):
            raise ValueError(
                f"{service.setting}=azure-openai needs AZURE_OPENAI_ENDPOINT and {service.deployment_setting}"
            )
        target = AzureDeployment(
            endpoint, deployment, settings.azure_openai_api_version, service.deployment_setting
        )
        return Connection(
            AzureBackend(target, credential, timeout, failures), deployment, f"azure-openai:{deployment}"
        )
    if service.provider == "openai":
        if settings.openai_api_key is None:
            raise ValueError(f"{service.setting}=openai needs OPENAI_API_KEY")
        key = secrets.secret(settings.openai_api_key.get_secret_value(), setting="OPENAI_API_KEY")
        backend = OpenAIBackend(key, settings.openai_base_url, timeout, model_setting=service.model_setting)
        return Connection(backend, service.model, f"openai:{service.model}")
    raise ValueError(f"{service.setting}={service.provider} is not an OpenAI {service.setting.lower()}")


# --- one request, retried ----------------------------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt; never leaves this module."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Unauthorized(Exception):
    """A 401: retried once if the credential can be renewed, else the port's rejection."""


class Requester:
    """Sends requests through a backend with our retries, raising the port's errors only.

    `name` prefixes every message (`openai:whisper-1`); `subject` is what a refusal is about ("the piece").
    """

    def __init__(
        self, backend: Backend, *, name: str, failures: Failures, subject: str, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._backend = backend
        self._name = name
        self._failures = failures
        self._subject = subject
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def call(self, send: Callable[[AsyncOpenAI], Awaitable[T]]) -> T:
        """`await send(client)`, retried as the module docstring says."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._authenticated(send)
            except _Retryable as failure:
                if attempt == ATTEMPTS or (failure.retry_after or 0.0) > MAX_WAIT_SECONDS:
                    raise self._failures.unavailable(
                        f"{self._name}: {failure} (after {attempt} attempt(s))",
                        retry_after=failure.retry_after,
                    ) from failure.__cause__
                wait = _wait(failure.retry_after, attempt)
                log.warning("%s: %s; retrying in %.1f s (attempt %d)", self._name, failure, wait, attempt)
                await self._sleep(wait)
        raise AssertionError("unreachable")

    async def _authenticated(self, send: Callable[[AsyncOpenAI], Awaitable[T]]) -> T:
        """One request, with one more after a 401 if the credential could be renewed."""
        client, used = await self._secret_errors_mapped(self._backend.client)
        try:
            return await self._send(client, send)
        except _Unauthorized as refused:
            if not await self._secret_errors_mapped(lambda: self._backend.renew(used)):
                raise self._failures.rejected(f"{self._name}: {refused}") from refused.__cause__
        log.info("%s: retrying with the re-read credential after a 401", self._name)
        client, _ = await self._secret_errors_mapped(self._backend.client)
        try:
            return await self._send(client, send)
        except _Unauthorized as refused:
            raise self._failures.rejected(
                f"{self._name}: {refused} (also with the re-read key)"
            ) from refused.__cause__

    async def _send(self, client: AsyncOpenAI, send: Callable[[AsyncOpenAI], Awaitable[T]]) -> T:
        import openai  # noqa: PLC0415 - cold start

        try:
            return await send(client)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise _Retryable("the request timed out", None) from exc
        except openai.APIConnectionError as exc:
            raise _Retryable(f"could not be reached ({first_line(exc.__cause__ or exc)})", None) from exc
        except openai.OpenAIError as exc:
            # e.g. a 200 whose body is not the JSON asked for: the provider's fault, possibly passing.
            raise self._failures.unavailable(f"{self._name}: unusable answer: {first_line(exc)}") from exc

    def _status_error(self, exc: APIStatusError) -> Exception:
        status = exc.status_code
        code, message = _error_of(exc)
        detail = f"{status} {code}: {message}" if code else f"{status}: {message}"
        if status == 401:
            return _Unauthorized(f"refused our credentials ({detail}){self._backend.advice(status)}")
        if status == 429 and code == "insufficient_quota":
            # Billing, not load: waiting seconds will not help, yet the request itself is fine.
            log.error("%s: out of quota (%s)", self._name, detail)
            return self._failures.unavailable(f"{self._name}: out of quota ({detail})")
        if status in _RETRIED_STATUSES or status >= 500:
            return _Retryable(f"answered {detail}", _retry_after(exc.response.headers))
        log.error("%s rejected %s: %s", self._name, self._subject, detail)
        return self._failures.rejected(
            f"{self._name} rejected {self._subject} ({detail}){self._backend.advice(status)}"
        )

    async def _secret_errors_mapped(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`, with Key Vault failures as the port's errors: a wrong setting is for good, an outage
        not."""
        try:
            return await call()
        except SecretConfigurationError as exc:
            raise self._failures.rejected(str(exc)) from exc
        except SecretError as exc:
            raise self._failures.unavailable(str(exc)) from exc


# --- errors and waits --------------------------------------------------------------------------------------


def _error_of(exc: APIStatusError) -> tuple[str | None, str]:
    """The (code, message) of an error answer: OpenAI's `{"error": {"message", "type", "code"}}`, Azure's
    `{"error": {"code", "message"}}` (the SDK hands over the inner object), or a non-JSON body."""
    body = exc.body
    if isinstance(body, dict):
        code = body.get("code") or body.get("type")
        message = body.get("message") or exc.message
        return (str(code) if code else None), str(message)
    text = str(body).strip() if body else ""
    return None, first_line(text[:300]) if text else exc.message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the provider asks us to wait: `retry-after-ms` (OpenAI, Azure) or `Retry-After` (seconds or
    an HTTP date), as the SDK's own retry reads them."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        value = lowered.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _wait(retry_after: float | None, attempt: int) -> float:
    if retry_after is not None:
        return retry_after + random.uniform(0, RETRY_AFTER_JITTER)  # noqa: S311 - jitter, not crypto
    backoff = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1))
    return random.uniform(backoff / 2, backoff)  # noqa: S311 - "equal jitter": never under half the backoff


def first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
