"""The OpenAI / Azure OpenAI transcriber against the local transcriptions API (tests/openai_server.py).

The adapter runs as in production: the real `openai` SDK over HTTP, keys through the SecretResolver (and a
local Key Vault for rotation), Entra ID tokens through azure-identity's bearer token provider. Only the
waits between retries are recorded instead of slept.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from pydantic import SecretStr

from shared.adapters.openai_transcriber import (
    ATTEMPTS,
    AZURE_SCOPE,
    MAX_PIECE_BYTES,
    MAX_PROMPT_CHARS,
    MAX_WAIT_SECONDS,
    RETRY_AFTER_JITTER,
    OpenAITranscriber,
    build_openai_transcriber,
    iso_639_1,
)
from shared.config import Settings
from shared.ports import (
    TranscribedSegment,
    TranscriberRejected,
    TranscriberUnavailable,
    TranscriptionContext,
)
from shared.secrets import SecretResolver
from tests.audio import Layout, bursts, pcm, wav
from tests.keyvault_server import KeyVaultServer
from tests.openai_server import MAX_CONTENT_BYTES, OpenAIServer, Segment

KEY = f"sk-test-{uuid.uuid4().hex}"
API_VERSION = "2025-04-01-preview"
DEPLOYMENTS = {
    "stt-whisper": "whisper-1",
    "stt-4o": "gpt-4o-transcribe",
    "stt-4o-mini": "gpt-4o-mini-transcribe",
    "stt-diarize": "gpt-4o-transcribe-diarize",
}
MODELS = list(DEPLOYMENTS.values())
# Two bursts of sound, so two segments where the model gives times: (0, 1) and (1.5, 3).
SPEECH: Layout = [("tone", 1.0), ("silence", 0.5), ("noise", 1.5), ("silence", 0.5)]
SPEECH_SECONDS = 3.5

Build = Callable[..., OpenAITranscriber]


class Sleeps:
    """Records the waits instead of sleeping: the tests check the backoff, and stay fast."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class CredentialWithoutIdentity:
    """DefaultAzureCredential where no identity is available: every token request fails."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise ClientAuthenticationError("ManagedIdentityCredential: no managed identity endpoint found")

    async def close(self) -> None:
        return None


class StrangerCredential:
    """An AsyncTokenCredential whose tokens the server never issued (another tenant, a wrong audience)."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("not-for-this-resource", 4_102_444_800)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StrangerCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


def speech() -> bytes:
    return wav([pcm(SPEECH)])


def silence(seconds: float) -> bytes:
    return wav([pcm([("silence", seconds)])])


def openai_settings(base_url: str, model: str, key: str = KEY, **extra: Any) -> Settings:
    return Settings(
        transcriber="openai",
        openai_api_key=SecretStr(key),
        openai_base_url=base_url,
        transcribe_model=model,
        transcribe_concurrency=3,
        **extra,
    )


def azure_settings(server: OpenAIServer, deployment: str) -> Settings:
    return Settings(
        transcriber="azure-openai",
        azure_openai_endpoint=server.azure_endpoint,
        azure_openai_transcribe_deployment=deployment,
        azure_openai_api_version=API_VERSION,
        transcribe_model=DEPLOYMENTS.get(deployment, "whisper-1"),
    )


@pytest.fixture
async def server() -> AsyncIterator[OpenAIServer]:
    async with OpenAIServer(api_keys={KEY}, deployments=DEPLOYMENTS) as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def build(sleeps: Sleeps) -> AsyncIterator[Build]:
    """Builds transcribers through the factory, with recorded sleeps; closes them (and their resolvers)."""
    opened: list[OpenAITranscriber] = []
    owned: list[SecretResolver] = []

    def make(settings: Settings, resolver: SecretResolver | None = None, **kwargs: Any) -> OpenAITranscriber:
        if resolver is None:
            resolver = SecretResolver(settings.key_vault_url)
            owned.append(resolver)
        opened.append(build_openai_transcriber(settings, resolver, sleep=sleeps, **kwargs))
        return opened[-1]

    yield make
    for transcriber in opened:
        await transcriber.aclose()
    for resolver in owned:
        await resolver.aclose()


@pytest.fixture
async def whisper(server: OpenAIServer, build: Build) -> OpenAITranscriber:
    return build(openai_settings(server.base_url, "whisper-1"))


