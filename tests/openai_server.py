"""A local stand-in for the audio transcriptions API, as OpenAI and Azure OpenAI serve it.

    async with OpenAIServer(api_keys={"sk-test"}, deployments={"stt": "whisper-1"}) as server:
        openai = AsyncOpenAI(api_key="sk-test", base_url=server.base_url)
        azure = AsyncAzureOpenAI(
            azure_endpoint=server.azure_endpoint, azure_deployment="stt", api_version="2025-04-01-preview",
            azure_ad_token_provider=get_bearer_token_provider(server.credential(), SCOPE),
        )

Plain HTTP on 127.0.0.1 and a free port: the `openai` SDK talks HTTP as readily as HTTPS.

What is modelled on the real services, and where from (the API reference and the SDK's docstrings, and error
bodies as users reported them):
- `POST /v1/audio/transcriptions` (OpenAI) and `POST /openai/deployments/{deployment}/audio/transcriptions
  ?api-version=...` (Azure OpenAI: a missing api-version is 404 "Resource not found", an unknown deployment
  404 `DeploymentNotFound`). The multipart form: `file`, `model`, `language`, `prompt`, `response_format`,
  `timestamp_granularities[]`, `chunking_strategy`, `include[]`.
- Request bodies over 25 MB (26,214,400 bytes, framing included) are read, then refused with 413 and OpenAI's
  "Maximum content size limit (26214400) exceeded (N bytes read)" `server_error`.
- OpenAI wants `Authorization: Bearer <key>` (401 `invalid_api_key` "Incorrect API key provided: sk-ab***yz"
  or the "You didn't provide an API key" message); Azure a bearer token for Cognitive Services (from
  `credential()`) or an `api-key`, with Azure's 401 bodies.
- Model rules: whisper-1 answers json, text, srt, vtt and verbose_json; gpt-4o-transcribe and
  gpt-4o-mini-transcribe only json and text; gpt-4o-transcribe-diarize json, text and diarized_json, takes no
  prompt and no timestamp_granularities, and needs chunking_strategy above 30 s of audio. Timestamp
  granularities need verbose_json. The gpt-4o models refuse more than 1,400 s of audio. `language` must be
  ISO 639-1. Anything else is a 400 in OpenAI's error shape, naming the parameter.
- Answers in the documented shapes: whisper-1's verbose_json names the language in English ("english") and
  starts segment texts with a space, as Whisper does; diarized_json segments carry speakers "A", "B"...

The words are made up, deterministically: the WAV (16-bit PCM) is cut into QUANTUM-second windows, each
window with sound is speech, and each run of such windows is one segment "speech 1", "speech 2"... spoken
alternately by A and B. Silence gives no segments and an empty text. `script` replaces that with given
segments (with whisper's no-speech fields, to fake a hallucination on silence).

Test hooks: `fail_next` / `throttle` answer the next requests with an error (429 with `Retry-After` and/or
`retry-after-ms`, 5xx...), `delay_next` holds answers back (client timeouts), `garble_next` answers 200 with
an HTML page, and `requests` records what arrived (model, language, response format, file size,
credential...) with the status answered.
"""

from __future__ import annotations

import array
import asyncio
import io
import math
import re
import secrets
import time
import uuid
import wave
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web
from aiohttp.typedefs import Handler
from azure.core.credentials import AccessToken
from multidict import MultiDictProxy

MAX_CONTENT_BYTES: Final = 26_214_400  # 25 MB: what OpenAI accepts in one request body
AZURE_SCOPE: Final = "https://cognitiveservices.azure.com/.default"
QUANTUM: Final = 0.25  # seconds per speech/silence window of the made-up transcription
LOUD: Final = 500  # mean |sample| above which a window counts as speech (silence in tests is exactly 0)
MAX_GPT4O_SECONDS: Final = 1400.0
DIARIZE_UNCHUNKED_SECONDS: Final = 30.0

