"""Recording documents: one per uploaded recording, kept in its meeting's partition of `meetings`.

Field names are snake_case here and camelCase in JSON and in the store, as in models.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from shared.domain.models import CamelModel


class RecordingStatus(StrEnum):
    """DESIGN "Pipeline": created awaiting its upload, queued by the blob trigger, then the two jobs."""

    RECORDING = "recording"  # ACS is recording the meeting's call; the file comes when it stops
    AWAITING_UPLOAD = "awaiting_upload"
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    SUMMARIZING = "summarizing"
    COMPLETED = "completed"
    FAILED = "failed"


class RecordingChannel(CamelModel):
    """One channel of an unmixed multi-channel recording and the participant speaking on it."""

    channel: int = Field(ge=0)
    user_id: str


class RecordingError(CamelModel):
    """Why a recording failed: a stable code for clients and a detail for people."""

    code: str
    detail: str


class RecordingStage(StrEnum):
    """What `progress` measures: the upload, then each job of the pipeline."""

    UPLOAD = "upload"
    TRANSCRIPT = "transcript"
    SUMMARY = "summary"


class Usage(CamelModel):
    """What one provider was asked for one stage of this recording, summed over every run: the cost."""

    stage: RecordingStage
    provider: str  # the transcriber's or summarizer's name, e.g. `openai:whisper-1`
    requests: int = 0
    audio_seconds: float = 0.0  # speech sent to a transcriber (silence is never sent)
    input_tokens: int = 0
    output_tokens: int = 0
    # Summary items, and those whose evidence did not check out: of the latest summary, not summed.
    cited_items: int = 0
    unverified_items: int = 0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.audio_seconds = round(self.audio_seconds + other.audio_seconds, 3)
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cited_items = other.cited_items
        self.unverified_items = other.unverified_items


class SummaryVersion(CamelModel):
    """One version of the recording's summary: its file (`summary-versions/<id>.json` among the
    recording's artifacts), how it came about, who made it and when. The last one is the current one."""

    version: int = Field(ge=1)
    blob: str
    kind: Literal["generated", "edited", "approved", "speakers"]
    by: str | None = None  # None: the summarizer
    at: datetime
    approved: bool = False  # this version's text is approved (naming a speaker keeps an approval)


class JobClaim(CamelModel):
    """Who is running the recording's job, until when. Taken and renewed with ETag writes.

    `owner` is the queue message's id: a redelivery of the same message (its runner died) may take the
    claim over at once, while a duplicate message finds a live claim held by another and leaves.
    """

    owner: str
    expires_at: datetime


class CallRecordingChunk(CamelModel):
    """One file ACS delivered for the recording: where to fetch it and its metadata."""

    index: int
    content: str
    metadata: str | None = None


class CallRecording(CamelModel):
    """A recording ACS makes of the meeting's call (Call Automation), rather than one a client uploads."""

    call_kind: Literal["room", "server_call"]
    call_id: str  # the room id, or the server call id
    content: Literal["audio", "audio-video"]
    channels: Literal["mixed", "unmixed"]
    format: Literal["mp3", "wav", "mp4"]
    acs_recording_id: str | None = None  # once ACS has started it
    state: Literal["starting", "active", "paused", "stopped", "fetched"] = "starting"
    # The files ACS announced when the recording ended, in order: what the fetch job downloads.
    chunks: list[CallRecordingChunk] = Field(default_factory=list)


class LiveCaptions(CamelModel):
    """Live captions of the meeting's call (ACS real-time transcription through the captions service): the
    recording made for them holds their final captions, then the transcript made of them."""

    call_kind: Literal["room", "server_call"]
    call_id: str  # the room id
    locale: str  # e.g. en-US: what the recognizer listens for
    # Call Automation's connection to the call, once ACS has connected: what stops the transcription.
    call_connection_id: str | None = None
    # starting -> active -> stopped (captions off, or the call ended) -> finalized (transcript written)
    state: Literal["starting", "active", "stopped", "finalized"] = "starting"
    started_at: datetime
    stopped_at: datetime | None = None


class Recording(CamelModel):
    id: str
    meeting_id: str
    created_by: str
    file_name: str
    content_type: str
    size_bytes: int = Field(ge=0)
    # Empty for a mixed recording; otherwise one entry per channel (ACS delivers up to 5).
    channels: list[RecordingChannel] = Field(default_factory=list)
    language: str | None = None
    status: RecordingStatus = RecordingStatus.AWAITING_UPLOAD
    stage: RecordingStage = RecordingStage.UPLOAD
    progress: float = Field(default=0.0, ge=0.0, le=1.0)
    error: RecordingError | None = None
    # The audio's length once the transcription job has decoded it.
    duration_seconds: float | None = None
    # The artifacts written so far (`transcript.json`…): written before the status that announces them.
    artifacts: list[str] = Field(default_factory=list)
    # Job attempts so far (every queue delivery that claimed the recording), for operators.
    attempts: int = 0
    claim: JobClaim | None = None
    usage: list[Usage] = Field(default_factory=list)
    # Every version of the summary, oldest first (regenerating keeps the old ones).
    summary_versions: list[SummaryVersion] = Field(default_factory=list)

    def add_usage(self, usage: Usage) -> None:
        for entry in self.usage:
            if (entry.stage, entry.provider) == (usage.stage, usage.provider):
                entry.add(usage)
                return
        self.usage.append(usage)

    # The blob's name in the `recordings` container: `{meetingId}/{recordingId}/source.<ext>`.
    source_blob: str
    # A call recording ACS delivered in several chunks: their blobs, in order (transcribed as one
    # recording); empty when the source is the one blob above.
    source_parts: list[str] = Field(default_factory=list)
    # The version of the source that was queued (its ETag, unquoted): a storage event for that same
    # version again is a redelivery, not a new upload.
    source_etag: str | None = None
    # When the last upload URL handed out expires (renewing it moves this on): past it, with no file,
    # the reconciler fails the recording (`upload_expired`). None for a call recording (ACS delivers).
    upload_expires_at: datetime | None = None
    call: CallRecording | None = None
    # When the transcript was first written: retention counts the source's days from here.
    transcript_written_at: datetime | None = None
    # When retention deleted the source (and its chunks): the notes stay, the audio is gone for good.
    source_deleted_at: datetime | None = None
    live: LiveCaptions | None = None
    created_at: datetime
    updated_at: datetime
    # Increases with every write, as a meeting's does.
    version: int = 1

    @model_validator(mode="after")
    def _not_the_meeting_id(self) -> Self:
        # The meeting document's id is the meetingId, in the same partition: a recording with that id
        # would be the meeting document. Recording ids are their own uuids, so this never holds by chance.
        if self.id == self.meeting_id:
            raise ValueError("a recording's id must differ from its meeting's id")
        return self