# --- what each model kind gives ---------------------------------------------------------------------------


async def test_whisper_gives_timed_segments_and_the_detected_language(
    server: OpenAIServer, whisper: OpenAITranscriber
) -> None:
    piece = speech()
    result = await whisper.transcribe(piece, language=None)

    assert result.segments == [
        TranscribedSegment(0.0, 1.0, "speech 1"),
        TranscribedSegment(1.5, 3.0, "speech 2"),
    ]
    assert [(s.start, s.end) for s in result.segments] == bursts(SPEECH)
    assert result.language == "en", "whisper-1 says 'english'; the port wants ISO 639-1"
    (sent,) = server.requests
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.credential == KEY
    assert (sent.model, sent.response_format, sent.timestamp_granularities) == (
        "whisper-1",
        "verbose_json",
        ["segment"],
    )
    assert sent.language is None
    assert (sent.file_name, sent.file_type, sent.file_size) == ("piece.wav", "audio/wav", len(piece))
    assert whisper.name == "openai:whisper-1"


@pytest.mark.parametrize(
    ("hint", "sent", "answered"),
    [
        ("de", "de", "de"),
        ("de-CH", "de", "de"),
        ("pt_BR", "pt", "pt"),
        ("German", "de", "de"),
        ("klingon", None, "en"),  # not a language OpenAI knows: dropped, the model detects English
    ],
)
async def test_a_language_hint_is_sent_as_iso_639_1(
    server: OpenAIServer, whisper: OpenAITranscriber, hint: str, sent: str | None, answered: str
) -> None:
    result = await whisper.transcribe(speech(), language=hint)
    assert server.requests[-1].language == sent
    assert server.statuses == [200]
    assert result.language == answered


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
async def test_gpt_4o_models_give_one_segment_spanning_the_piece(
    server: OpenAIServer, build: Build, model: str
) -> None:
    transcriber = build(openai_settings(server.base_url, model))
    result = await transcriber.transcribe(speech(), language="fr")

    # No timestamps from these models: the whole text over the whole piece (its WAV duration).
    assert result.segments == [TranscribedSegment(0.0, SPEECH_SECONDS, "speech 1 speech 2")]
    assert result.language == "fr", "they report no language: the hint is what we know"
    (sent,) = server.requests
    assert (sent.model, sent.response_format, sent.language) == (model, "json", "fr")
    assert sent.timestamp_granularities == []
    assert transcriber.limits.max_piece_seconds == 120.0, "short pieces: the only timing these models give"


async def test_gpt_4o_language_is_unknown_without_a_hint(server: OpenAIServer, build: Build) -> None:
    transcriber = build(openai_settings(server.base_url, "gpt-4o-transcribe"))
    result = await transcriber.transcribe(speech(), language=None)
    assert result.language is None
    assert server.requests[0].language is None


CONTEXT = TranscriptionContext(
    names=("Nadia Kowalski", "owen", "Nadia Kowalski"),
    title="Checkout redesign review",
    description="The coupon field and the Stripe errors.",
)


@pytest.mark.parametrize("model", ["whisper-1", "gpt-4o-transcribe"])
async def test_the_meetings_names_and_terms_go_as_the_prompt(
    server: OpenAIServer, build: Build, model: str
) -> None:
    transcriber = build(openai_settings(server.base_url, model))
    await transcriber.transcribe(speech(), language="en", context=CONTEXT)
    await transcriber.transcribe(speech(), language="en")

    with_context, without = server.requests
    assert with_context.fields["prompt"] == [
        "Nadia Kowalski, owen. Checkout redesign review The coupon field and the Stripe errors."
    ]
    assert "prompt" not in without.fields
    assert server.statuses == [200, 200]


async def test_a_long_context_is_cut_to_what_whisper_reads(
    server: OpenAIServer, whisper: OpenAITranscriber
) -> None:
    names = tuple(f"Person{i} Surname{i}" for i in range(100))
    await whisper.transcribe(speech(), language=None, context=TranscriptionContext(names=names))

    [prompt] = server.requests[0].fields["prompt"]
    assert prompt.startswith("Person0 Surname0, Person1 Surname1")
    assert len(prompt) <= MAX_PROMPT_CHARS


