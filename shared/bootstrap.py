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
from shared.ports import (
    Answerer,
    BlobStore,
    CallRecorder,
    Communication,
    EventSink,
    QueueStore,
    RealtimeHub,
    SearchIndex,
    Store,
    Summarizer,
    Transcriber,
)
from shared.realtime.events import HUB, EventPublisher
from shared.secrets import SecretResolver
from shared.secrets_files import local_key
from shared.services.ask import AskService
from shared.services.call_recording_fetch import CallRecordingFetch
from shared.services.call_recordings import CallRecordingService
from shared.services.captions import CaptionsService
from shared.services.erasure import ErasureService
from shared.services.export import ExportService
from shared.services.identities import IdentityService
from shared.services.join import JoinService
from shared.services.meetings import MeetingService
from shared.services.notes import NotesService
from shared.services.operators import OperatorService
from shared.services.realtime import RealtimeService
from shared.services.reconciler import Reconciler
from shared.services.recordings import RecordingService
from shared.services.search import SearchIndexing, SearchService
from shared.services.summary import SummaryJob
from shared.services.transcription import TranscriptionJob
from shared.signing import Signer
from shared.telemetry.metrics import Prices

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    authenticator: Authenticator
    store: Store
    communication: Communication
    meetings: MeetingService
    join: JoinService
    blobs: BlobStore
    queues: QueueStore
    secrets: SecretResolver
    transcriber: Transcriber
    summarizer: Summarizer
    recordings: RecordingService
    notes: NotesService
    transcription: TranscriptionJob
    summary: SummaryJob
    recorder: CallRecorder
    call_recordings: CallRecordingService
    call_recording_fetch: CallRecordingFetch
    reconciler: Reconciler
    operators: OperatorService
    export: ExportService
    erasure: ErasureService
    realtime: RealtimeHub
    event_sink: EventSink
    events: EventPublisher
    live: RealtimeService
    answerer: Answerer
    ask: AskService
    search_index: SearchIndex
    search: SearchService
    captions: CaptionsService

    async def aclose(self) -> None:
        await self.authenticator.aclose()
        await self.search_index.aclose()
        await self.event_sink.aclose()
        await self.realtime.aclose()
        await self.transcriber.aclose()
        await self.summarizer.aclose()
        await self.answerer.aclose()
        await self.recorder.aclose()
        await self.communication.aclose()
        await self.store.aclose()
        await self.blobs.aclose()
        await self.queues.aclose()
        await self.secrets.aclose()


# Settings that may be `keyvault:<name>` references and are needed to build the services. Others (an
# OpenAI key) are resolved by the adapter that uses them, which can re-read them after a 401.
SECRETS_AT_BUILD = ("signing_key", "acs_connection_string", "cosmos_key")


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
            settings = get_settings()
            resolver = SecretResolver(settings.key_vault_url)
            _services = build_services(await resolve_secrets(settings, resolver), secrets=resolver)
    return _services


async def resolve_secrets(settings: Settings, resolver: SecretResolver) -> Settings:
    """The settings with their Key Vault references read (first use; the vault is not asked at import)."""
    from pydantic import SecretStr  # noqa: PLC0415

    update: dict[str, SecretStr] = {}
    for field in SECRETS_AT_BUILD:
        value = getattr(settings, field)
        if value is not None:
            raw = value.get_secret_value()
            resolved = await resolver.resolve(raw, setting=field.upper())
            if resolved != raw:
                update[field] = SecretStr(resolved)
    return settings.model_copy(update=update) if update else settings


async def shutdown() -> None:
    """Closes the services' clients, if any were built (a host stopping calls this)."""
    global _services
    if _services is not None:
        services, _services = _services, None
        await services.aclose()


def override(services: Services | None) -> None:
    """Installs (or, with None, forgets) the services every handler uses: for tests and tools."""
    global _services, _lock  # noqa: PLW0603
    _services = services
    _lock = None


