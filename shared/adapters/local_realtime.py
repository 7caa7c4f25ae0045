"""The embedded realtime hub: client URLs to devhost's Web PubSub-compatible endpoint, whose tokens it
signs with the local key, and messages handed to that endpoint in this process (shared/realtime/local_hub).

Without devhost in the process (a tool, `func start` with REALTIME=local) there is nobody to deliver to:
messages are dropped, as the service drops messages for a group nobody is in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.ports import ClientAccess
from shared.realtime import local_hub

log = logging.getLogger(__name__)


class LocalRealtimeHub:
    def __init__(self, data_dir: Path, public_base_url: str, hub: str) -> None:
        self._data_dir = data_dir
        self._hub = hub
        self._client_url = local_hub.client_url_base(public_base_url, hub)
        self._key: bytes | None = None

    async def client_access(self, user_id: str, groups: Sequence[str], lifetime: timedelta) -> ClientAccess:
        if self._key is None:
            self._key = local_hub.token_key(self._data_dir)
        # No role: the connection receives what the app sends, and can neither join nor send to a group.
        token, expires = local_hub.sign_client_token(
            self._key, self._client_url, user_id, groups=groups, roles=(), lifetime=lifetime
        )
        return ClientAccess(f"{self._client_url}?access_token={token}", datetime.fromtimestamp(expires, UTC))

    async def send_to_group(self, group: str, message: dict[str, object]) -> None:
        if (backend := local_hub.current()) is not None:
            await backend.send_to_group(self._hub, group, message)

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        if (backend := local_hub.current()) is not None:
            await backend.send_to_user(self._hub, user_id, message)

    async def add_user_to_group(self, group: str, user_id: str) -> None:
        if (backend := local_hub.current()) is not None:
            await backend.add_user_to_group(self._hub, group, user_id)

    async def remove_user_from_group(self, group: str, user_id: str) -> None:
        if (backend := local_hub.current()) is not None:
            await backend.remove_user_from_group(self._hub, group, user_id)

    async def aclose(self) -> None:
        return None