async def test_the_diarizing_model_gets_no_prompt(server: OpenAIServer, build: Build) -> None:
    transcriber = build(openai_settings(server.base_url, "gpt-4o-transcribe-diarize"))
    await transcriber.transcribe(speech(), language=None, context=CONTEXT)

    assert "prompt" not in server.requests[0].fields
    assert server.statuses == [200]


async def test_the_diarizing_model_gives_speaker_labels(server: OpenAIServer, build: Build) -> None:
    transcriber = build(openai_settings(server.base_url, "gpt-4o-transcribe-diarize"))
    result = await transcriber.transcribe(speech(), language=None)

    assert result.segments == [
        TranscribedSegment(0.0, 1.0, "speech 1", "A"),
        TranscribedSegment(1.5, 3.0, "speech 2", "B"),
    ]
    assert result.language is None
    (sent,) = server.requests
    assert (sent.response_format, sent.chunking_strategy) == ("diarized_json", "auto")


@pytest.mark.parametrize("model", MODELS)
async def test_silence_gives_no_segments(server: OpenAIServer, build: Build, model: str) -> None:
    transcriber = build(openai_settings(server.base_url, model))
    # Over 30 s: the diarizing model needs its chunking strategy for that, and gets it.
    result = await transcriber.transcribe(silence(31), language="en")
    assert result.segments == []
    assert server.statuses == [200]


async def test_whisper_segments_that_are_silence_or_empty_are_dropped(
    server: OpenAIServer, whisper: OpenAITranscriber
) -> None:
    server.script(
        [
            # Whisper's typical hallucination on silence: text, but flagged as no speech with low confidence.
            Segment(0.0, 2.0, "Thank you.", no_speech_prob=0.93, avg_logprob=-1.4),
            Segment(2.0, 2.5, "   "),
            Segment(2.5, 4.0, "Actual words.", no_speech_prob=0.7, avg_logprob=-0.3),
        ]
    )
    result = await whisper.transcribe(speech(), language=None)
    assert result.segments == [TranscribedSegment(2.5, 4.0, "Actual words.")]


@pytest.mark.parametrize("model", MODELS)
def test_limits_and_name_follow_the_model(model: str) -> None:
    settings = openai_settings("http://127.0.0.1:9/v1", model)
    transcriber = build_openai_transcriber(settings, SecretResolver(None))
    limits = transcriber.limits
    assert limits.max_piece_bytes == MAX_PIECE_BYTES < MAX_CONTENT_BYTES - 64 * 1024, "room for the framing"
    # A 16 kHz mono s16 piece of max_piece_seconds must fit in max_piece_bytes (header included).
    assert 44 + limits.max_piece_seconds * 16_000 * 2 <= limits.max_piece_bytes
    assert limits.max_piece_seconds <= 1400, "the gpt-4o models refuse more audio per request"
    assert limits.concurrency == 3
    assert transcriber.name == f"openai:{model}"


def test_language_names_and_tags_become_iso_639_1() -> None:
    assert [iso_639_1(v) for v in ("EN", "en-GB", "english", "Javanese", "cantonese", "haitian creole")] == [
        "en",
        "en",
        "en",
        "jv",
        "zh",
        "ht",
    ]
    assert [iso_639_1(v) for v in (None, "", "hawaiian", "x", "123")] == [None] * 5


def test_the_factory_refuses_other_transcribers() -> None:
    with pytest.raises(ValueError, match="TRANSCRIBER=local"):
        build_openai_transcriber(Settings(transcriber="local"), SecretResolver(None))


# --- Azure OpenAI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
async def test_azure_calls_the_deployment_with_an_entra_token(
    server: OpenAIServer, build: Build, deployment: str
) -> None:
    credential = server.credential()
    transcriber = build(azure_settings(server, deployment), credential=credential)
    result = await transcriber.transcribe(speech(), language="en")

    assert transcriber.name == f"azure-openai:{deployment}"
    assert [s.text for s in result.segments] in (["speech 1", "speech 2"], ["speech 1 speech 2"])
    if DEPLOYMENTS[deployment] == "gpt-4o-transcribe-diarize":
        assert [s.speaker_label for s in result.segments] == ["A", "B"]
    (sent,) = server.requests
    assert sent.path == f"/openai/deployments/{deployment}/audio/transcriptions"
    assert sent.api_version == API_VERSION
    assert sent.model == deployment, "on Azure the model sent is the deployment name"
    assert sent.credential in server.azure_tokens
    assert credential.scopes == [(AZURE_SCOPE,)]

    await transcriber.aclose()
    assert credential.closed