def build_services(
    settings: Settings,
    *,
    store: Store | None = None,
    communication: Communication | None = None,
    secrets: SecretResolver | None = None,
    transcriber: Transcriber | None = None,
    summarizer: Summarizer | None = None,
    recorder: CallRecorder | None = None,
    realtime: RealtimeHub | None = None,
    event_sink: EventSink | None = None,
    answerer: Answerer | None = None,
    search_index: SearchIndex | None = None,
) -> Services:
    """Builds every service; the adapters given replace those Settings would pick."""
    from shared.adapters.azure_storage_auth import build_blob_store, build_queue_store  # noqa: PLC0415
    from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE  # noqa: PLC0415

    configure_logging(
        settings.applicationinsights_connection_string.get_secret_value()
        if settings.applicationinsights_connection_string
        else None
    )
    store = store or build_store(settings)
    communication = communication or _build_communication(settings)
    key = signing_key_of(settings)
    signer = Signer(key, purpose="continuation")
    log.info(
        "services built: store=%s communication=%s auth=%s transcriber=%s summarizer=%s",
        settings.store,
        settings.communication,
        settings.auth_mode,
        settings.transcriber,
        settings.summarizer,
    )
    realtime = realtime or build_realtime(settings)
    event_sink = event_sink or build_event_sink(settings)
    events = EventPublisher(realtime, event_sink)
    search_index = search_index or build_search_index(settings)
    blobs = build_blob_store(settings, Signer(key, purpose=UPLOAD_SIGNING_PURPOSE), settings.public_base_url)
    indexing = SearchIndexing(search_index, blobs, visibility=settings.summary_visibility)
    meetings = MeetingService(store, communication, signer, events=events, search=indexing)
    secrets = secrets or SecretResolver(settings.key_vault_url)
    queues = build_queue_store(settings)
    transcriber = transcriber or build_transcriber(settings, secrets)
    summarizer = summarizer or build_summarizer(settings, secrets)
    recorder = recorder or _build_recorder(settings, transcriber, key, communication)
    recordings = RecordingService(
        store, blobs, queues, meetings, recorder=recorder, events=events, search=indexing
    )
    notes = NotesService(
        store, blobs, meetings, visibility=settings.summary_visibility, events=events, search=indexing
    )
    answerer = answerer or build_answerer(settings, secrets)
    reconciler = Reconciler(
        store,
        blobs,
        queues,
        recordings,
        events=events,
        retain_recordings_days=settings.retain_recordings_days,
        retain_notes_days=settings.retain_notes_days,
    )
    operators = OperatorService(
        store,
        blobs,
        recordings,
        reconciler,
        Signer(key, purpose="operator-continuation"),
        admin_users=settings.operators,
    )
    return Services(
        settings=settings,
        authenticator=build_authenticator(settings),
        store=store,
        communication=communication,
        meetings=meetings,
        join=JoinService(meetings, IdentityService(store, communication), communication),
        blobs=blobs,
        queues=queues,
        secrets=secrets,
        transcriber=transcriber,
        summarizer=summarizer,
        recordings=recordings,
        notes=notes,
        transcription=TranscriptionJob(
            store,
            blobs,
            queues,
            transcriber,
            max_recording_minutes=settings.max_recording_minutes,
            events=events,
            search=indexing,
            redact_pii=settings.redact_pii,
        ),
        summary=SummaryJob(
            store, blobs, queues, summarizer, events=events, search=indexing, prices=prices_of(settings)
        ),
        recorder=recorder,
        call_recordings=CallRecordingService(
            store, blobs, recorder=recorder, meetings=meetings, queues=queues, events=events
        ),
        call_recording_fetch=CallRecordingFetch(
            store, blobs, queues, recorder=recorder, recordings=recordings, events=events
        ),
        reconciler=reconciler,
        operators=operators,
        export=ExportService(store, blobs),
        erasure=ErasureService(store, blobs, queues, communication, meetings, search=indexing),
        realtime=realtime,
        event_sink=event_sink,
        events=events,
        live=RealtimeService(store, events),
        answerer=answerer,
        ask=AskService(store, blobs, meetings, notes, answerer),
        search_index=search_index,
        search=SearchService(search_index, store, Signer(key, purpose="search-continuation")),
        captions=CaptionsService(
            store,
            blobs,
            queues,
            recorder=recorder,
            meetings=meetings,
            captions_url=settings.captions_url,
            events=events,
        ),
    )


def prices_of(settings: Settings) -> Prices:
    return Prices(
        transcribe_per_minute=settings.price_transcribe_per_minute,
        summary_input_per_million=settings.price_summary_input_per_million,
        summary_output_per_million=settings.price_summary_output_per_million,
    )


def build_realtime(settings: Settings) -> RealtimeHub:
    """The hub REALTIME names: devhost's endpoint in this process, or Azure Web PubSub (keyless)."""
    if settings.realtime == "local":
        from shared.adapters.local_realtime import LocalRealtimeHub  # noqa: PLC0415

        return LocalRealtimeHub(settings.data_dir, settings.public_base_url, HUB)
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    from shared.adapters.webpubsub_realtime import WebPubSubHub  # noqa: PLC0415

    assert settings.webpubsub_endpoint is not None  # Settings checks it
    return WebPubSubHub(settings.webpubsub_endpoint, HUB, DefaultAzureCredential())


