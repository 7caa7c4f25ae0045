"""ACS Call Automation's real-time transcription messages, as they arrive over the WebSocket.

ACS connects to the transport URL given when the app connected to the call with transcription and sends
JSON text frames, each `{"kind": ..., "<kind in camelCase>": {...}}`:

- `TranscriptionMetadata` first: `subscriptionId`, `locale`, `callConnectionId`, `correlationId` (and
  `speechRecognitionModelEndpointId` with a custom model);
- then `TranscriptionData`: `text`, `format` ("display"), `confidence`, `offset` and `duration` in ticks
  (100 ns) from the start of the transcription, `words` (each `text`, `offset`, `duration`), the speaker's
  `participantRawID` and `resultStatus` (`Intermediate` while the recognizer still revises the phrase,
  then `Final`).

Those are the shapes of ACS's documented examples (and the SDKs' streaming parsers). Other kinds (audio,
DTMF) are not ours: they are ignored, never an error. Anything that does not parse is refused here, so the
service decides what a malformed frame costs (it is logged and dropped).

The local stand-in builds the same messages with `transcription_metadata` and `transcription_data`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TICKS_PER_SECOND = 10_000_000
Ticks = Annotated[int, Field(ge=0, le=2**63 - 1)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class TranscriptionMetadata(_Wire):
    subscription_id: str = Field(alias="subscriptionId", default="")
    locale: str = ""
    call_connection_id: str = Field(alias="callConnectionId", default="")
    correlation_id: str = Field(alias="correlationId", default="")


class Word(_Wire):
    text: str
    offset: Ticks
    duration: Ticks = 0


class TranscriptionData(_Wire):
    text: str = Field(max_length=10_000)
    format: str = "display"
    confidence: float = 0.0
    offset: Ticks
    duration: Ticks = 0
    words: list[Word] = Field(default_factory=list, max_length=2_000)
    participant_raw_id: str = Field(alias="participantRawID", default="", max_length=512)
    result_status: Literal["Intermediate", "Final"] = Field(alias="resultStatus")

    @property
    def final(self) -> bool:
        return self.result_status == "Final"

    @property
    def start_seconds(self) -> float:
        return self.offset / TICKS_PER_SECOND

    @property
    def end_seconds(self) -> float:
        return (self.offset + self.duration) / TICKS_PER_SECOND

    @property
    def utterance_key(self) -> str:
        """What every result of one utterance shares (the recognizer keeps a phrase's offset while it
        revises it): its speaker and offset. Intermediate results and the final one carry the same key."""
        return f"{self.participant_raw_id}@{self.offset}"

    @property
    def caption_id(self) -> str:
        """The utterance's id for clients: intermediate results are replaced by the one with the same id."""
        return hashlib.sha256(self.utterance_key.encode()).hexdigest()[:24]


class MalformedMessage(ValueError):
    pass


Message = TranscriptionMetadata | TranscriptionData | None


def parse(frame: str | bytes) -> Message:
    """One WebSocket frame: the metadata, a result, or None for a kind that is not transcription's."""
    try:
        document = json.loads(frame)
    except ValueError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
        raise MalformedMessage("no `kind`")
    kind = document["kind"]
    try:
        if kind == "TranscriptionMetadata":
            return TranscriptionMetadata.model_validate(document.get("transcriptionMetadata"))
        if kind == "TranscriptionData":
            return TranscriptionData.model_validate(document.get("transcriptionData"))
    except ValidationError as exc:
        raise MalformedMessage(f"{kind} does not fit ACS's shape: {exc.error_count()} errors") from None
    return None


def transcription_metadata(
    subscription_id: str, locale: str, call_connection_id: str, correlation_id: str
) -> str:
    return json.dumps(
        {
            "kind": "TranscriptionMetadata",
            "transcriptionMetadata": {
                "subscriptionId": subscription_id,
                "locale": locale,
                "callConnectionId": call_connection_id,
                "correlationId": correlation_id,
            },
        }
    )


def transcription_data(
    text: str,
    words: list[tuple[str, float, float]],
    participant_raw_id: str,
    *,
    final: bool,
    confidence: float = 0.9,
) -> str:
    """A result as ACS sends it; `words` are (text, start, end) in seconds from the call's start."""
    if not words:
        raise ValueError("a result has at least one word")
    start, end = words[0][1], words[-1][2]

    def ticks(seconds: float) -> int:
        return round(seconds * TICKS_PER_SECOND)

    return json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": text,
                "format": "display",
                "confidence": confidence,
                "offset": ticks(start),
                "duration": ticks(end - start),
                "words": [{"text": w, "offset": ticks(s), "duration": ticks(e - s)} for w, s, e in words],
                "participantRawID": participant_raw_id,
                "resultStatus": "Final" if final else "Intermediate",
            },
        }
    )