async def test_azure_reuses_the_token_until_it_expires(server: OpenAIServer, build: Build) -> None:
    credential = server.credential()
    transcriber = build(azure_settings(server, "stt-whisper"), credential=credential)
    for _ in range(3):
        await transcriber.transcribe(speech(), language=None)
    assert len({r.credential for r in server.requests}) == 1
    assert len(credential.scopes) == 1


async def test_an_unknown_azure_deployment_is_rejected_with_advice(
    server: OpenAIServer, build: Build
) -> None:
    transcriber = build(azure_settings(server, "no-such-deployment"), credential=server.credential())
    with pytest.raises(TranscriberRejected, match="DeploymentNotFound") as caught:
        await transcriber.transcribe(speech(), language=None)
    assert "AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT" in str(caught.value)
    assert server.statuses == [404]


async def test_an_azure_token_refused_is_rejected_without_retrying(
    server: OpenAIServer, build: Build, sleeps: Sleeps
) -> None:
    transcriber = build(azure_settings(server, "stt-whisper"), credential=StrangerCredential())
    with pytest.raises(TranscriberRejected, match="Cognitive Services OpenAI User"):
        await transcriber.transcribe(speech(), language=None)
    assert server.statuses == [401]
    assert sleeps.waits == []


async def test_no_entra_token_is_unavailable_and_sends_nothing(server: OpenAIServer, build: Build) -> None:
    transcriber = build(azure_settings(server, "stt-whisper"), credential=CredentialWithoutIdentity())
    with pytest.raises(TranscriberUnavailable, match="no Entra ID token"):
        await transcriber.transcribe(speech(), language=None)
    assert server.requests == []


# --- retries -----------------------------------------------------------------------------------------------


