"""Protocols for everything with I/O. Services depend on these; adapters implement them."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

if TYPE_CHECKING:  # only annotations: the ports stay importable without pydantic (cold start)
    from shared.domain.erasure import Erasure
    from shared.domain.models import AcsIdentity, Meeting, Membership, Role
    from shared.domain.recordings import Recording, RecordingStatus
    from shared.notes.retrieval import Passage
    from shared.summaries import Sources, SummaryContent
    from shared.transcripts import Transcript

T = TypeVar("T")


class StoreError(Exception):
    """Base of the errors every store adapter raises instead of its SDK's own."""


class AlreadyExists(StoreError):
    pass


class EtagMismatch(StoreError):
    """The document changed since it was read (or is gone): the conditional write did nothing."""


class StoreUnavailable(StoreError):
    """The backend kept throttling past our retries, failed (5xx) or could not be reached: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreNotProvisioned(StoreError):
    """The database or a container is missing or laid out otherwise, and this store may not create it."""


class InvalidContinuation(StoreError):
    """A continuation token the store cannot resume from."""


@dataclass(frozen=True, slots=True)
class Stored(Generic[T]):
    value: T
    etag: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    continuation: str | None


class MeetingStore(Protocol):
    """The `meetings` container: partition key `/meetingId`."""

    async def create_meeting(self, meeting: Meeting) -> str:
        """Stores a new meeting and returns its ETag; AlreadyExists if the id is taken."""
        ...

    async def get_meeting(self, meeting_id: str) -> Stored[Meeting] | None: ...

    async def replace_meeting(self, meeting: Meeting, etag: str) -> str:
        """Replaces the meeting only if its ETag is still `etag`; returns the new ETag or EtagMismatch."""
        ...

    # Recording documents live in their meeting's partition (partition key value: the meetingId), with
    # type "recording" and the recording's own id, which never equals the meetingId (the meeting
    # document's id there): see Recording.

    async def create_recording(self, recording: Recording) -> str:
        """Stores a new recording and returns its ETag; AlreadyExists if the id is taken in the meeting."""
        ...

    async def get_recording(self, meeting_id: str, recording_id: str) -> Stored[Recording] | None:
        """A point read; None if absent (the meeting document itself is never a recording)."""
        ...

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        """Replaces the recording only if its ETag is still `etag`; returns the new ETag or EtagMismatch."""
        ...

    async def list_recordings(self, meeting_id: str) -> list[Recording]:
        """The meeting's recordings by (createdAt, id), in one single-partition query."""
        ...

    async def delete_recording(self, meeting_id: str, recording_id: str) -> None:
        """Deletes the recording document; one that does not exist is not an error."""
        ...

    async def list_recordings_by_status(
        self, status: RecordingStatus, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Recording]:
        """Recordings in `status` across every meeting, at most `limit`, oldest update first: the
        reconciler's sweep and the operators' list (rarely: on Cosmos DB a cross-partition query).

        `after`: the (updatedAt, id) of the last recording of the previous page; the page starts past it.
        """
        ...

    async def list_recordings_transcribed_before(
        self, before: datetime, *, source_kept: bool, limit: int
    ) -> list[Recording]:
        """Recordings whose transcript was written before `before`, at most `limit`, oldest transcript
        first; with `source_kept`, only those whose source retention has not deleted yet. Retention's sweep
        (the reconciler's timer; on Cosmos DB a cross-partition query)."""
        ...

    # ACS names a call recording by its own id in the events it sends: this maps it to ours, in a
    # partition of its own (`call-recording-<hash>`), so an event is one point read from its recording.

    async def put_call_recording_ref(self, acs_recording_id: str, meeting_id: str, recording_id: str) -> None:
        """Records which of our recordings ACS's recording is (creates or replaces the entry)."""
        ...

    async def get_call_recording_ref(self, acs_recording_id: str) -> tuple[str, str] | None:
        """(meetingId, recordingId) of ACS's recording, or None if it is not ours."""
        ...


