"""One typed Settings object: every knob of the app is named here and nowhere else."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.authority import trusted_key_source
from shared.cors import InvalidOrigin, parse_origins
from shared.secrets import SecretError, check_references
from shared.startup import hosted_signs, unsafe_configuration


class ConfigurationError(RuntimeError):
    """The settings cannot work together; raised at start so a bad deployment fails loudly."""


def _storage(name: str) -> AliasChoices:
    return AliasChoices(f"AzureWebJobsStorage__{name}", f"Storage__{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", populate_by_name=True)

    auth_mode: Literal["dev", "entra", "easyauth"] = "dev"
    auth_tenant_id: str | None = None
    # Comma-separated: an API usually accepts both its client id and its `api://` application id URI.
    auth_audience: str | None = None
    auth_authority: str = "https://login.microsoftonline.com"
    # What the web client signs in with (GET /api/client-config hands them out): its own Entra app
    # registration (a SPA) and the API scope it asks a token for, e.g. `api://<api app id>/user_impersonation`
    # (several: comma-separated). Neither is a secret.
    auth_client_id: str | None = None
    auth_api_scope: str | None = None
    # Browser origins allowed to call the API from another origin (CORS), comma-separated and exact, e.g.
    # `https://x.azurestaticapps.net,http://localhost:5173`. devhost enforces it; in Azure the Function App's
    # CORS setting, which infra/ sets from the same list.
    allowed_origins: str | None = None
    # What a user's token must grant (AUTH_MODE=entra): one of these delegated scopes (`scp`), or one of
    # these app roles assigned to the user (`roles`). Comma-separated; app-only tokens are always refused.
    auth_scopes: str = "user_impersonation"
    auth_roles: str = ""
    # AUTH_MODE=dev only: user ids (comma-separated) who act as operators (GET /api/operations/recordings), as
    # the `Operator` app role makes a user one with Entra ID. Ignored in any other mode.
    admin_users: str = ""

    store: Literal["sqlite", "cosmos"] = "sqlite"
    cosmos_endpoint: str | None = None
    cosmos_database: str = "video-signaling"
    cosmos_key: SecretStr | None = None

    storage: Literal["local", "azure"] = "local"
    # STORAGE=azure: a connection string (Azurite, or keys), or the Functions host's identity-based
    # connection settings (blob and queue URIs, managed identity). The queue triggers read the host's
    # `AzureWebJobsStorage` connection, so the app writes where they read: `AzureWebJobsStorage__*`
    # (`Storage__*`, the older name, is still read).
    azure_web_jobs_storage: SecretStr | None = Field(default=None, validation_alias="AzureWebJobsStorage")
    storage_blob_service_uri: str | None = Field(default=None, validation_alias=_storage("blobServiceUri"))
    storage_queue_service_uri: str | None = Field(default=None, validation_alias=_storage("queueServiceUri"))
    storage_credential: str | None = Field(default=None, validation_alias=_storage("credential"))
    storage_client_id: str | None = Field(default=None, validation_alias=_storage("clientId"))
    communication: Literal["local", "acs"] = "local"
    acs_endpoint: str | None = None
    acs_connection_string: SecretStr | None = None

    transcriber: Literal["local", "openai", "azure-openai"] = "local"
    summarizer: Literal["local", "openai", "azure-openai"] = "local"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    azure_openai_endpoint: str | None = None
    azure_openai_transcribe_deployment: str | None = None
    azure_openai_chat_deployment: str | None = None
    # The speech-to-text model: OpenAI's model name, or what the Azure deployment runs (its response
    # shape differs: whisper-1 gives timed segments, gpt-4o-transcribe-diarize gives speakers too).
    transcribe_model: Literal[
        "whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"
    ] = "whisper-1"
    azure_openai_api_version: str = "2025-04-01-preview"
    # Pieces of one recording sent to the transcriber at once (per worker; the local one uses the CPUs).
    transcribe_concurrency: int = Field(default=4, ge=1, le=32)
    # The longest recording transcribed, in minutes: decoding stops at the cap and the recording fails
    # (`too_long`), so no file, whatever its header says, costs more speech-to-text than this.
    max_recording_minutes: int = Field(default=480, ge=1, le=24 * 60)
    # The chat model that writes summaries: OpenAI's model name, or what AZURE_OPENAI_CHAT_DEPLOYMENT runs
    # (it picks the tokenizer that counts SUMMARY_TOKEN_BUDGET).
    summary_model: str = "gpt-4o-mini"
    # The most tokens one summary request may carry, prompt and reserved answer together; a longer transcript
    # is summarized in parts, then their notes merged. 32,000 keeps an hour of meeting in one request when
    # tokens are counted exactly, and a request well inside Azure's usual per-minute quotas. At least 16,000,
    # so that a merge request holds two parts' notes and its answer; at most the gpt-4o context window.
    summary_token_budget: int = Field(default=32_000, ge=16_000, le=128_000)
    # List prices of the providers in US dollars (README "What a meeting costs"), for the estimated cost
    # per meeting hour the app reports as a metric (`cost.per_meeting_hour`); local providers cost nothing.
    # Set them to the price list of the models deployed: they inform an operator, they bill nobody.
    price_transcribe_per_minute: float = Field(default=0.006, ge=0, le=10)
    price_summary_input_per_million: float = Field(default=0.15, ge=0, le=1000)
    price_summary_output_per_million: float = Field(default=0.60, ge=0, le=1000)

    # Live events to the web client: devhost's Web PubSub-compatible endpoint, or Azure Web PubSub (keyless:
    # the app's identity is Web PubSub Service Owner on WEBPUBSUB_ENDPOINT, e.g. https://x.webpubsub.azure.com).
    realtime: Literal["local", "webpubsub"] = "local"
    webpubsub_endpoint: str | None = None
    # Events to other systems: local webhooks (comma-separated URLs, CloudEvents, signed), or an Event Grid
    # custom topic (keyless: EventGrid Data Sender on EVENTGRID_TOPIC_ENDPOINT, the topic's /api/events URL).
    events: Literal["local", "eventgrid"] = "local"
    # Which summaries participants other than the organizer read: the latest version (`drafts`), or only the
    # latest approved one (`approved`; before any approval, none). The organizer always reads the latest.
    summary_visibility: Literal["drafts", "approved"] = "drafts"
    event_webhooks: str | None = None
    eventgrid_topic_endpoint: str | None = None
    # Search across meetings (GET /api/search): SQLite FTS5 under DATA_DIR, or Azure AI Search (keyless: the
    # app's identity is Search Index Data Contributor and Search Service Contributor on SEARCH_ENDPOINT, e.g.
    # https://x.search.windows.net; the index SEARCH_INDEX is created when missing).
    search: Literal["sqlite", "azure"] = "sqlite"
    search_endpoint: str | None = None
    search_index: str = Field(default="notes", pattern=r"^[a-z0-9][a-z0-9-]{0,127}$")

    # Retention, enforced by the reconciler's timer (0 keeps for ever). A recording's source (the audio or
    # video) is deleted this many days after its transcript was written; infra/ sets a Blob lifecycle rule
    # on the source blobs from the same number, as a backstop.
    retain_recordings_days: int = Field(default=30, ge=0, le=36_500)
    # The notes (transcript, summary) and the recording itself, this many days after the transcript.
    retain_notes_days: int = Field(default=0, ge=0, le=36_500)
    # Masks e-mail addresses, phone numbers, card and account (IBAN) numbers in transcripts as they are
    # written, before any summarizer or search index reads them (shared/notes/redaction.py).
    redact_pii: bool = False

    # Live captions: where ACS streams the call's real-time transcription, the captions service's base URL
    # (wss://… in Azure; devhost starts one in process, ws://127.0.0.1:7072 by default, and sets it). None:
    # captions are off. ACS signs its WebSocket connections for its resource: ACS_RESOURCE_ID (the resource's
    # immutable id, the tokens' audience) is what the captions service checks with COMMUNICATION=acs.
    captions_url: str | None = None
    acs_resource_id: str | None = None
    # The local ACS stand-in: the file played as the audio of a call connected with transcription (captions
    # from a file, offline), and how many times faster than real time.
    local_call_audio: Path | None = None
    local_call_audio_speed: float = Field(default=1.0, gt=0, le=100)

    key_vault_url: str | None = None
    # Where clients reach this app: embedded upload URLs point here (devhost sets it to its own address).
    public_base_url: str = "http://127.0.0.1:7071"
    data_dir: Path = Path(".local")
    # Signs continuation tokens (and later upload URLs). Locally a random key is kept under DATA_DIR;
    # in Azure every instance must share one, so it is required there (a `keyvault:` reference).
    signing_key: SecretStr | None = None

    applicationinsights_connection_string: SecretStr | None = None
    website_instance_id: str | None = Field(default=None, validation_alias="WEBSITE_INSTANCE_ID")

    @property
    def running_in_azure(self) -> bool:
        # Any sign of a hosted environment, not just WEBSITE_INSTANCE_ID: what is refused there fails closed.
        return bool(self.website_instance_id) or bool(hosted_signs(os.environ))

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return parse_origins(self.allowed_origins)

    @property
    def webhook_urls(self) -> tuple[str, ...]:
        return tuple(u.strip() for u in (self.event_webhooks or "").split(",") if u.strip())

    @property
    def api_scopes(self) -> tuple[str, ...]:
        return tuple(s for s in (self.auth_api_scope or "").replace(",", " ").split() if s)

    @property
    def audiences(self) -> tuple[str, ...]:
        if not self.auth_audience:
            return ()
        return tuple(a.strip() for a in self.auth_audience.split(",") if a.strip())

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.auth_scopes.split(",") if s.strip())

    @property
    def operators(self) -> frozenset[str]:
        """The users ADMIN_USERS makes operators: only in dev mode, where anyone may claim any user id."""
        if self.auth_mode != "dev":
            return frozenset()
        return frozenset(u.strip() for u in self.admin_users.split(",") if u.strip())

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.auth_roles.split(",") if r.strip())

    @model_validator(mode="after")
    def _check(self) -> Settings:
        reason = unsafe_configuration(
            {**os.environ, "AUTH_MODE": self.auth_mode, "WEBSITE_INSTANCE_ID": self.website_instance_id or ""}
        )
        if reason is not None:
            raise ConfigurationError(reason)
        if self.auth_mode == "entra" and not (self.auth_tenant_id and self.audiences):
            raise ConfigurationError("AUTH_MODE=entra needs AUTH_TENANT_ID and AUTH_AUDIENCE")
        try:
            parse_origins(self.allowed_origins)
        except InvalidOrigin as exc:
            raise ConfigurationError(f"ALLOWED_ORIGINS: {exc}") from None
        if self.auth_mode == "entra":
            self._check_entra()
        if self.transcriber == "openai" and not self.openai_api_key:
            raise ConfigurationError(
                "TRANSCRIBER=openai needs OPENAI_API_KEY (a `keyvault:` reference in Azure)"
            )
        if self.transcriber == "azure-openai" and not (
            self.azure_openai_endpoint and self.azure_openai_transcribe_deployment
        ):
            raise ConfigurationError(
                "TRANSCRIBER=azure-openai needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT"
            )
        if self.summarizer == "openai" and not self.openai_api_key:
            raise ConfigurationError(
                "SUMMARIZER=openai needs OPENAI_API_KEY (a `keyvault:` reference in Azure)"
            )
        if self.summarizer == "azure-openai" and not (
            self.azure_openai_endpoint and self.azure_openai_chat_deployment
        ):
            raise ConfigurationError(
                "SUMMARIZER=azure-openai needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_CHAT_DEPLOYMENT"
            )
        self._check_live()
        self._check_captions()
        if self.communication == "acs" and not (self.acs_connection_string or self.acs_endpoint):
            raise ConfigurationError("COMMUNICATION=acs needs ACS_ENDPOINT or ACS_CONNECTION_STRING")
        try:
            check_references(
                {
                    name.upper(): value.get_secret_value()
                    for name in ("signing_key", "acs_connection_string", "cosmos_key", "openai_api_key")
                    if (value := getattr(self, name)) is not None
                },
                self.key_vault_url,
            )
        except SecretError as exc:
            raise ConfigurationError(str(exc)) from exc
        if self.running_in_azure and self.signing_key is None:
            raise ConfigurationError(
                "SIGNING_KEY is required in Azure so that every instance signs continuation tokens alike"
            )
        return self

    def _check_live(self) -> None:
        if self.realtime == "webpubsub" and not self.webpubsub_endpoint:
            raise ConfigurationError("REALTIME=webpubsub needs WEBPUBSUB_ENDPOINT")
        if self.events == "eventgrid" and not self.eventgrid_topic_endpoint:
            raise ConfigurationError("EVENTS=eventgrid needs EVENTGRID_TOPIC_ENDPOINT")
        if self.search == "azure" and not self.search_endpoint:
            raise ConfigurationError("SEARCH=azure needs SEARCH_ENDPOINT")

    def _check_captions(self) -> None:
        if self.captions_url is None:
            return
        from urllib.parse import urlsplit  # noqa: PLC0415

        parts = urlsplit(self.captions_url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.path not in ("", "/"):
            raise ConfigurationError(
                f"CAPTIONS_URL must be a ws:// or wss:// base URL, not {self.captions_url!r}"
            )
        if self.communication == "acs" and not self.acs_resource_id:
            raise ConfigurationError(
                "CAPTIONS_URL with COMMUNICATION=acs needs ACS_RESOURCE_ID (the resource's immutable id): "
                "the captions service checks that ACS's connections are for it"
            )

    def _check_entra(self) -> None:
        if not (self.scopes or self.roles):
            raise ConfigurationError(
                "AUTH_MODE=entra needs AUTH_SCOPES or AUTH_ROLES: what a token must grant"
            )
        if not trusted_key_source(self.auth_authority, allow_loopback_http=not self.running_in_azure):
            raise ConfigurationError(f"AUTH_AUTHORITY must be an https:// URL, not {self.auth_authority!r}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
