"""Where a recording's blobs and queue messages live (DESIGN "Data"), in one place.

`recordings/{meetingId}/{recordingId}/source.<ext>` holds what the client uploaded;
`artifacts/{meetingId}/{recordingId}/` holds the outputs, and `work/` below it the finished pieces of a
transcription in progress (kept so that a retried job resumes instead of starting over).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

RECORDINGS = "recordings"
ARTIFACTS = "artifacts"
TRANSCRIPTION_JOBS = "transcription-jobs"
SUMMARY_JOBS = "summary-jobs"
FETCH_JOBS = "recording-fetch-jobs"  # call recordings to download from ACS
POISON_SUFFIX = "-poison"

# The accepted upload types (DESIGN "Recording create") and the extension of the stored source blob.
EXTENSIONS: dict[str, str] = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "video/mp4": "mp4",
    "audio/webm": "webm",
    "video/webm": "webm",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}

TRANSCRIPT_FILES: dict[str, tuple[str, str]] = {
    # format: (artifact name, media type)
    "json": ("transcript.json", "application/json"),
    "vtt": ("transcript.vtt", "text/vtt; charset=utf-8"),
    "srt": ("transcript.srt", "application/x-subrip; charset=utf-8"),
    "txt": ("transcript.txt", "text/plain; charset=utf-8"),
}

SUMMARY_FILES: dict[str, tuple[str, str]] = {
    "json": ("summary.json", "application/json"),
    "md": ("summary.md", "text/markdown; charset=utf-8"),
}

_SOURCE = re.compile(r"^(?P<meeting>[^/]+)/(?P<recording>[^/]+)/source\.(?P<ext>[a-z0-9]+)$")
_CHUNK = re.compile(r"^[^/]+/[^/]+/chunks/\d{3}\.[a-z0-9]+$")


def source_blob(meeting_id: str, recording_id: str, content_type: str) -> str:
    return f"{meeting_id}/{recording_id}/source.{EXTENSIONS[content_type]}"


def recording_prefix(meeting_id: str, recording_id: str) -> str:
    return f"{meeting_id}/{recording_id}/"


def artifact_blob(meeting_id: str, recording_id: str, name: str) -> str:
    return f"{meeting_id}/{recording_id}/{name}"


def work_prefix(meeting_id: str, recording_id: str) -> str:
    return f"{meeting_id}/{recording_id}/work/"


@dataclass(frozen=True, slots=True)
class RecordingRef:
    meeting_id: str
    recording_id: str


def chunk_blob(meeting_id: str, recording_id: str, index: int, extension: str) -> str:
    """Where one of the chunks ACS delivers a long call recording in is kept (`source_parts`)."""
    return f"{meeting_id}/{recording_id}/chunks/{index:03d}.{extension}"


def is_chunk_blob(name: str) -> bool:
    return bool(_CHUNK.fullmatch(name))


def parse_source_blob(name: str) -> RecordingRef | None:
    """The recording a `recordings` blob name belongs to, if it has the shape of a source blob."""
    found = _SOURCE.fullmatch(name)
    return None if found is None else RecordingRef(found["meeting"], found["recording"])


def call_recording_key(acs_recording_id: str) -> str:
    """The partition and id of the entry mapping ACS's recording id to ours. ACS ids may hold characters a
    Cosmos DB id may not (`/`), hence a digest."""
    return "call-recording-" + hashlib.sha256(acs_recording_id.encode()).hexdigest()[:40]


def job_message(ref: RecordingRef) -> str:
    return json.dumps({"meetingId": ref.meeting_id, "recordingId": ref.recording_id})


def parse_job_message(text: str) -> RecordingRef | None:
    """The recording a job message names; None for a message that is not one of ours (it is dropped)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    meeting, recording = body.get("meetingId"), body.get("recordingId")
    if not (isinstance(meeting, str) and isinstance(recording, str) and meeting and recording):
        return None
    return RecordingRef(meeting, recording)
