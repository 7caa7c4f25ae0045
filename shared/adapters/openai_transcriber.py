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

Clients, credentials and retries are shared with the summarizer (shared/adapters/openai_common.py): 408,
409, 429 and 5xx, timeouts and connection failures are retried with backoff honouring Retry-After, then
TranscriberUnavailable; any other 4xx (400, 413 too large, 415...) is TranscriberRejected at once, with the
provider's own message. SDK exceptions never leave this module.

Nothing here imports `openai` or `azure.identity` until the first transcription (cold start).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import wave
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from shared.adapters.openai_common import (
    ATTEMPTS,
    AZURE_SCOPE,
    MAX_WAIT_SECONDS,
    RETRY_AFTER_JITTER,
    Connection,
    Failures,
    Requester,
    Service,
    Sleep,
    connect,
)
from shared.ports import (
    TranscribedSegment,
    TranscriberLimits,
    TranscriberRejected,
    TranscriberUnavailable,
    Transcription,
    TranscriptionContext,
)

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from openai import AsyncOpenAI

    from shared.config import Settings
    from shared.secrets import SecretResolver

# The retry constants are re-exported: callers and tests read them here, beside the transcriber they govern.
__all__ = [
    "ATTEMPTS",
    "AZURE_SCOPE",
    "FILE_NAME",
    "MAX_PIECE_BYTES",
    "MAX_PROMPT_CHARS",
    "MAX_WAIT_SECONDS",
    "REQUEST_TIMEOUT_SECONDS",
    "RETRY_AFTER_JITTER",
    "Model",
    "OpenAITranscriber",
    "build_openai_transcriber",
    "iso_639_1",
    "wav_seconds",
]

log = logging.getLogger(__name__)

Model = Literal["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"]
Kind = Literal["verbose", "json", "diarized"]

FILE_NAME: Final = "piece.wav"
FAILURES: Final = Failures(rejected=TranscriberRejected, unavailable=TranscriberUnavailable)
# A piece can take minutes to transcribe; connecting should not (openai_common's connect timeout).
REQUEST_TIMEOUT_SECONDS: Final = 300.0

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

# The meeting's context goes as the `prompt`: names and terms spelled as the meeting spells them, which the
# model then tends to use. Whisper reads only the prompt's last 224 tokens; this many characters stay well
# under that with names first (what is cut is the end of a long description). The diarizing model gets
# none: OpenAI's reference says it does not support prompts.
MAX_PROMPT_CHARS: Final = 600

# Whisper's own rule for a segment that is silence transcribed as words ("Thank you."): a high no-speech
# probability together with a low confidence (openai-whisper's no_speech_threshold and logprob_threshold).
NO_SPEECH_PROB: Final = 0.6
LOW_AVG_LOGPROB: Final = -1.0


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
    """The Transcriber port on the audio transcriptions API: built by `build_openai_transcriber`."""

    def __init__(
        self, connection: Connection, *, model: Model, concurrency: int, sleep: Sleep = asyncio.sleep
    ) -> None:
        """`model` is what runs (it decides the request and answer shapes); the connection says what is sent
        as the model (on Azure the deployment). The transcriber owns the connection: `aclose` closes it."""
        self._name = connection.name
        self._requester = Requester(
            connection.backend, name=self._name, failures=FAILURES, subject="the piece", sleep=sleep
        )
        self._kind = _KINDS[model]
        self._model_param = connection.model_param
        self._limits = TranscriberLimits(MAX_PIECE_BYTES, _MAX_PIECE_SECONDS[self._kind], concurrency)

    @property
    def name(self) -> str:
        return self._name

    @property
    def limits(self) -> TranscriberLimits:
        return self._limits

    async def aclose(self) -> None:
        await self._requester.aclose()

    async def transcribe(
        self, wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        hint = iso_639_1(language)
        if language and hint is None:
            log.warning(
                "%s: language hint %r is not ISO 639-1; letting the model detect it", self._name, language
            )
        # Read before the upload: a piece that is not a WAV fails here rather than after sending it.
        seconds = wav_seconds(wav) if self._kind == "json" else None
        prompt = _prompt(context) if self._kind != "diarized" else None
        answer = await self._requester.call(lambda client: self._create(client, wav, hint, prompt))
        return self._read(answer, hint, seconds)

    async def _create(self, client: AsyncOpenAI, wav: bytes, hint: str | None, prompt: str | None) -> object:
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
                prompt=prompt or omit,
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
        return await transcriptions.create(
            file=file, model=model, language=language, prompt=prompt or omit, response_format="json"
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


def _prompt(context: TranscriptionContext | None) -> str | None:
    if context is None:
        return None
    prompt = context.prompt()
    if len(prompt) > MAX_PROMPT_CHARS:  # cut between words
        prompt = prompt[: MAX_PROMPT_CHARS + 1].rsplit(" ", 1)[0]
    return prompt.strip() or None


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
    service = Service(
        setting="TRANSCRIBER",
        provider=settings.transcriber,
        model=settings.transcribe_model,
        model_setting="TRANSCRIBE_MODEL",
        deployment=settings.azure_openai_transcribe_deployment,
        deployment_setting="AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT",
    )
    connection = connect(
        service, settings, secrets, credential=credential, timeout=timeout, failures=FAILURES
    )
    return OpenAITranscriber(
        connection, model=settings.transcribe_model, concurrency=settings.transcribe_concurrency, sleep=sleep
    )
