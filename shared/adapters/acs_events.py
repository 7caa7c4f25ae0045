"""What ACS writes when a call recording ends, built the way ACS builds it: the Event Grid event
`Microsoft.Communication.RecordingFileStatusUpdated` and the metadata JSON of each recorded chunk.

The local stand-in (local_call_recording) and the tests' Call Automation server (tests/acs_server.py) both
build theirs here, so the app's Event Grid function sees one shape whichever produced it. Shapes follow
the Event Grid schema docs for Communication Services and the call recording concept page:

- the event is in the Event Grid schema (not CloudEvents), as a subscription delivers it by default; its
  subject is `/recording/call/{callId}/serverCallId/{serverCallId}/recordingId/{recordingId}`;
- `data.recordingContentType`/`recordingChannelType`/`recordingFormatType` are PascalCase (`Audio`,
  `AudioVideo`; `Mixed`, `Unmixed`; `Mp3`, `Wav`, `Mp4`), unlike the REST API's camelCase values;
- the metadata's `recordingInfo` uses the REST API's values (`audio`/`audioVideo`, `mixed`, `mp3`...).
"""

from __future__ import annotations

import io
import uuid
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from shared.ports import RecordingRequest

RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"

# The port's values (ours) to ACS's, on the wire (REST, metadata) and in the event.
WIRE_CONTENT = {"audio": "audio", "audio-video": "audioVideo"}
_EVENT_CONTENT = {"audio": "Audio", "audio-video": "AudioVideo"}
_EVENT_CHANNELS = {"mixed": "Mixed", "unmixed": "Unmixed"}
_EVENT_FORMAT = {"mp3": "Mp3", "wav": "Wav", "mp4": "Mp4"}


@dataclass(frozen=True, slots=True)
class RecordedChunk:
    """One file of a recording, as ACS lists it; long recordings come in several, by `index`."""

    document_id: str
    index: int
    content_location: str
    metadata_location: str
    delete_location: str
    duration_ms: int
    started_at: datetime
    end_reason: str = "SessionEnded"  # the last chunk's; earlier ones end "ChunkMaximumSizeExceeded"


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """What a finished recording was: its ids, what was asked for and how long it ran."""

    resource_id: str  # the ACS resource's immutable id (a GUID), as in `topic` and the metadata
    call_id: str  # ACS's group call id (a GUID)
    server_call_id: str
    recording_id: str
    request: RecordingRequest
    started_at: datetime
    duration_ms: int
    pauses: Sequence[tuple[datetime, int]] = ()  # (paused at, for how many ms)


def recording_file_event(
    call: RecordedCall,
    chunks: Sequence[RecordedChunk],
    *,
    topic: str,
    session_end_reason: str = "CallEnded",
    event_id: str | None = None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """The event ACS publishes once the files can be downloaded (a few minutes after the recording ends).

    `topic` is the resource's ARM id (`/subscriptions/.../communicationServices/{name}`). Redelivering a
    returned event as is models Event Grid's at-least-once delivery: same `id`, same content.
    """
    request = call.request
    return {
        "id": event_id or str(uuid.uuid4()),
        "topic": topic,
        "subject": (
            f"/recording/call/{call.call_id}/serverCallId/{call.server_call_id}"
            f"/recordingId/{call.recording_id}"
        ),
        "data": {
            "recordingStorageInfo": {
                "recordingChunks": [
                    {
                        "documentId": chunk.document_id,
                        "index": chunk.index,
                        "endReason": chunk.end_reason,
                        "contentLocation": chunk.content_location,
                        "metadataLocation": chunk.metadata_location,
                        "deleteLocation": chunk.delete_location,
                    }
                    for chunk in sorted(chunks, key=lambda c: c.index)
                ]
            },
            "recordingStartTime": _wire_time(call.started_at),
            "recordingDurationMs": call.duration_ms,
            "recordingContentType": _EVENT_CONTENT[request.content],
            "recordingChannelType": _EVENT_CHANNELS[request.channels],
            "recordingFormatType": _EVENT_FORMAT[request.format],
            "sessionEndReason": session_end_reason,
        },
        "eventType": RECORDING_FILE_STATUS_UPDATED,
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": _wire_time(event_time or datetime.now(UTC)),
    }


def recording_metadata(
    call: RecordedCall, chunk: RecordedChunk, participants: Sequence[tuple[str, int]]
) -> dict[str, Any]:
    """The JSON at a chunk's `metadataLocation`: who was recorded, on which channel (unmixed audio)."""
    request = call.request
    info: dict[str, Any] = {
        "contentType": WIRE_CONTENT[request.content],
        "channelType": request.channels,
        "format": request.format,
    }
    if request.content == "audio":
        unmixed = request.channels == "unmixed" and participants
        channels = max(channel for _, channel in participants) + 1 if unmixed else 1
        info["audioConfiguration"] = {"sampleRate": 16000, "bitRate": 256000, "channels": channels}
    return {
        "resourceId": call.resource_id,
        "callId": call.call_id,
        "chunkDocumentId": chunk.document_id,
        "chunkIndex": chunk.index,
        "chunkStartTime": _wire_time(chunk.started_at),
        "chunkDuration": chunk.duration_ms,
        "pauseResumeIntervals": [
            {"startTime": _wire_time(at), "duration": duration} for at, duration in call.pauses
        ],
        "recordingInfo": info,
        "participants": [
            {"participantId": participant, "channel": channel} for participant, channel in participants
        ],
    }


def split_recording(source: IO[bytes], file_format: str, chunk_bytes: int) -> Iterator[bytes]:
    """A recorded file cut into chunks of about `chunk_bytes`, each a file of its own as ACS delivers
    them: MP3 byte-wise (its frames resynchronise), PCM WAV on frame boundaries, each with its own header.
    One chunk is in memory at a time. MP4 cannot be cut without remuxing: ValueError."""
    if chunk_bytes <= 0:
        raise ValueError("chunk_bytes must be positive")
    if file_format == "mp3":
        while block := source.read(chunk_bytes):
            yield block
    elif file_format == "wav":
        try:
            reader = wave.open(source, "rb")  # noqa: SIM115 - closed below, across the yields
        except (wave.Error, EOFError) as exc:
            raise ValueError(f"not a PCM WAV file: {exc}") from None
        with reader:
            frame_bytes = reader.getsampwidth() * reader.getnchannels()
            frames_per_chunk = max(1, chunk_bytes // frame_bytes)
            while frames := reader.readframes(frames_per_chunk):
                out = io.BytesIO()
                with wave.open(out, "wb") as writer:
                    writer.setparams(reader.getparams())
                    writer.writeframes(frames)
                yield out.getvalue()
    else:
        raise ValueError(f"a {file_format} recording cannot be cut into chunks here")


def chunk_durations(total_ms: int, sizes: Sequence[int]) -> list[int]:
    """A recording's duration shared among its chunks by size (what a constant bitrate would give)."""
    total_bytes = sum(sizes) or 1
    durations = [total_ms * size // total_bytes for size in sizes]
    if durations:
        durations[-1] += total_ms - sum(durations)  # rounding goes to the last chunk: the sum is exact
    return durations


def _wire_time(moment: datetime) -> str:
    """ISO 8601 in UTC with seven fractional digits and a Z, as Event Grid and ACS write instants."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z"