FORMATS: Final[Mapping[str, tuple[str, ...]]] = {
    "whisper-1": ("json", "text", "srt", "verbose_json", "vtt"),
    "gpt-4o-transcribe": ("json", "text"),
    "gpt-4o-mini-transcribe": ("json", "text"),
    "gpt-4o-transcribe-diarize": ("json", "text", "diarized_json"),
}
DIARIZE: Final = "gpt-4o-transcribe-diarize"
# The names whisper-1 answers with for the codes tests use; others come back as the code itself.
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "ja": "japanese",
}
_ISO_639_1 = re.compile(r"[a-z]{2}")
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Segment:
    """One segment of an answer; `no_speech_prob` and `avg_logprob` as whisper-1 reports them."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    no_speech_prob: float = 0.01
    avg_logprob: float = -0.25


@dataclass
class RecordedRequest:
    """One request as the server saw it; `status` is what it answered."""

    path: str
    deployment: str | None
    api_version: str | None
    credential: str | None  # the bearer token or api-key sent, None without one
    content_length: int
    fields: dict[str, list[str]] = field(default_factory=dict)  # form fields other than the file
    file_name: str | None = None
    file_size: int | None = None
    file_type: str | None = None
    status: int = 0

    def _one(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    @property
    def model(self) -> str | None:
        return self._one("model")

    @property
    def language(self) -> str | None:
        return self._one("language")

    @property
    def response_format(self) -> str | None:
        return self._one("response_format")

    @property
    def chunking_strategy(self) -> str | None:
        return self._one("chunking_strategy")

    @property
    def timestamp_granularities(self) -> list[str]:
        return self.fields.get("timestamp_granularities[]", [])


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: float | None
    retry_after_ms: float | None
    code: str | None
    message: str | None


class _ApiError(Exception):
    """An error answer: OpenAI's `{"error": {"message", "type", "param", "code"}}` or, on the Azure paths,
    Azure's `{"error": {"code", "message"}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = dict(headers or {})

    def response(self, *, azure: bool) -> web.Response:
        error: JsonObject = (
            {"code": self.code or str(self.status), "message": self.message}
            if azure
            else {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        )
        return web.json_response({"error": error}, status=self.status, headers=self.headers)


def _bad(message: str, param: str | None, code: str | None = "invalid_value") -> _ApiError:
    return _ApiError(400, message, param=param, code=code)


class FakeEntraCredential:
    """An AsyncTokenCredential standing in for DefaultAzureCredential: its tokens are the ones the server
    accepts on the Azure paths. It records the scopes asked for and whether it was closed."""

    def __init__(self, server: OpenAIServer) -> None:
        self._server = server
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        token = f"entra-{secrets.token_hex(8)}"
        self._server.azure_tokens.add(token)
        return AccessToken(token, int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()


class OpenAIServer:
    """The transcriptions API on http://127.0.0.1:<free port>, with test hooks.

    - `api_keys`: the OpenAI keys accepted (a set the test may change, e.g. to rotate a key).
    - `deployments`: Azure deployment name -> the model it runs.
    - `azure_keys`: `api-key` values accepted on the Azure paths (tokens from `credential()` always are).
    - `detected_language`: what whisper-1 reports when no language is given (a code).
    - `max_content_bytes`: the request size limit (OpenAI's 25 MB unless a test needs another).
    """

    def __init__(
        self,
        *,
        api_keys: Collection[str] = (),
        deployments: Mapping[str, str] | None = None,
        azure_keys: Collection[str] = (),
        detected_language: str = "en",
        max_content_bytes: int = MAX_CONTENT_BYTES,
    ) -> None:
        self.api_keys: set[str] = set(api_keys)
        self.deployments: dict[str, str] = dict(deployments or {})
        self.azure_keys: set[str] = set(azure_keys)
        self.azure_tokens: set[str] = set()
        self.detected_language = detected_language
        self.max_content_bytes = max_content_bytes
        self.requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._delays: list[float] = []
        self._garbled = 0
        self._script: list[Segment] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        # Bodies up to twice the limit are read whole (then refused), as the service reads before refusing.
        app = web.Application(middlewares=[self._not_found], client_max_size=2 * self.max_content_bytes)
        app.add_routes(
            [
                web.post("/v1/audio/transcriptions", self._transcribe),
                web.post("/openai/deployments/{deployment}/audio/transcriptions", self._transcribe),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what a client needs ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """OpenAI's base URL here (the SDK's `base_url`, OPENAI_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        """The Azure OpenAI resource endpoint here, with the trailing slash the portal shows."""
        return f"http://127.0.0.1:{self.port}/"

    def credential(self) -> FakeEntraCredential:
        return FakeEntraCredential(self)

    # --- test hooks ------------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 500,
        *,
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `n` requests (after reading them, before checking credentials) with `status`."""
        self._failures.extend([_Failure(status, retry_after, retry_after_ms, code, message)] * n)

    def throttle(self, n: int, retry_after: float | None = 1, *, retry_after_ms: float | None = None) -> None:
        """The next `n` requests get 429 `rate_limit_exceeded` with these Retry-After headers."""
        self.fail_next(
            n, 429, retry_after=retry_after, retry_after_ms=retry_after_ms, code="rate_limit_exceeded"
        )

    def delay_next(self, n: int, seconds: float) -> None:
        """Hold the answers to the next `n` requests back for `seconds` each."""
        self._delays.extend([seconds] * n)

    def garble_next(self, n: int) -> None:
        """Answer the next `n` requests with 200 and an HTML page, as a misbehaving proxy in between would."""
        self._garbled += n

    def script(self, segments: Sequence[Segment] | None) -> None:
        """Answer with these segments from now on (None: made up from the audio again)."""
        self._script = list(segments) if segments is not None else None

    @property
    def statuses(self) -> list[int]:
        return [r.status for r in self.requests]

    # --- the one operation -----------------------------------------------------------------------------

    @web.middleware
    async def _not_found(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            message = f"Invalid URL ({request.method} {request.path})"
            return _ApiError(error.status, message).response(azure=False)

    async def _transcribe(self, request: web.Request) -> web.StreamResponse:
        deployment = request.match_info.get("deployment")
        record = RecordedRequest(
            path=request.path,
            deployment=deployment,
            api_version=request.query.get("api-version"),
            credential=_credential_sent(request),
            content_length=request.content_length or 0,
        )
        self.requests.append(record)
        try:
            response = await self._answer(request, record)
        except _ApiError as error:
            response = error.response(azure=deployment is not None)
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        form = await self._read_form(request, record)
        if self._delays:
            await asyncio.sleep(self._delays.pop(0))
        if self._failures:
            raise _injected(self._failures.pop(0), record.model)
        if self._garbled:
            self._garbled -= 1
            return web.Response(text="<html><body>Bad gateway</body></html>", content_type="text/html")
        azure = record.deployment is not None
        self._authenticate(request, azure)
        model = self._model(record) if azure else self._openai_model(record)
        return self._transcription(form, record, model)

    async def _read_form(self, request: web.Request, record: RecordedRequest) -> MultiDictProxy[Any]:
        if record.content_length > self.max_content_bytes:
            # The service reads the whole body before refusing it; a client never sees a reset connection.
            while await request.content.read(1 << 20):
                pass
            raise self._too_large(record.content_length)
        form = await request.post()
        for name in set(form):
            values = form.getall(name)
            if name == "file" and isinstance(values[0], web.FileField):
                upload = values[0]
                data = upload.file.read()
                record.file_name, record.file_size, record.file_type = (
                    upload.filename,
                    len(data),
                    upload.content_type,
                )
                upload.file.seek(0)
            else:
                record.fields[name] = [str(v) for v in values]
        return form

    def _too_large(self, size: int) -> _ApiError:
        message = f"Maximum content size limit ({self.max_content_bytes}) exceeded ({size} bytes read)"
        return _ApiError(413, message, type_="server_error")

    def _authenticate(self, request: web.Request, azure: bool) -> None:
        sent = _credential_sent(request)
        if azure:
            if sent is None or sent not in self.azure_tokens | self.azure_keys:
                by_key = "api-key" in request.headers
                raise _ApiError(401, _AZURE_BAD_KEY if by_key else _AZURE_BAD_TOKEN, code="401")
            return
        if sent is None:
            raise _ApiError(401, _NO_KEY)
        if sent not in self.api_keys:
            raise _ApiError(401, _bad_key_message(sent), code="invalid_api_key")

    def _model(self, record: RecordedRequest) -> str:
        api_version = record.api_version
        if api_version is None or not _API_VERSION.fullmatch(api_version):
            raise _ApiError(404, "Resource not found", code="404")
        assert record.deployment is not None
        model = self.deployments.get(record.deployment)
        if model is None:
            raise _ApiError(404, _NO_DEPLOYMENT, code="DeploymentNotFound")
        return model  # Azure ignores the `model` field: the deployment decides

    @staticmethod
    def _openai_model(record: RecordedRequest) -> str:
        model = record.model
        if not model:
            raise _bad("you must provide a model parameter", "model", "missing_required_parameter")
        if model not in FORMATS:
            message = f"The model `{model}` does not exist or you do not have access to it."
            raise _ApiError(404, message, code="model_not_found")
        return model

    # --- validation and answers ------------------------------------------------------------------------

    def _transcription(self, form: MultiDictProxy[Any], record: RecordedRequest, model: str) -> web.Response:
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise _bad("you must provide a file", "file", "missing_required_parameter")
        response_format = record.response_format or "json"
        _check_options(record, model, response_format)
        seconds, segments = self._hear(upload.file.read())
        _check_duration(record, model, seconds)
        if self._script is not None:
            segments = list(self._script)
        language = record.language or self.detected_language
        return _render(model, response_format, seconds, segments, language, record.timestamp_granularities)

    def _hear(self, data: bytes) -> tuple[float, list[Segment]]:
        try:
            with wave.open(io.BytesIO(data), "rb") as reader:
                rate, width, channels = reader.getframerate(), reader.getsampwidth(), reader.getnchannels()
                frames = reader.readframes(reader.getnframes())
        except (wave.Error, EOFError):
            raise _bad("Audio file might be corrupted or unsupported", "file") from None
        if rate <= 0 or width != 2:
            raise _bad("Audio file might be corrupted or unsupported", "file")
        samples = array.array("h", frames[: len(frames) // 2 * 2])[::channels]  # the first channel
        return len(samples) / rate, _speech(samples, rate)


def _credential_sent(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and header[len("Bearer ") :].strip():
        return header[len("Bearer ") :].strip()
    return request.headers.get("api-key") or None


def _injected(failure: _Failure, model: str | None) -> _ApiError:
    headers: dict[str, str] = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = f"{failure.retry_after:g}"
    if failure.retry_after_ms is not None:
        headers["retry-after-ms"] = f"{failure.retry_after_ms:g}"
    if failure.status == 429:
        default = (
            f"Rate limit reached for {model} in organization org-test on requests per min (RPM): Limit 3, "
            "Used 3, Requested 1. Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        type_ = "insufficient_quota" if failure.code == "insufficient_quota" else "requests"
    elif failure.status >= 500:
        default, type_ = (
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        )
    else:
        default, type_ = f"Request failed with status {failure.status}", "invalid_request_error"
    return _ApiError(
        failure.status, failure.message or default, type_=type_, code=failure.code, headers=headers
    )


def _check_options(record: RecordedRequest, model: str, response_format: str) -> None:
    allowed = FORMATS[model]
    if response_format not in allowed:
        choices = ", ".join(f"'{f}'" for f in allowed)
        raise _bad(
            f"response_format '{response_format}' is not compatible with model '{model}'. Use {choices}.",
            "response_format",
            "unsupported_value",
        )
    granularities = record.timestamp_granularities
    if granularities and model == DIARIZE:
        raise _bad(
            "timestamp_granularities is not supported for diarization models", "timestamp_granularities"
        )
    if granularities and response_format != "verbose_json":
        raise _bad(
            "timestamp_granularities requires response_format 'verbose_json'", "timestamp_granularities"
        )
    if not set(granularities) <= {"word", "segment"}:
        raise _bad(f"Invalid timestamp_granularities: {granularities}", "timestamp_granularities")
    if model == DIARIZE and record.fields.get("prompt"):
        raise _bad("Prompt is not supported for diarization models.", "prompt", "unsupported_parameter")
    chunking = record.chunking_strategy
    if chunking is not None and chunking != "auto":
        raise _bad(f"Invalid chunking_strategy: {chunking!r}", "chunking_strategy")
    language = record.language
    if language is not None and not _ISO_639_1.fullmatch(language):
        raise _bad(
            f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
            "language",
            "invalid_language_format",
        )


def _check_duration(record: RecordedRequest, model: str, seconds: float) -> None:
    if model != "whisper-1" and seconds > MAX_GPT4O_SECONDS:
        raise _bad(
            f"audio duration {seconds:g} seconds is longer than {MAX_GPT4O_SECONDS:g} seconds which is the "
            "maximum for this model",
            None,
        )
    if model == DIARIZE and seconds > DIARIZE_UNCHUNKED_SECONDS and record.chunking_strategy is None:
        raise _bad(
            "chunking_strategy is required for diarization models when the audio is longer than 30 seconds",
            "chunking_strategy",
        )


def _speech(samples: Sequence[int], rate: int) -> list[Segment]:
    """Each run of loud QUANTUM windows as one segment, spoken alternately by A and B."""
    window = max(1, round(rate * QUANTUM))
    loud = [
        sum(abs(s) for s in samples[i : i + window]) / len(samples[i : i + window]) > LOUD
        for i in range(0, len(samples), window)
    ]
    segments: list[Segment] = []
    start: int | None = None
    for index, voiced in enumerate([*loud, False]):
        if voiced and start is None:
            start = index
        elif not voiced and start is not None:
            number = len(segments)
            end = min(index * window, len(samples)) / rate
            segments.append(Segment(start * QUANTUM, end, f"speech {number + 1}", "AB"[number % 2]))
            start = None
    return segments


def _render(
    model: str,
    response_format: str,
    seconds: float,
    segments: Sequence[Segment],
    language: str,
    granularities: Sequence[str],
) -> web.Response:
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    if response_format == "text":
        return web.Response(text=text + "\n", content_type="text/plain")
    if response_format in ("srt", "vtt"):
        return web.Response(
            text=_subtitles(segments, vtt=response_format == "vtt"), content_type="text/plain"
        )
    usage = _usage(model, seconds, text)
    body: JsonObject
    if response_format == "verbose_json":
        body = _verbose(seconds, segments, language, granularities, text)
    elif response_format == "diarized_json":
        body = {"task": "transcribe", "duration": seconds, "text": text, "segments": _diarized(segments)}
    else:
        body = {"text": text}
    return web.json_response({**body, "usage": usage})


def _verbose(
    seconds: float, segments: Sequence[Segment], language: str, granularities: Sequence[str], text: str
) -> JsonObject:
    body: JsonObject = {
        "task": "transcribe",
        "language": LANGUAGE_NAMES.get(language, language),
        "duration": seconds,
        "text": text,
    }
    if "segment" in granularities or not granularities:
        body["segments"] = [
            {
                "id": index,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": " " + s.text.strip(),  # Whisper's segments start with the space before the word
                "tokens": [50364 + index],
                "temperature": 0.0,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": 1.0,
                "no_speech_prob": s.no_speech_prob,
            }
            for index, s in enumerate(segments)
        ]
    if "word" in granularities:
        body["words"] = [word for s in segments for word in _words(s)]
    return body


def _words(segment: Segment) -> list[JsonObject]:
    words = segment.text.split()
    step = (segment.end - segment.start) / max(1, len(words))
    return [
        {"word": w, "start": segment.start + i * step, "end": segment.start + (i + 1) * step}
        for i, w in enumerate(words)
    ]


def _diarized(segments: Sequence[Segment]) -> list[JsonObject]:
    return [
        {
            "type": "transcript.text.segment",
            "id": f"seg_{index}",
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "speaker": s.speaker or "A",
        }
        for index, s in enumerate(segments)
    ]


def _usage(model: str, seconds: float, text: str) -> JsonObject:
    if model == "whisper-1":
        return {"type": "duration", "seconds": math.ceil(seconds)}
    audio_tokens, output_tokens = math.ceil(seconds * 10), len(text.split())
    return {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "output_tokens": output_tokens,
        "total_tokens": audio_tokens + output_tokens,
        "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
    }


def _subtitles(segments: Sequence[Segment], *, vtt: bool) -> str:
    def stamp(seconds: float) -> str:
        millis = round(seconds * 1000)
        hours, rest = divmod(millis, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        whole, millis = divmod(rest, 1000)
        return f"{hours:02d}:{minutes:02d}:{whole:02d}{'.' if vtt else ','}{millis:03d}"

    cues = []
    for index, segment in enumerate(segments):
        number = "" if vtt else f"{index + 1}\n"
        cues.append(f"{number}{stamp(segment.start)} --> {stamp(segment.end)}\n{segment.text.strip()}\n")
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(cues)


def _bad_key_message(key: str) -> str:
    shown = f"{key[:3]}{'*' * 4}{key[-2:]}" if len(key) > 8 else "*" * len(key)
    return (
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )


_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_AZURE_BAD_TOKEN = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
_AZURE_BAD_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 "
    "minutes, please wait a moment and try again."
)