async def test_throttling_is_retried_honouring_retry_after(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.throttle(2, retry_after=3)
    result = await whisper.transcribe(speech(), language=None)
    assert len(result.segments) == 2
    assert server.statuses == [429, 429, 200]
    assert len(sleeps.waits) == 2
    assert all(3 <= wait <= 3 + RETRY_AFTER_JITTER for wait in sleeps.waits)


async def test_retry_after_ms_is_preferred(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.throttle(1, retry_after=7, retry_after_ms=1500)
    await whisper.transcribe(speech(), language=None)
    (wait,) = sleeps.waits
    assert 1.5 <= wait <= 1.5 + RETRY_AFTER_JITTER


async def test_throttling_past_the_attempts_is_unavailable_with_retry_after(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.throttle(100, retry_after=2)
    with pytest.raises(TranscriberUnavailable) as caught:
        await whisper.transcribe(speech(), language=None)
    assert caught.value.retry_after == 2
    assert "rate_limit_exceeded" in str(caught.value)
    assert len(server.requests) == ATTEMPTS
    assert len(sleeps.waits) == ATTEMPTS - 1


async def test_a_long_retry_after_is_passed_on_not_waited_out(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.throttle(1, retry_after=MAX_WAIT_SECONDS + 60)
    with pytest.raises(TranscriberUnavailable) as caught:
        await whisper.transcribe(speech(), language=None)
    assert caught.value.retry_after == MAX_WAIT_SECONDS + 60
    assert sleeps.waits == []
    assert len(server.requests) == 1


async def test_server_errors_are_retried_with_growing_backoff_then_unavailable(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.fail_next(100, 503)
    with pytest.raises(TranscriberUnavailable, match="503") as caught:
        await whisper.transcribe(speech(), language=None)
    assert caught.value.retry_after is None
    assert server.statuses == [503] * ATTEMPTS
    # Exponential with jitter: within [b/2, b] for b = 1, 2, 4 seconds.
    assert [b / 2 <= wait <= b for b, wait in zip((1, 2, 4), sleeps.waits, strict=True)] == [True] * 3


@pytest.mark.parametrize("status", [408, 409, 500, 502])
async def test_a_passing_failure_is_retried(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps, status: int
) -> None:
    server.fail_next(1, status)
    result = await whisper.transcribe(speech(), language=None)
    assert len(result.segments) == 2
    assert server.statuses == [status, 200]
    assert len(sleeps.waits) == 1


async def test_out_of_quota_is_unavailable_at_once(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    server.fail_next(1, 429, code="insufficient_quota", message="You exceeded your current quota.")
    with pytest.raises(TranscriberUnavailable, match="insufficient_quota"):
        await whisper.transcribe(speech(), language=None)
    assert server.statuses == [429]
    assert sleeps.waits == []


async def test_a_timeout_is_retried(server: OpenAIServer, build: Build, sleeps: Sleeps) -> None:
    transcriber = build(openai_settings(server.base_url, "whisper-1"), timeout=0.2)
    server.delay_next(1, 0.6)
    result = await transcriber.transcribe(speech(), language=None)
    assert len(result.segments) == 2
    assert len(server.requests) == 2
    assert len(sleeps.waits) == 1


async def test_an_unreachable_service_is_unavailable_after_the_attempts(build: Build, sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transcriber = build(openai_settings(f"http://127.0.0.1:{port}/v1", "whisper-1"))
    with pytest.raises(TranscriberUnavailable, match="could not be reached"):
        await transcriber.transcribe(speech(), language=None)
    assert len(sleeps.waits) == ATTEMPTS - 1


@pytest.mark.parametrize("model", MODELS)
async def test_an_answer_that_is_not_the_json_asked_for_is_unavailable(
    server: OpenAIServer, build: Build, model: str
) -> None:
    transcriber = build(openai_settings(server.base_url, model))
    server.garble_next(1)
    with pytest.raises(TranscriberUnavailable, match="unexpected shape"):
        await transcriber.transcribe(speech(), language=None)
    assert server.statuses == [200]


# --- refusals ----------------------------------------------------------------------------------------------


async def test_a_piece_over_25_mb_is_rejected_without_retrying(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    too_big = silence(MAX_CONTENT_BYTES / 32_000 + 1)
    with pytest.raises(TranscriberRejected, match=r"413.*Maximum content size limit \(26214400\) exceeded"):
        await whisper.transcribe(too_big, language=None)
    assert server.statuses == [413]
    assert sleeps.waits == []


async def test_audio_the_service_cannot_read_is_rejected(
    server: OpenAIServer, whisper: OpenAITranscriber, sleeps: Sleeps
) -> None:
    with pytest.raises(TranscriberRejected, match="400 invalid_value: Audio file might be corrupted"):
        await whisper.transcribe(b"ID3 surely not a wav", language=None)
    assert server.statuses == [400]
    assert sleeps.waits == []


async def test_a_piece_that_is_not_a_wav_is_rejected_before_the_upload_when_its_duration_is_needed(
    server: OpenAIServer, build: Build
) -> None:
    transcriber = build(openai_settings(server.base_url, "gpt-4o-transcribe"))
    with pytest.raises(TranscriberRejected, match="not a readable WAV"):
        await transcriber.transcribe(b"ID3 surely not a wav", language=None)
    assert server.requests == []


# --- API keys ----------------------------------------------------------------------------------------------


async def test_a_refused_plain_key_is_rejected_at_once(
    server: OpenAIServer, build: Build, sleeps: Sleeps
) -> None:
    transcriber = build(openai_settings(server.base_url, "whisper-1", key="sk-revoked-0123456789"))
    with pytest.raises(TranscriberRejected, match="invalid_api_key") as caught:
        await transcriber.transcribe(speech(), language=None)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "sk-revoked-0123456789" not in str(caught.value), "the key is never repeated"
    assert server.statuses == [401]
    assert sleeps.waits == []


@pytest.fixture
async def vault() -> AsyncIterator[KeyVaultServer]:
    async with KeyVaultServer() as running:
        yield running


@pytest.fixture
async def resolver(vault: KeyVaultServer) -> AsyncIterator[SecretResolver]:
    built = SecretResolver(vault.vault_url, vault.credential(), **vault.client_kwargs())
    yield built
    await built.aclose()


def vault_settings(server: OpenAIServer, vault: KeyVaultServer) -> Settings:
    return openai_settings(
        server.base_url, "whisper-1", key="keyvault:openai-key", key_vault_url=vault.vault_url
    )


async def test_a_rotated_key_is_read_again_once_after_a_401(
    server: OpenAIServer, vault: KeyVaultServer, resolver: SecretResolver, build: Build
) -> None:
    old, new = f"sk-old-{uuid.uuid4().hex}", f"sk-new-{uuid.uuid4().hex}"
    vault.set_secret("openai-key", old)
    server.api_keys = {old}
    transcriber = build(vault_settings(server, vault), resolver)
    assert vault.reads("openai-key") == 0, "nothing is read before the first transcription"
    await transcriber.transcribe(speech(), language=None)

    # Rotation: the vault gets the new key, OpenAI stops taking the old one.
    vault.set_secret("openai-key", new)
    server.api_keys = {new}
    result = await transcriber.transcribe(speech(), language=None)

    assert len(result.segments) == 2
    assert [r.credential for r in server.requests] == [old, old, new]
    assert server.statuses == [200, 401, 200]
    assert vault.reads("openai-key") == 2
    # And from then on the new key, without asking the vault again.
    await transcriber.transcribe(speech(), language=None)
    assert server.requests[-1].credential == new
    assert vault.reads("openai-key") == 2


async def test_concurrent_pieces_refused_together_read_the_vault_once(
    server: OpenAIServer, vault: KeyVaultServer, resolver: SecretResolver, build: Build
) -> None:
    import asyncio

    vault.set_secret("openai-key", "sk-old-0000000000")
    transcriber = build(vault_settings(server, vault), resolver)
    await resolver.resolve("keyvault:openai-key")
    vault.set_secret("openai-key", KEY)  # rotated; the server only ever took KEY
    results = await asyncio.gather(*(transcriber.transcribe(speech(), language=None) for _ in range(3)))
    assert all(len(r.segments) == 2 for r in results)
    assert vault.reads("openai-key") == 2
    assert sorted(server.statuses) == [200, 200, 200, 401, 401, 401]


async def test_a_key_the_vault_still_holds_is_rejected_after_one_reread(
    server: OpenAIServer, vault: KeyVaultServer, resolver: SecretResolver, build: Build, sleeps: Sleeps
) -> None:
    vault.set_secret("openai-key", "sk-expired-0123456789")
    transcriber = build(vault_settings(server, vault), resolver)
    with pytest.raises(TranscriberRejected, match="invalid_api_key"):
        await transcriber.transcribe(speech(), language=None)
    assert server.statuses == [401], "no second request with the same key"
    assert vault.reads("openai-key") == 2
    assert sleeps.waits == []


async def test_a_key_missing_from_the_vault_is_rejected_before_any_request(
    server: OpenAIServer, vault: KeyVaultServer, resolver: SecretResolver, build: Build
) -> None:
    transcriber = build(vault_settings(server, vault), resolver)
    with pytest.raises(TranscriberRejected, match="OPENAI_API_KEY"):
        await transcriber.transcribe(speech(), language=None)
    assert server.requests == []


# --- the server refuses what OpenAI refuses (the adapter never asks for it) --------------------------------


@pytest.mark.parametrize(
    ("model", "options", "param"),
    [
        ("gpt-4o-transcribe", {"response_format": "verbose_json"}, "response_format"),
        ("whisper-1", {"response_format": "diarized_json"}, "response_format"),
        ("whisper-1", {"response_format": "json", "timestamp_granularities": ["segment"]}, None),
        ("gpt-4o-transcribe-diarize", {"response_format": "diarized_json", "prompt": "Hi"}, "prompt"),
        ("gpt-4o-transcribe-diarize", {"response_format": "diarized_json"}, "chunking_strategy"),
        ("whisper-1", {"language": "eng"}, "language"),
    ],
)
async def test_the_server_refuses_what_openai_refuses(
    server: OpenAIServer, model: str, options: dict[str, Any], param: str | None
) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    create: Callable[..., Awaitable[Any]] = client.audio.transcriptions.create
    try:
        with pytest.raises(openai.BadRequestError) as caught:
            await create(file=("piece.wav", silence(31), "audio/wav"), model=model, **options)
    finally:
        await client.close()
    if param is not None:
        assert caught.value.param == param
    assert server.statuses == [400]
