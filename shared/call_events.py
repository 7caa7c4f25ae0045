"""ACS's `Microsoft.Communication.RecordingFileStatusUpdated` Event Grid event, read without trust.

The subject names the recording: `/recording/call/{callId}/serverCallId/{serverCallId}/recordingId/{id}`;
`data.recordingStorageInfo.recordingChunks` lists the files, one per chunk ACS cut a long recording into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"


class MalformedEvent(ValueError):
    """The event is of the right type but not of the shape ACS sends: nothing can be done with it."""


@dataclass(frozen=True, slots=True)
class RecordingChunk:
    index: int
    content_location: str
    metadata_location: str | None


@dataclass(frozen=True, slots=True)
class RecordingFile:
    acs_recording_id: str
    chunks: list[RecordingChunk]  # in index order


def recording_file(event_type: str, subject: str, data: Any) -> RecordingFile | None:
    """The finished recording an event announces; None for another event type. MalformedEvent otherwise."""
    if event_type != RECORDING_FILE_STATUS_UPDATED:
        return None
    # The recording id ends the subject, and is base64: it may hold '/' itself.
    _, found, recording_id = subject.partition("/recordingId/")
    if not found or not recording_id:
        raise MalformedEvent(f"no recording id in the subject {subject!r}")
    chunks = _chunks(data)
    if not chunks:
        raise MalformedEvent("the event lists no recording chunks")
    return RecordingFile(recording_id, sorted(chunks, key=lambda chunk: chunk.index))


def _chunks(data: Any) -> list[RecordingChunk]:
    info = data.get("recordingStorageInfo") if isinstance(data, Mapping) else None
    raw = info.get("recordingChunks") if isinstance(info, Mapping) else None
    if not isinstance(raw, list):
        raise MalformedEvent("data.recordingStorageInfo.recordingChunks is missing")
    chunks: list[RecordingChunk] = []
    for position, chunk in enumerate(raw):
        if not isinstance(chunk, Mapping) or not isinstance(chunk.get("contentLocation"), str):
            raise MalformedEvent(f"recording chunk {position} has no contentLocation")
        index = chunk.get("index", position)
        metadata = chunk.get("metadataLocation")
        chunks.append(
            RecordingChunk(
                index=index if isinstance(index, int) else position,
                content_location=chunk["contentLocation"],
                metadata_location=metadata if isinstance(metadata, str) else None,
            )
        )
    return chunks