class UserStore(Protocol):
    """The `users` container: partition key `/userId`. Membership entries and the ACS identity."""

    async def put_membership(self, membership: Membership) -> None:
        """Creates or replaces the entry unless the stored one has a higher version (a newer write)."""
        ...

    async def remove_membership(self, user_id: str, meeting_id: str, version: int) -> None:
        """Deletes the entry unless the stored one has a higher version; absent is fine."""
        ...

    async def list_memberships(
        self,
        user_id: str,
        *,
        ends_after: datetime | None,
        starts_before: datetime | None,
        limit: int,
        continuation: str | None,
    ) -> Page[Membership]:
        """One page of the user's entries by (startsAt, meetingId), from one partition."""
        ...

    async def get_identity(self, user_id: str) -> AcsIdentity | None: ...

    async def create_identity(self, identity: AcsIdentity) -> None:
        """AlreadyExists if the user has one: the first writer wins."""
        ...

    async def purge_user(self, user_id: str) -> int:
        """Deletes every document of the user's partition (membership entries, their tombstones, the ACS
        identity mapping); how many. Erasure's last step."""
        ...

    # A user's erasure job, in a partition of its own named by `Erasure.key` (a hash of the user id).

    async def get_erasure(self, key: str) -> Stored[Erasure] | None: ...

    async def put_erasure(self, erasure: Erasure, etag: str | None) -> str:
        """Creates the document (`etag` None: AlreadyExists if there is one) or replaces it only if its ETag
        is still `etag` (EtagMismatch); returns the new ETag."""
        ...


class Store(MeetingStore, UserStore, Protocol):
    # Point reads, queries and writes so far, as the adapter counts them: operators and bench/store_ops
    # see what each request costs in the backend's own terms.
    operations: dict[str, int]

    async def aclose(self) -> None: ...


# --- communication (ACS) -------------------------------------------------------------------------


class CommunicationError(Exception):
    """Base of the errors every communication adapter raises instead of its SDK's own."""


class RoomNotFound(CommunicationError):
    pass


class CommunicationRejected(CommunicationError):
    """ACS refused the request as invalid (a 4xx other than 404/429): a bug or a rule we broke."""


class CommunicationUnavailable(CommunicationError):
    """ACS failed or kept throttling past our retries."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RoomMember:
    acs_user_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_on: datetime


class Communication(Protocol):
    """ACS identities, tokens and rooms. App user ids never reach it: only ACS user ids do."""

    @property
    def endpoint(self) -> str:
        """The endpoint a calling client connects to with the tokens issued here."""
        ...

    async def create_room(self, valid_from: datetime, valid_until: datetime) -> str: ...

    async def update_room(self, room_id: str, valid_from: datetime, valid_until: datetime) -> None: ...

    async def delete_room(self, room_id: str) -> None:
        """Deletes the room; a room that is already gone is not an error."""
        ...

    async def upsert_room_members(self, room_id: str, members: Sequence[RoomMember]) -> None: ...

    async def remove_room_members(self, room_id: str, acs_user_ids: Sequence[str]) -> None: ...

    async def create_user(self) -> str: ...

    async def delete_user(self, acs_user_id: str) -> None:
        """Deletes the identity and revokes its tokens; an identity already gone is not an error."""
        ...

    async def issue_token(
        self, acs_user_id: str, scopes: Sequence[str], lifetime: timedelta
    ) -> AccessToken: ...

    async def revoke_tokens(self, acs_user_id: str) -> None: ...

    async def aclose(self) -> None: ...


# --- call recording (ACS Call Automation) ---------------------------------------------------------

RecordingContent = Literal["audio", "audio-video"]
RecordingChannels = Literal["mixed", "unmixed"]
RecordingFormat = Literal["mp3", "wav", "mp4"]
CallRecordingState = Literal["active", "inactive"]

# What ACS records, by content and channels: unmixed audio only as wav, video only as mixed mp4.
RECORDING_FORMATS: dict[tuple[str, str], tuple[str, ...]] = {
    ("audio", "mixed"): ("mp3", "wav"),
    ("audio", "unmixed"): ("wav",),
    ("audio-video", "mixed"): ("mp4",),
}


class CallRecordingNotFound(CommunicationError):
    """ACS does not know this recording (or the call it was asked to record)."""


class CallRecordingConflict(CommunicationError):
    """The call is already being recorded, or the recording is in a state that does not allow this."""


@dataclass(frozen=True, slots=True)
class CallLocator:
    """The call to record: a rooms call by its room id, or any call by its server call id."""

    kind: Literal["room", "server_call"]
    id: str


@dataclass(frozen=True, slots=True)
class RecordingRequest:
    content: RecordingContent
    channels: RecordingChannels
    format: RecordingFormat


class CallRecorder(Protocol):
    """ACS Call Automation's recording of a call, and the download of what it recorded."""

    async def start_recording(self, call: CallLocator, request: RecordingRequest) -> str:
        """Starts recording the call; ACS's recording id. CallRecordingConflict if it is being recorded."""
        ...

    async def pause_recording(self, recording_id: str) -> None: ...

    async def resume_recording(self, recording_id: str) -> None: ...

    async def stop_recording(self, recording_id: str) -> None:
        """Stops it; ACS then delivers the files (RecordingFileStatusUpdated). Stopped already: no error."""
        ...

    async def recording_state(self, recording_id: str) -> CallRecordingState:
        """CallRecordingNotFound once ACS has forgotten the recording."""
        ...

    async def start_transcription(
        self, call: CallLocator, transport_url: str, locale: str, *, callback_url: str
    ) -> str:
        """Connects Call Automation to the call with real-time transcription started: ACS opens a WebSocket
        to `transport_url` and streams TranscriptionData in `locale`, and posts the call's events (its end
        among them) to `callback_url`. Returns the call connection's id."""
        ...

    async def stop_transcription(self, call_connection_id: str) -> None:
        """Stops the transcription and leaves the call (for itself only); a connection already gone: no
        error."""
        ...

    def download(self, location: str, *, chunk_size: int = 4 * 1024 * 1024) -> AsyncIterator[bytes]:
        """A recorded file (content, metadata) from the location ACS gave in its event, in chunks.

        Only locations of this ACS resource are fetched (the request carries its credentials).
        CallRecordingNotFound when the file is gone (ACS keeps recordings for 48 hours).
        """
        ...

    async def aclose(self) -> None: ...


