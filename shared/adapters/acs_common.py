"""What every Azure Communication Services adapter shares: the endpoint of a connection string, and one
bounded retry loop that turns the SDKs' exceptions into the port's CommunicationError family.

Throttling (429 with Retry-After) and 5xx are retried here with bounded waits, so a Retry-After of an hour
never parks a request; azure-core's own status retries are switched off (`retry_status=0`) by the adapters.
SDK exceptions never leave this module: a refusal (a 4xx) becomes what the adapter's `refusal` says.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shared.ports import CommunicationError, CommunicationRejected, CommunicationUnavailable

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 4
MAX_WAIT_SECONDS = 8.0  # a longer Retry-After is passed on to our caller instead of waited out

Sleep = Callable[[float], Awaitable[None]]
# What a refusal (a 4xx other than 401 and 429) means to this adapter: (status, ACS error code) -> error.
Refusal = Callable[[int, str], CommunicationError]


def rejected(what: str) -> Refusal:
    """The default reading of a refusal: a request we should not have sent."""
    return lambda status, code: CommunicationRejected(f"ACS rejected {what} ({status} {code})")


async def call_acs(
    what: str,
    request: Callable[[], Awaitable[T]],
    *,
    sleep: Sleep = asyncio.sleep,
    refusal: Refusal | None = None,
) -> T:
    """Runs `request` (one SDK call), retrying 429 and 5xx; `what` names it in errors and logs."""
    from azure.core.exceptions import (  # noqa: PLC0415 - the SDK is not paid for at cold start
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    refuse = refusal or rejected(what)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await request()
        except ClientAuthenticationError as exc:
            # Also what a token credential raises when it cannot get a token (no status at all).
            log.error("ACS refused our credentials to %s (status %s)", what, exc.status_code)
            raise CommunicationError(f"ACS refused our credentials to {what}") from exc
        except HttpResponseError as exc:
            status = exc.status_code or 0
            if status != 429 and status < 500:
                code = error_code(exc)
                log.log(
                    logging.INFO if status in (404, 409) else logging.ERROR,
                    "ACS refused to %s: %s %s",
                    what,
                    status,
                    code,
                )
                raise refuse(status, code) from exc
            wait = retry_after(exc)
            backoff = wait if wait is not None else min(MAX_WAIT_SECONDS, 0.5 * 2**attempt)
            if attempt == ATTEMPTS or backoff > MAX_WAIT_SECONDS:
                raise CommunicationUnavailable(
                    f"ACS kept answering {status} to {what}", retry_after=wait
                ) from exc
            log.warning("ACS answered %s to %s; retrying in %.1f s", status, what, backoff)
            await sleep(backoff + random.uniform(0, 0.1))  # noqa: S311 - jitter, not crypto
        except (ServiceRequestError, ServiceResponseError) as exc:
            # azure-core already retried the connection; a broken exchange is not ours to repeat blindly.
            raise CommunicationUnavailable(f"ACS could not be reached to {what}") from exc
    raise AssertionError("unreachable")


def endpoint_of(connection_string: str) -> str:
    """The connection string's endpoint, with the trailing slash the portal shows."""
    for part in connection_string.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "endpoint" and value:
            return value if value.endswith("/") else value + "/"
    raise ValueError("the ACS connection string has no endpoint")


def retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from ACS; fall back to our own backoff


def error_code(exc: Any) -> str:
    """ACS's error code (`{"error": {"code": ...}}`): Call Automation puts its numeric subcode there."""
    error = getattr(exc, "error", None)
    return str(getattr(error, "code", "") or "")


def acs_endpoint(
    endpoint: str | None, connection_string: str | None, credential: AsyncTokenCredential | None
) -> str:
    """The resource's endpoint (with its trailing slash) from what an adapter was given; ValueError when
    that is neither a connection string nor an endpoint with a credential."""
    if connection_string:
        return endpoint_of(connection_string)
    if endpoint and credential is not None:
        return endpoint if endpoint.endswith("/") else endpoint + "/"
    raise ValueError("ACS needs a connection string, or an endpoint and a credential")


ClientT = TypeVar("ClientT")


def acs_client(
    client_type: type[ClientT],
    *,
    endpoint: str,
    connection_string: str | None,
    credential: AsyncTokenCredential | None,
    **options: Any,
) -> ClientT:
    """One of the ACS SDK's async clients, from the connection string (HMAC) or the endpoint and an
    Entra ID credential, whichever the adapter was given."""
    if connection_string:
        made: ClientT = client_type.from_connection_string(connection_string, **options)  # type: ignore[attr-defined]
        return made
    assert credential is not None
    return client_type(endpoint, credential, **options)  # type: ignore[call-arg]
