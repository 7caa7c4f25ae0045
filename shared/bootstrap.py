"""Builds the services from Settings once per worker, lazily, at the first invocation.

Nothing here runs at import time: adapters import their SDKs when they are built. Tests install their
own Services (with fakes) through `override`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from shared.auth import Authenticator, build_authenticator
from shared.config import Settings, get_settings
from shared.logs import configure_logging
from shared.ports import Communication, Store
from shared.secrets_files import local_key
from shared.services.identities import IdentityService
from shared.services.join import JoinService
from shared.services.meetings import MeetingService
from shared.signing import Signer

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    authenticator: Authenticator
    store: Store
    communication: Communication
    meetings: MeetingService
    join: JoinService

    async def aclose(self) -> None:
        await self.authenticator.aclose()
        await self.communication.aclose()
        await self.store.aclose()


_services: Services | None = None
_lock: asyncio.Lock | None = None


async def get_services() -> Services:
    global _services, _lock  # noqa: PLW0603 - one set of clients per worker process, by design
    if _services is not None:
        return _services
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _services is None:
            _services = build_services(get_settings())
    return _services


def override(services: Services | None) -> None:
    """Installs (or, with None, forgets) the services every handler uses: for tests and tools."""
    global _services, _lock  # noqa: PLW0603
    _services = services
    _lock = None


def build_services(
    settings: Settings, *, store: Store | None = None, communication: Communication | None = None
) -> Services:
    """Builds every service; `store` and `communication` replace the adapters Settings would pick."""
    configure_logging(
        settings.applicationinsights_connection_string.get_secret_value()
        if settings.applicationinsights_connection_string
        else None
    )
    store = store or _build_store(settings)
    communication = communication or _build_communication(settings)
    signer = Signer(_signing_key(settings), purpose="continuation")
    log.info(
        "services built: store=%s communication=%s auth=%s",
        settings.store,
        settings.communication,
        settings.auth_mode,
    )
    meetings = MeetingService(store, communication, signer)
    return Services(
        settings=settings,
        authenticator=build_authenticator(settings),
        store=store,
        communication=communication,
        meetings=meetings,
        join=JoinService(meetings, IdentityService(store, communication), communication),
    )


def _signing_key(settings: Settings) -> bytes:
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode()
    return local_key(settings.data_dir, "signing.key")


def _build_store(settings: Settings) -> Store:
    if settings.store == "sqlite":
        from shared.adapters.sqlite_store import SqliteStore  # noqa: PLC0415

        return SqliteStore(settings.data_dir / "store.sqlite3")
    from shared.adapters.cosmos_store import build_cosmos_store  # noqa: PLC0415

    return build_cosmos_store(settings)


def _build_communication(settings: Settings) -> Communication:
    if settings.communication == "local":
        from shared.adapters.local_communication import LocalCommunication  # noqa: PLC0415

        return LocalCommunication(settings.data_dir)
    from shared.adapters.acs_communication import AcsCommunication  # noqa: PLC0415

    if settings.acs_connection_string is not None:
        return AcsCommunication(connection_string=settings.acs_connection_string.get_secret_value())
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    # In Azure this is the app's managed identity (AZURE_CLIENT_ID picks a user-assigned one).
    return AcsCommunication(endpoint=settings.acs_endpoint, credential=DefaultAzureCredential())
