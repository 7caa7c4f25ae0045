"""`python -m devhost serve --emulators`: the app on Azurite and the Cosmos DB emulator, as in Azure.

Both emulators start on free ports (Azurite keeps its data under DATA_DIR/azurite; the Cosmos emulator
keeps data in memory only, so meetings are gone after a restart). The app then runs its real Azure
adapters: STORE=cosmos, STORAGE=azure. Two things are specific to the emulator and are set up here, not
in the app: the Cosmos store trusts the local CA that issued the emulator's certificate, and its
transport turns the emulator's 500 for a missing document into the 404 Cosmos DB answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from devhost.emulators import EmulatorTransport, azurite, cosmos
from shared import bootstrap
from shared.adapters.cosmos_store import CosmosStore
from shared.bootstrap import build_services
from shared.config import get_settings

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def on_emulators() -> Iterator[None]:
    data_dir = Path(os.environ.get("DATA_DIR") or ".local")
    workdir = data_dir / "emulators"
    workdir.mkdir(parents=True, exist_ok=True)
    with azurite(workdir, location=data_dir / "azurite") as storage, cosmos(workdir) as database:
        os.environ.update(
            {
                "STORE": "cosmos",
                "STORAGE": "azure",
                "AzureWebJobsStorage": storage.connection_string,
                "COSMOS_ENDPOINT": database.endpoint,
                "COSMOS_KEY": database.key,
            }
        )
        get_settings.cache_clear()
        settings = get_settings()
        store = CosmosStore(
            database.endpoint,
            database.key,
            database=settings.cosmos_database,
            create_if_missing=True,
            connection_verify=str(database.ca_file),
            transport=EmulatorTransport(),
        )
        logger.info("Azurite blobs %s, queues %s", storage.blob_endpoint, storage.queue_endpoint)
        logger.info("Cosmos DB emulator %s (in memory: data lasts until it stops)", database.endpoint)
        bootstrap.override(build_services(settings, store=store))
        try:
            yield
        finally:
            bootstrap.override(None)
