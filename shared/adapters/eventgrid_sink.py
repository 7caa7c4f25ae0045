"""Events to other systems through an Event Grid custom topic (CloudEvents 1.0 input schema).

Keyless: the app's managed identity holds *EventGrid Data Sender* on the topic, which runs with local
auth disabled (no `aeg-sas-key`). The SDK (azure-eventgrid) is imported when the adapter is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.ports import RealtimeError
from shared.realtime.events import cloud_event

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential


class EventGridSink:
    def __init__(self, endpoint: str, credential: AsyncTokenCredential, **client_kwargs: Any) -> None:
        from azure.eventgrid.aio import EventGridPublisherClient  # noqa: PLC0415

        self._credential = credential
        self._client = EventGridPublisherClient(endpoint, credential, **client_kwargs)

    async def publish(self, events: Sequence[dict[str, object]]) -> None:
        from azure.core.exceptions import AzureError  # noqa: PLC0415
        from azure.core.messaging import CloudEvent  # noqa: PLC0415

        batch = []
        for event in events:
            shaped = cloud_event(event)
            batch.append(
                CloudEvent(
                    source=str(shaped["source"]),
                    type=str(shaped["type"]),
                    data=shaped["data"],
                    subject=str(shaped["subject"]),
                    id=str(shaped["id"]),
                    time=datetime.fromisoformat(str(shaped["time"]).replace("Z", "+00:00")),
                    datacontenttype="application/json",
                )
            )
        try:
            await self._client.send(batch)
        except AzureError as exc:
            raise RealtimeError(f"Event Grid refused or failed the events: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()