# --- blobs -----------------------------------------------------------------------------------------


class BlobNotFound(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class BlobInfo:
    name: str
    size: int
    content_type: str | None
    etag: str


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where a client PUTs a recording's bytes: write-only, one blob, expiring."""

    url: str
    method: str
    headers: dict[str, str]
    expires_on: datetime


@dataclass(frozen=True, slots=True)
class ReadTarget:
    """Where a client GETs one blob (HTTP Range requests included): read-only, one blob, expiring."""

    url: str
    expires_on: datetime


class BlobStore(Protocol):
    """Containers of named blobs. Large blobs move as streams of chunks, never whole in memory."""

    async def upload(
        self, container: str, name: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        """Writes the blob from the chunks, replacing any blob of that name; readers never see half of it."""
        ...

    async def put(
        self, container: str, name: str, data: bytes, *, content_type: str | None = None
    ) -> BlobInfo:
        """A small blob in one go (a transcript, a summary)."""
        ...

    def download(
        self, container: str, name: str, *, chunk_size: int = 4 * 1024 * 1024
    ) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks of at most `chunk_size`; BlobNotFound if it does not exist."""
        ...

    async def get(self, container: str, name: str) -> bytes:
        """A small blob's bytes; BlobNotFound if it does not exist."""
        ...

    async def info(self, container: str, name: str) -> BlobInfo | None: ...

    async def read_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end, none past it); BlobNotFound if absent.

        What a seekable reader is built on: some containers (MP4 with its index at the end) must seek.
        """
        ...

    def list_blobs(self, container: str, *, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """The blobs whose names start with `prefix`, in name order, page by page (never all at once)."""
        ...

    async def delete(self, container: str, name: str) -> None:
        """Deletes the blob; one that does not exist is not an error."""
        ...

    async def delete_prefix(self, container: str, prefix: str) -> int:
        """Deletes every blob whose name starts with `prefix`; returns how many."""
        ...

    async def upload_target(
        self, container: str, name: str, *, content_type: str, expires_in: timedelta
    ) -> UploadTarget:
        """A URL that lets a client PUT exactly this one blob until it expires, and do nothing else."""
        ...

    async def read_url(self, container: str, name: str, *, expires_in: timedelta) -> ReadTarget:
        """A URL that lets a client GET (and HEAD, by ranges) exactly this one blob until it expires, and
        do nothing else: no write, no list, no other blob. Valid for an absent blob (it reads as 404)."""
        ...

    async def aclose(self) -> None: ...


# --- queues ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueMessage:
    id: str
    pop_receipt: str
    text: str
    dequeue_count: int
    inserted_on: datetime


class MessageGone(StoreError):
    """The message was deleted, or its pop receipt is stale (it became visible and was taken again)."""


class QueueStore(Protocol):
    """Storage queues with the semantics the Functions host relies on: at-least-once delivery, visibility
    timeouts, dequeue counts. Message text travels base64-encoded, as the host's queue trigger expects."""

    async def send(self, queue: str, text: str, *, delay: timedelta | None = None) -> None: ...

    async def receive(
        self, queue: str, *, max_messages: int, visibility_timeout: timedelta
    ) -> list[QueueMessage]:
        """Up to `max_messages` visible messages, each now hidden for `visibility_timeout`, count raised."""
        ...

    async def delete(self, queue: str, message: QueueMessage) -> None:
        """Removes a message received earlier; MessageGone if its pop receipt no longer holds."""
        ...

    async def release(self, queue: str, message: QueueMessage, *, delay: timedelta) -> None:
        """Makes a received message visible again after `delay` (a failed attempt); MessageGone as delete."""
        ...

    async def aclose(self) -> None: ...


# --- speech to text --------------------------------------------------------------------------------


class TranscriberError(Exception):
    """Base of the errors every transcriber adapter raises instead of its SDK's own."""


class TranscriberRejected(TranscriberError):
    """The provider refused this audio or this request for good (a 4xx other than 408/409/429, after a
    credential refresh for 401): retrying the same piece will not help, so the recording fails at once."""


class TranscriberUnavailable(TranscriberError):
    """The provider failed, timed out or kept throttling past the adapter's own retries: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class TranscriberLimits:
    """What media preparation must respect when it cuts a recording into pieces for this transcriber."""

    max_piece_bytes: int  # one WAV piece, header included (OpenAI refuses files over 25 MB)
    max_piece_seconds: float  # long pieces are slow to retry and some models drift on them
    concurrency: int  # pieces of one recording transcribed at once


@dataclass(frozen=True, slots=True)
class TranscribedSegment:
    start: float  # seconds from the start of the piece
    end: float
    text: str
    speaker_label: str | None = None  # a diarizing model's label ("A", "B"…), else None


@dataclass(frozen=True, slots=True)
class Transcription:
    segments: list[TranscribedSegment]
    language: str | None  # what the provider detected or was told (ISO 639-1 where it says so)


@dataclass(frozen=True, slots=True)
class TranscriptionContext:
    """What the meeting knows that the audio may say: words a recogniser would not expect (names, the
    meeting's own terms). Each adapter uses it as it can (vocabulary and LM weight offline, a prompt for
    whisper); none must rely on it."""

    names: tuple[str, ...] = ()  # participants' user ids and display names
    title: str | None = None
    description: str | None = None

    def prompt(self) -> str:
        """The context as one line of text (names, then title and description), empty when there is none."""
        parts = []
        if self.names:
            parts.append(", ".join(dict.fromkeys(name.strip() for name in self.names if name.strip())) + ".")
        parts += [text.strip() for text in (self.title, self.description) if text and text.strip()]
        return " ".join(part for part in parts if part != ".")


class Transcriber(Protocol):
    """Speech to text for one piece of audio: a 16 kHz mono s16 WAV within `limits`."""

    @property
    def name(self) -> str:
        """The provider and model, e.g. `openai:whisper-1`, `local:pocketsphinx` (usage and logs)."""
        ...

    @property
    def limits(self) -> TranscriberLimits: ...

    async def transcribe(
        self, wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        """The piece's segments; `language` (ISO 639-1) is a hint, None lets the provider detect it;
        `context` (the meeting's names and terms) is another hint.

        Retries 429 (honouring Retry-After), 408 and 5xx itself with backoff, then raises
        TranscriberUnavailable; a permanent refusal raises TranscriberRejected. Silence yields no segments.
        """
        ...

    async def aclose(self) -> None: ...


# --- summaries -------------------------------------------------------------------------------------


class SummarizerError(Exception):
    """Base of the errors every summarizer adapter raises instead of its SDK's own."""


class SummarizerRejected(SummarizerError):
    """The provider refused the request for good, or its output failed validation even when asked again:
    retrying the job will not help, so the recording's summary fails at once."""


class SummarizerUnavailable(SummarizerError):
    """The provider failed, timed out or kept throttling past the adapter's own retries: retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """What one summary cost at the provider: the requests made and the tokens they carried."""

    requests: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Summarization:
    content: SummaryContent
    usage: ModelUsage
    # Where each item comes from, for its evidence (shared/notes/evidence.py); None: not known.
    sources: Sources | None = None


class Summarizer(Protocol):
    """Structured meeting notes from a transcript of any length."""

    @property
    def name(self) -> str:
        """The provider and model, e.g. `openai:gpt-4o-mini`, `local:extractive` (the summary's `model`)."""
        ...

    async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
        """The notes, in the transcript's language, with owners named as the transcript's speakers and
        chapter times in the transcript's seconds.

        Retries 429 (honouring Retry-After) and 5xx itself, then raises SummarizerUnavailable; a refusal or
        output that stays invalid raises SummarizerRejected.
        """
        ...

    async def aclose(self) -> None: ...


# --- answers to questions about a meeting -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage an answer rests on: its position among the passages given (the model may be wrong: the
    service drops positions out of range), and the words of it the answerer quotes (checked there too)."""

    passage: int
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """An answerer's answer: None when the passages do not say (it refuses rather than invents)."""

    text: str | None
    citations: tuple[Citation, ...]
    usage: ModelUsage


class Answerer(Protocol):
    """Answers a question about a meeting from passages of its recordings, and only from them.

    The summarizer's provider family (SUMMARIZER picks both): it raises SummarizerUnavailable (retry later)
    and SummarizerRejected (for good) as the summarizer does.
    """

    @property
    def name(self) -> str: ...

    async def answer(self, question: str, passages: Sequence[Passage], *, title: str | None) -> Answered:
        """The answer to `question` from `passages` (ranked, best first), citing those it rests on."""
        ...

    async def aclose(self) -> None: ...


# --- live events (Web PubSub, Event Grid) ------------------------------------------------------------


class RealtimeError(Exception):
    """Base of the errors every realtime hub and event sink adapter raises instead of its SDK's own."""


@dataclass(frozen=True, slots=True)
class ClientAccess:
    """Where a browser connects to receive a user's events: a URL with its access token, until it expires."""

    url: str
    expires_on: datetime


class RealtimeHub(Protocol):
    """Web PubSub's hub: users connect with a client access URL and receive what is sent to their groups.

    Connections are receive-only: they can join or send to no group themselves (no roles), so a user only
    ever hears what the app puts them in.
    """

    async def client_access(self, user_id: str, groups: Sequence[str], lifetime: timedelta) -> ClientAccess:
        """A URL that connects as `user_id`, in `groups` from the start, with no role."""
        ...

    async def send_to_group(self, group: str, message: dict[str, object]) -> None:
        """A JSON message to every connection in the group; nobody listening is not an error."""
        ...

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        """A JSON message to every connection of the user."""
        ...

    async def add_user_to_group(self, group: str, user_id: str) -> None:
        """Puts the user's connections (those open now) into the group."""
        ...

    async def remove_user_from_group(self, group: str, user_id: str) -> None:
        """Takes the user's connections out of the group: they receive nothing more sent to it."""
        ...

    async def aclose(self) -> None: ...


class EventSink(Protocol):
    """Where events go for other systems: an Event Grid custom topic, or local webhooks."""

    async def publish(self, events: Sequence[dict[str, object]]) -> None:
        """Delivers the events (each `{"id", "type", "time", "meetingId", "data"}`) at least once, or raises
        RealtimeError. An adapter may deliver in the background; `aclose` waits for what is under way."""
        ...

    async def aclose(self) -> None: ...


# --- search ----------------------------------------------------------------------------------------


class SearchError(Exception):
    """Base of the errors every search index adapter raises instead of its SDK's own."""


class SearchUnavailable(SearchError):
    """The index failed, throttled past the adapter's retries, or could not be reached: retry later."""


SearchKind = Literal["transcript", "summary"]


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """One searchable passage: a transcript segment or a summary item of one recording."""

    meeting_id: str
    recording_id: str
    kind: SearchKind
    position: int  # its place in the recording's documents: with the recording, its identity
    start: float | None
    end: float | None
    speaker: str | None
    text: str


@dataclass(frozen=True, slots=True)
class SearchHit:
    meeting_id: str
    recording_id: str
    kind: SearchKind
    start: float | None
    end: float | None
    speaker: str | None
    # A passage of the document around the matched words, as plain text, and where in it the matched
    # words are: [start, end) offsets in the snippet (code points). Never markup: clients render it safely.
    snippet: str
    highlights: tuple[tuple[int, int], ...]


class SearchIndex(Protocol):
    """Full-text search over transcripts and summaries, every query trimmed to one user's meetings.

    Each document carries its meeting's member ids (organizer and participants): a query only ever matches
    documents whose members include the user, inside the index itself, so no page is filled with others'
    results. `terms` are plain words (no query syntax): a document matches when it holds every one.
    """

    async def replace_recording(
        self,
        meeting_id: str,
        recording_id: str,
        documents: Sequence[SearchDocument],
        member_ids: Sequence[str],
    ) -> None:
        """The recording's documents become exactly these (any earlier ones are gone)."""
        ...

    async def remove_recording(self, meeting_id: str, recording_id: str) -> None:
        """Removes the recording's documents; none is not an error."""
        ...

    async def remove_meeting(self, meeting_id: str) -> None:
        """Removes every document of the meeting; none is not an error."""
        ...

    async def set_members(self, meeting_id: str, member_ids: Sequence[str]) -> None:
        """The meeting's documents are readable by these users from now on, and by nobody else."""
        ...

    async def query(self, terms: Sequence[str], user_id: str, *, skip: int, top: int) -> list[SearchHit]:
        """Up to `top` hits after the first `skip`, best first, among documents `user_id` is a member of."""
        ...

    async def aclose(self) -> None: ...
