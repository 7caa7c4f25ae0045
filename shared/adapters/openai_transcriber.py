"""Speech to text through OpenAI's audio transcriptions API, on OpenAI or on Azure OpenAI (the `openai` SDK).

- TRANSCRIBER=openai: `POST {OPENAI_BASE_URL or https://api.openai.com/v1}/audio/transcriptions` with
  `Authorization: Bearer <OPENAI_API_KEY>`. The key may be a `keyvault:` reference: it is read through the
  SecretResolver at the first transcription (not at start), and read again once after a 401 (a rotated key).
- TRANSCRIBER=azure-openai: `POST {AZURE_OPENAI_ENDPOINT}/openai/deployments/{deployment}/audio/transcriptions
  ?api-version={AZURE_OPENAI_API_VERSION}` with an Entra ID token for `https://cognitiveservices.azure.com`
  (DefaultAzureCredential: the app's managed identity in Azure). The `model` sent is the deployment name;
  TRANSCRIBE_MODEL tells which model the deployment runs, i.e. which request and answer shapes to use.

What each model answers, and so how precise the segments are:
- whisper-1: `verbose_json` with `timestamp_granularities=["segment"]`: timed segments (a few seconds each)
  and the detected language as an English name ("english"), mapped back to ISO 639-1 here.
- gpt-4o-transcribe, gpt-4o-mini-transcribe: `json` only (no timestamps at all): the piece becomes ONE segment
  spanning the whole piece (its duration read from the WAV header). Timing is therefore only as fine as the
  pieces, which is why `limits.max_piece_seconds` is short for them (also: these models emit at most 2,000
  output tokens per request, which a long piece of fast or token-heavy speech would overflow).
- gpt-4o-transcribe-diarize: `diarized_json` with `chunking_strategy="auto"` (required above 30 s of audio):
  timed segments with speaker labels ("A", "B"...). The labels are per request: "A" in one piece need not be
  "A" in the next.
Only whisper-1 reports a language; for the others the transcription's language is the hint, if any.

Retries are ours (the SDK's are off, `max_retries=0`): 408, 409, 429 and 5xx, timeouts and connection
failures are retried with exponential backoff and jitter, waiting what `retry-after-ms` / `Retry-After` ask
for, up to ATTEMPTS in all; a Retry-After longer than MAX_WAIT_SECONDS is passed on to the caller instead of
waited out. Then TranscriberUnavailable. Any other 4xx (400, 413 too large, 415...) is TranscriberRejected at
once, with the provider's own message. SDK exceptions never leave this module.

Nothing here imports `openai` or `azure.identity` until the first transcription (cold start).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import logging
import random
import re
import time
import wave
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeVar

from shared.ports import (
    TranscribedSegment,
    TranscriberLimits,
    TranscriberRejected,
    TranscriberUnavailable,
    Transcription,
)
from shared.secrets import SecretConfigurationError, SecretError, SecretSetting

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from openai import APIStatusError, AsyncOpenAI

    from shared.config import Settings
    from shared.secrets import SecretResolver

log = logging.getLogger(__name__)
T = TypeVar("T")

Model = Literal["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"]
Kind = Literal["verbose", "json", "diarized"]
Sleep = Callable[[float], Awaitable[None]]

AZURE_SCOPE: Final = "https://cognitiveservices.azure.com/.default"
FILE_NAME: Final = "piece.wav"

ATTEMPTS: Final = 4
BACKOFF_SECONDS: Final = 1.0  # the first wait without Retry-After; doubled after each failure
MAX_BACKOFF_SECONDS: Final = 8.0
MAX_WAIT_SECONDS: Final = 30.0  # a longer Retry-After is passed on to our caller instead of waited out
RETRY_AFTER_JITTER: Final = 0.25  # added to Retry-After so that throttled workers do not return in step
# A piece can take minutes to transcribe; connecting should not.
REQUEST_TIMEOUT_SECONDS: Final = 300.0
CONNECT_TIMEOUT_SECONDS: Final = 10.0

# OpenAI refuses request bodies over 25 MB (26,214,400 bytes, multipart framing included); 24 MiB of WAV
# leaves room for that framing. At 16 kHz mono s16 it is 786 s, above every max_piece_seconds below.
MAX_PIECE_BYTES: Final = 24 * 1024 * 1024
_KINDS: Final[Mapping[str, Kind]] = {
    "whisper-1": "verbose",
    "gpt-4o-transcribe": "json",
    "gpt-4o-mini-transcribe": "json",
    "gpt-4o-transcribe-diarize": "diarized",
}
# The gpt-4o models refuse more than 1,400 s of audio per request; whisper-1 has no duration cap. The json
# models get short pieces: one segment per piece (coarse timing) and 2,000 output tokens at most.
_MAX_PIECE_SECONDS: Final[Mapping[Kind, float]] = {"verbose": 600.0, "json": 120.0, "diarized": 600.0}

# Whisper's own rule for a segment that is silence transcribed as words ("Thank you."): a high no-speech
# probability together with a low confidence (openai-whisper's no_speech_threshold and logprob_threshold).
NO_SPEECH_PROB: Final = 0.6
LOW_AVG_LOGPROB: Final = -1.0

_RETRIED_STATUSES: Final = frozenset({408, 409, 429})


def _pairs(table: str) -> dict[str, str]:
    return dict(pair.split(":", 1) for pair in table.split())


# whisper-1 names the detected language in English ("english"); the port wants ISO 639-1. The names are
# openai-whisper's (tokenizer.LANGUAGES, with its aliases), the codes ISO 639-1: Javanese is "jv" (Whisper
# says "jw"), Cantonese falls under "zh", and Hawaiian, which has no ISO 639-1 code, is left out (None).
_WHISPER_LANGUAGES: Final = _pairs(
    "afrikaans:af albanian:sq amharic:am arabic:ar armenian:hy assamese:as azerbaijani:az bashkir:ba "
    "basque:eu belarusian:be bengali:bn bosnian:bs breton:br bulgarian:bg burmese:my cantonese:zh "
    "castilian:es catalan:ca chinese:zh croatian:hr czech:cs danish:da dutch:nl english:en estonian:et "
    "faroese:fo finnish:fi flemish:nl french:fr galician:gl georgian:ka german:de greek:el gujarati:gu "
    "haitian:ht hausa:ha hebrew:he hindi:hi hungarian:hu icelandic:is indonesian:id italian:it "
    "japanese:ja javanese:jv kannada:kn kazakh:kk khmer:km korean:ko lao:lo latin:la latvian:lv "
    "letzeburgesch:lb lingala:ln lithuanian:lt luxembourgish:lb macedonian:mk malagasy:mg malay:ms "
    "malayalam:ml maltese:mt mandarin:zh maori:mi marathi:mr moldavian:ro moldovan:ro mongolian:mn "
    "myanmar:my nepali:ne norwegian:no nynorsk:nn occitan:oc panjabi:pa pashto:ps persian:fa polish:pl "
    "portuguese:pt punjabi:pa pushto:ps romanian:ro russian:ru sanskrit:sa serbian:sr shona:sn sindhi:sd "
    "sinhala:si sinhalese:si slovak:sk slovenian:sl somali:so spanish:es sundanese:su swahili:sw "
    "swedish:sv tagalog:tl tajik:tg tamil:ta tatar:tt telugu:te thai:th tibetan:bo turkish:tr "
    "turkmen:tk ukrainian:uk urdu:ur uzbek:uz valencian:ca vietnamese:vi welsh:cy yiddish:yi yoruba:yo"
)
_WHISPER_LANGUAGES["haitian creole"] = "ht"  # the one name with a space
_ISO_639_1 = re.compile(r"[a-z]{2}")


class OpenAITranscriber:
    """The Transcriber port on the audio transcriptions API: built by `openai`, `azure` or the factory."""

    def __init__(
        self,
        backend: _Backend,
        *,
        model: Model,
        model_param: str,
        name: str,
        concurrency: int,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`model` is what runs (it decides the request and answer shapes), `model_param` what is sent."""
        self._backend = backend
        self._kind = _KINDS[model]
        self._model_param = model_param
        self._name = name
        self._limits = TranscriberLimits(MAX_PIECE_BYTES, _MAX_PIECE_SECONDS[self._kind], concurrency)
        self._sleep = sleep

    @classmethod
    def openai(
        cls,
        api_key: SecretSetting,
        *,
        model: Model,
        base_url: str | None = None,
        concurrency: int = 4,
        sleep: Sleep = asyncio.sleep,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> OpenAITranscriber:
        """OpenAI itself (or a compatible `base_url`, e.g. `https://api.openai.com/v1`)."""
        backend = _OpenAIBackend(api_key, base_url, timeout)
        name = f"openai:{model}"
        return cls(backend, model=model, model_param=model, name=name, concurrency=concurrency, sleep=sleep)

    @classmethod
    def azure(
        cls,
        endpoint: str,
        deployment: str,
        *,
        model: Model,
        api_version: str,
        credential: AsyncTokenCredential | None = None,
        concurrency: int = 4,
        sleep: Sleep = asyncio.sleep,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> OpenAITranscriber:
        """An Azure OpenAI deployment running `model`; `credential` None: DefaultAzureCredential at first use.

        The transcriber owns the credential, given or built: `aclose` closes it.
        """
        backend = _AzureBackend(endpoint, deployment, api_version, credential, timeout)
        name = f"azure-openai:{deployment}"
        # Azure routes by the deployment in the path; the SDK sends it as the model too.
        return cls(
            backend, model=model, model_param=deployment, name=name, concurrency=concurrency, sleep=sleep
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def limits(self) -> TranscriberLimits:
        return self._limits

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def transcribe(self, wav: bytes, *, language: str | None) -> Transcription:
        hint = iso_639_1(language)
        if language and hint is None:
            log.warning(
                "%s: language hint %r is not ISO 639-1; letting the model detect it", self._name, language
            )
        # Read before the upload: a piece that is not a WAV fails here rather than after sending it.
        seconds = wav_seconds(wav) if self._kind == "json" else None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = await self._authenticated(wav, hint)
            except _Retryable as failure:
                if attempt == ATTEMPTS or (failure.retry_after or 0.0) > MAX_WAIT_SECONDS:
                    raise TranscriberUnavailable(
                        f"{self._name}: {failure} (after {attempt} attempt(s))",
                        retry_after=failure.retry_after,
                    ) from failure.__cause__
                wait = _wait(failure.retry_after, attempt)
                log.warning("%s: %s; retrying in %.1f s (attempt %d)", self._name, failure, wait, attempt)
                await self._sleep(wait)
                continue
            return self._read(answer, hint, seconds)
        raise AssertionError("unreachable")

    # --- one request, with one more after a 401 if the credential could be renewed ----------------------

    async def _authenticated(self, wav: bytes, hint: str | None) -> object:
        client, used = await _secret_errors_mapped(self._backend.client)
        try:
            return await self._send(client, wav, hint)
        except _Unauthorized as refused:
            if not await _secret_errors_mapped(lambda: self._backend.renew(used)):
                raise TranscriberRejected(f"{self._name}: {refused}") from refused.__cause__
        log.info("%s: retrying with the re-read credential after a 401", self._name)
        client, _ = await _secret_errors_mapped(self._backend.client)
        try:
            return await self._send(client, wav, hint)
        except _Unauthorized as refused:
            raise TranscriberRejected(
                f"{self._name}: {refused} (also with the re-read key)"
            ) from refused.__cause__

    async def _send(self, client: AsyncOpenAI, wav: bytes, hint: str | None) -> object:
        import openai  # noqa: PLC0415 - cold start

        try:
            return await self._create(client, wav, hint)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise _Retryable("the request timed out", None) from exc
        except openai.APIConnectionError as exc:
            raise _Retryable(f"could not be reached ({_first_line(exc.__cause__ or exc)})", None) from exc
        except openai.OpenAIError as exc:
            # e.g. a 200 whose body is not the JSON asked for: the provider's fault, possibly passing.
            raise TranscriberUnavailable(f"{self._name}: unusable answer: {_first_line(exc)}") from exc

    async def _create(self, client: AsyncOpenAI, wav: bytes, hint: str | None) -> object:
        from openai import omit  # noqa: PLC0415 - cold start

        transcriptions = client.audio.transcriptions
        file = (FILE_NAME, wav, "audio/wav")
        model = self._model_param
        language = hint if hint is not None else omit
        if self._kind == "verbose":
            return await transcriptions.create(
                file=file,
                model=model,
                language=language,
                response_format="verbose_json",
                timestamp_granularities=["segment"],
            )
        if self._kind == "diarized":
            return await transcriptions.create(
                file=file,
                model=model,
                language=language,
                response_format="diarized_json",
                chunking_strategy="auto",
            )
        return await transcriptions.create(file=file, model=model, language=language, response_format="json")

    def _status_error(self, exc: APIStatusError) -> Exception:
        status = exc.status_code
        code, message = _error_of(exc)
        detail = f"{status} {code}: {message}" if code else f"{status}: {message}"
        if status == 401:
            return _Unauthorized(f"refused our credentials ({detail}){self._backend.advice(status)}")
        if status == 429 and code == "insufficient_quota":
            # Billing, not load: waiting seconds will not help, yet the piece itself is fine.
            log.error("%s: out of quota (%s)", self._name, detail)
            return TranscriberUnavailable(f"{self._name}: out of quota ({detail})")
        if status in _RETRIED_STATUSES or status >= 500:
            return _Retryable(f"answered {detail}", _retry_after(exc.response.headers))
        log.error("%s rejected a piece: %s", self._name, detail)
        return TranscriberRejected(
            f"{self._name} rejected the piece ({detail}){self._backend.advice(status)}"
        )

    # --- answers ----------------------------------------------------------------------------------------

    def _read(self, answer: object, hint: str | None, seconds: float | None) -> Transcription:
        try:
            if self._kind == "verbose":
                return _from_verbose(answer, hint)
            if self._kind == "diarized":
                return Transcription(_from_diarized(answer), hint)
            assert seconds is not None
            return Transcription(_from_text(answer, seconds), hint)
        except (AttributeError, TypeError, ValueError) as exc:
            # The SDK does not validate answers: a field missing from the JSON shows up here.
            raise TranscriberUnavailable(f"{self._name}: answer of an unexpected shape ({exc})") from exc


def _from_verbose(answer: Any, hint: str | None) -> Transcription:
    raw = answer.segments
    if raw is None and answer.text.strip():
        # Segments were asked for: text without them is not whisper-1's answer (and not silence either).
        raise ValueError("text without segments")
    segments = [
        TranscribedSegment(float(s.start), float(s.end), s.text.strip())
        for s in raw or []
        if s.text.strip() and not _silent(s)
    ]
    return Transcription(segments, iso_639_1(answer.language) or hint)


def _silent(segment: Any) -> bool:
    no_speech = getattr(segment, "no_speech_prob", None)
    logprob = getattr(segment, "avg_logprob", None)
    return (
        no_speech is not None
        and logprob is not None
        and no_speech > NO_SPEECH_PROB
        and logprob < LOW_AVG_LOGPROB
    )


def _from_diarized(answer: Any) -> list[TranscribedSegment]:
    return [
        TranscribedSegment(
            float(s.start), float(s.end), s.text.strip(), str(s.speaker) if s.speaker else None
        )
        for s in answer.segments
        if s.text.strip()
    ]


def _from_text(answer: Any, seconds: float) -> list[TranscribedSegment]:
    text = answer.text.strip()
    # No timestamps from these models: the text spans the piece (see the module docstring).
    return [TranscribedSegment(0.0, seconds, text)] if text else []


# --- credentials and clients -----------------------------------------------------------------------------


class _Backend(Protocol):
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


class _OpenAIBackend:
    """OpenAI with an API key; a `keyvault:` key is re-read after a 401 and the client swapped to it."""

    def __init__(self, key: SecretSetting, base_url: str | None, timeout: float) -> None:
        self._key = key
        self._base_url = base_url
        self._timeout = timeout
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
                return True  # another piece already switched to the re-read key
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
            return "; check TRANSCRIBE_MODEL and OPENAI_BASE_URL"
        return ""

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class _AzureBackend:
    """An Azure OpenAI deployment with Entra ID tokens from an AsyncTokenCredential."""

    def __init__(
        self,
        endpoint: str,
        deployment: str,
        api_version: str,
        credential: AsyncTokenCredential | None,
        timeout: float,
    ) -> None:
        self._endpoint = endpoint
        self._deployment = deployment
        self._api_version = api_version
        self._credential = credential
        self._timeout = timeout
        self._client: AsyncOpenAI | None = None

    async def client(self) -> tuple[AsyncOpenAI, str | None]:
        if self._client is None:
            from openai import AsyncAzureOpenAI  # noqa: PLC0415 - cold start

            self._client = AsyncAzureOpenAI(
                azure_endpoint=self._endpoint,
                azure_deployment=self._deployment,
                api_version=self._api_version,
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

        async def token() -> str:
            # Called by the SDK before each request; azure-identity's errors must not leave this module.
            try:
                return await provider()
            except AzureError as exc:
                raise TranscriberUnavailable(
                    f"azure-openai:{self._deployment}: no Entra ID token for Azure OpenAI: {_first_line(exc)}"
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
            return (
                "; check AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT, AZURE_OPENAI_API_VERSION"
            )
        return ""

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        credential, self._credential = self._credential, None
        if credential is not None:
            await credential.close()


async def _secret_errors_mapped(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, with Key Vault failures as the port's errors: a wrong setting is for good, an outage not."""
    try:
        return await call()
    except SecretConfigurationError as exc:
        raise TranscriberRejected(str(exc)) from exc
    except SecretError as exc:
        raise TranscriberUnavailable(str(exc)) from exc


# --- errors and waits --------------------------------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt; never leaves this module."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Unauthorized(Exception):
    """A 401: retried once if the credential can be renewed, else TranscriberRejected."""


def _error_of(exc: APIStatusError) -> tuple[str | None, str]:
    """The (code, message) of an error answer: OpenAI's `{"error": {"message", "type", "code"}}`, Azure's
    `{"error": {"code", "message"}}` (the SDK hands over the inner object), or a non-JSON body."""
    body = exc.body
    if isinstance(body, dict):
        code = body.get("code") or body.get("type")
        message = body.get("message") or exc.message
        return (str(code) if code else None), str(message)
    text = str(body).strip() if body else ""
    return None, _first_line(text[:300]) if text else exc.message


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


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


# --- audio and languages -----------------------------------------------------------------------------------


def wav_seconds(wav: bytes) -> float:
    """The duration of a WAV piece from its header, bounded by the bytes actually there."""
    try:
        with wave.open(io.BytesIO(wav), "rb") as reader:
            rate, frame_bytes = reader.getframerate(), reader.getsampwidth() * reader.getnchannels()
            frames = min(reader.getnframes(), len(wav) // max(1, frame_bytes))
    except (wave.Error, EOFError) as exc:
        raise TranscriberRejected(f"the piece is not a readable WAV file ({exc})") from exc
    if rate <= 0:
        raise TranscriberRejected("the piece's WAV header has no sample rate")
    return frames / rate


def iso_639_1(value: str | None) -> str | None:
    """An ISO 639-1 code from a code or tag ("de", "de-CH", "pt_BR") or a Whisper language name ("german");
    None for anything else (the hint is then dropped and the provider detects the language)."""
    if not value:
        return None
    text = value.strip().lower()
    primary = re.split(r"[-_]", text, maxsplit=1)[0]
    if _ISO_639_1.fullmatch(primary):
        return primary
    return _WHISPER_LANGUAGES.get(text)


# --- construction from the settings ------------------------------------------------------------------------


def build_openai_transcriber(
    settings: Settings,
    secrets: SecretResolver,
    *,
    credential: AsyncTokenCredential | None = None,
    sleep: Sleep = asyncio.sleep,
    timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> OpenAITranscriber:
    """The transcriber TRANSCRIBER asks for (`openai` or `azure-openai`); nothing is contacted yet.

    `credential` (Azure only) replaces DefaultAzureCredential; `sleep` and `timeout` are for tests.
    """
    common: dict[str, Any] = {
        "model": settings.transcribe_model,
        "concurrency": settings.transcribe_concurrency,
        "sleep": sleep,
        "timeout": timeout,
    }
    if settings.transcriber == "azure-openai":
        endpoint, deployment = settings.azure_openai_endpoint, settings.azure_openai_transcribe_deployment
        if not (endpoint and deployment):
            raise ValueError(
                "TRANSCRIBER=azure-openai needs AZURE_OPENAI_ENDPOINT and the transcribe deployment"
            )
        return OpenAITranscriber.azure(
            endpoint,
            deployment,
            api_version=settings.azure_openai_api_version,
            credential=credential,
            **common,
        )
    if settings.transcriber == "openai":
        if settings.openai_api_key is None:
            raise ValueError("TRANSCRIBER=openai needs OPENAI_API_KEY")
        key = secrets.secret(settings.openai_api_key.get_secret_value(), setting="OPENAI_API_KEY")
        return OpenAITranscriber.openai(key, base_url=settings.openai_base_url, **common)
    raise ValueError(f"TRANSCRIBER={settings.transcriber} is not an OpenAI transcriber")