def build_event_sink(settings: Settings) -> EventSink:
    """The sink EVENTS names: local webhooks (none listed: nowhere), or an Event Grid topic (keyless)."""
    if settings.events == "local":
        from urllib.parse import urlsplit  # noqa: PLC0415

        from shared.adapters.webhook_sink import KEY_FILE, WebhookSink  # noqa: PLC0415

        origin = urlsplit(settings.public_base_url).hostname or "localhost"
        key = local_key(settings.data_dir, KEY_FILE) if settings.webhook_urls else b""
        return WebhookSink(settings.webhook_urls, key, origin=origin)
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    from shared.adapters.eventgrid_sink import EventGridSink  # noqa: PLC0415

    assert settings.eventgrid_topic_endpoint is not None  # Settings checks it
    return EventGridSink(settings.eventgrid_topic_endpoint, DefaultAzureCredential())


def build_search_index(settings: Settings) -> SearchIndex:
    """The index SEARCH names: SQLite FTS5 under DATA_DIR, or Azure AI Search (keyless)."""
    if settings.search == "sqlite":
        from shared.adapters.sqlite_search import SqliteSearchIndex  # noqa: PLC0415

        return SqliteSearchIndex(settings.data_dir / "search.sqlite3")
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    from shared.adapters.azure_search import AzureSearchIndex  # noqa: PLC0415

    assert settings.search_endpoint is not None  # Settings checks it
    return AzureSearchIndex(
        settings.search_endpoint, DefaultAzureCredential(), index_name=settings.search_index
    )


def build_transcriber(settings: Settings, secrets: SecretResolver) -> Transcriber:
    """The speech-to-text adapter TRANSCRIBER names. Nothing heavy loads here: each loads at first use."""
    if settings.transcriber == "local":
        from shared.adapters.local_transcriber import LocalTranscriber  # noqa: PLC0415

        return LocalTranscriber()
    from shared.adapters.openai_transcriber import build_openai_transcriber  # noqa: PLC0415

    return build_openai_transcriber(settings, secrets)


def build_summarizer(settings: Settings, secrets: SecretResolver) -> Summarizer:
    """The summarizer SUMMARIZER names. Nothing heavy loads here: each loads at first use."""
    if settings.summarizer == "local":
        from shared.adapters.local_summarizer import LocalSummarizer  # noqa: PLC0415

        return LocalSummarizer()
    from shared.adapters.openai_summarizer import build_openai_summarizer  # noqa: PLC0415

    return build_openai_summarizer(settings, secrets)


def build_answerer(settings: Settings, secrets: SecretResolver) -> Answerer:
    """The answerer of questions about a meeting, on SUMMARIZER's provider (and model or deployment)."""
    if settings.summarizer == "local":
        from shared.adapters.local_answerer import LocalAnswerer  # noqa: PLC0415

        return LocalAnswerer()
    from shared.adapters.openai_answerer import build_openai_answerer  # noqa: PLC0415

    return build_openai_answerer(settings, secrets)


def _build_recorder(
    settings: Settings, transcriber: Transcriber, signing_key: bytes, communication: Communication
) -> CallRecorder:
    """ACS Call Automation with COMMUNICATION=acs (the same credentials as the rooms), else the stand-in,
    which plays LOCAL_CALL_AUDIO into a call connected with transcription (its room's members speak)."""
    if settings.communication == "local":
        from shared.adapters.local_call_recording import LocalCallRecorder  # noqa: PLC0415

        async def members(room_id: str) -> list[str]:
            # Presenters first: a mono file is spoken by the first member, the organizer's side of the call.
            room_members = getattr(communication, "room_members", None)
            roles: dict[str, str] = dict(await room_members(room_id)) if room_members is not None else {}
            return sorted(roles, key=lambda acs_id: roles[acs_id] != "presenter")

        return LocalCallRecorder(
            settings.data_dir,
            signing_key=signing_key,
            transcriber=transcriber,
            call_audio=settings.local_call_audio,
            call_audio_speed=settings.local_call_audio_speed,
            room_members=members,
        )
    from shared.adapters.acs_call_recording import AcsCallRecorder  # noqa: PLC0415

    if settings.acs_connection_string is not None:
        return AcsCallRecorder(connection_string=settings.acs_connection_string.get_secret_value())
    from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415

    return AcsCallRecorder(endpoint=settings.acs_endpoint, credential=DefaultAzureCredential())


def signing_key_of(settings: Settings) -> bytes:
    """The key that signs continuation tokens and upload URLs (devhost's upload route verifies with it)."""
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode()
    return local_key(settings.data_dir, "signing.key")


def build_store(settings: Settings) -> Store:
    """The store STORE names (tools outside the app use it too)."""
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
