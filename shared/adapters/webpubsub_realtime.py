"""The realtime hub on Azure Web PubSub, through its service SDK (azure-messaging-webpubsubservice).

Keyless: the app's managed identity (DefaultAzureCredential) holds *Web PubSub Service Owner*; the service
signs client access tokens itself (`:generateToken`), so the app never holds an access key, and the
resource runs with local auth disabled. The SDK is imported when the adapter is built (cold start).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.ports import ClientAccess, RealtimeError

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential


class WebPubSubHub:
    def __init__(
        self, endpoint: str, hub: str, credential: AsyncTokenCredential, **client_kwargs: Any
    ) -> None:
        from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient  # noqa: PLC0415

        self._credential = credential
        self._client = WebPubSubServiceClient(
            endpoint=endpoint, hub=hub, credential=credential, **client_kwargs
        )

    async def client_access(self, user_id: str, groups: Sequence[str], lifetime: timedelta) -> ClientAccess:
        minutes = max(1, int(lifetime.total_seconds() // 60))
        expires = datetime.now(UTC) + timedelta(minutes=minutes)
        async with _errors("generate a client access token"):
            # roles=[]: receive-only (no joinLeaveGroup, no sendToGroup).
            token = await self._client.get_client_access_token(
                user_id=user_id, groups=list(groups), roles=[], minutes_to_expire=minutes
            )
        return ClientAccess(str(token["url"]), expires)

    async def send_to_group(self, group: str, message: dict[str, object]) -> None:
        async with _errors("send to a group"):
            await self._client.send_to_group(group, message, content_type="application/json")

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        async with _errors("send to a user"):
            await self._client.send_to_user(user_id, message, content_type="application/json")

    async def add_user_to_group(self, group: str, user_id: str) -> None:
        async with _errors("add a user to a group"):
            await self._client.add_user_to_group(group, user_id)

    async def remove_user_from_group(self, group: str, user_id: str) -> None:
        async with _errors("remove a user from a group"):
            await self._client.remove_user_from_group(group, user_id)

    async def aclose(self) -> None:
        await self._client.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()


class _errors:
    """The SDK's errors as the port's (RealtimeError), with what was being done."""

    def __init__(self, what: str) -> None:
        self._what = what

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        from azure.core.exceptions import AzureError  # noqa: PLC0415

        if isinstance(exc, AzureError):
            raise RealtimeError(f"Web PubSub: could not {self._what}: {exc}") from exc
        return False
