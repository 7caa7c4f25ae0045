"""The HTTP API's request and response bodies: handlers validate with these, OpenAPI is made from them."""

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from shared.domain.erasure import Erasure
from shared.domain.ids import USER_ID_PATTERN
from shared.domain.models import Meeting, MeetingStatus, Membership, Participant, RecordingPolicy, Role
from shared.domain.recordings import Recording, RecordingStage, RecordingStatus
from shared.domain.rules import MAX_PARTICIPANTS, check_schedule
from shared.ports import RECORDING_FORMATS, UploadTarget
from shared.summaries import Notes, Summary
from shared.timefmt import iso, utc_instant
from shared.transcripts import Transcript


class ApiModel(BaseModel):
    # Unknown fields are refused: a misspelt field must not be silently ignored. defer_build: a model's
    # validator is built at its first use, not at import, so a cold start pays only for what it uses.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]


def _iso_text(value: object) -> object:
    """An instant is given as RFC 3339 text: pydantic would also take a number (`0`, or `0.5` in a query)
    as Unix seconds, which the document does not offer and no client means."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2030-01-31T09:00:00Z")


def _json_number(value: object) -> object:
    """A JSON Schema integer: a number without a fraction (2 and 2.0), never `true` or `"2"`, which lax
    pydantic would take for 1 and 2."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(utc_instant)]
# Stripped, then at least one character: so something other than whitespace, which the pattern says
# (Unicode's White_Space, spelled out: what the strip removes, and what every regex dialect reads alike).
NOT_ONLY_SPACE = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_ONLY_SPACE)
]
Description = Annotated[str, StringConstraints(max_length=2000)]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NOT_ONLY_SPACE)
]
DISPLAY_NAME = "How the meeting names the participant (transcripts, summaries); 1-100 characters."


class ParticipantIn(ApiModel):
    user_id: UserId
    role: Role = Role.ATTENDEE
    display_name: DisplayName | None = Field(
        default=None, description=f"{DISPLAY_NAME} Omitted: unchanged (none for a new participant)."
    )


def _distinct_users(participants: list[ParticipantIn] | None) -> list[ParticipantIn] | None:
    if participants is not None:
        seen = [p.user_id for p in participants]
        if len(seen) != len(set(seen)):
            raise ValueError("each user may appear once")
    return participants


Participants = Annotated[
    list[ParticipantIn], Field(max_length=MAX_PARTICIPANTS), AfterValidator(_distinct_users)
]


AUTO_CAPTIONS = "Live captions start by themselves when someone joins the call (as POST .../captions/start)."


class CreateMeeting(ApiModel):
    title: Title
    description: Description | None = None
    starts_at: Instant
    ends_at: Instant
    participants: Participants = Field(default_factory=list)
    recording_policy: RecordingPolicy = Field(
        default=RecordingPolicy.NONE,
        description="`consent`: recording the call needs every presenter's and attendee's consent "
        "(POST .../consent); joining shows them the notice.",
    )
    auto_captions: StrictBool = Field(default=False, description=AUTO_CAPTIONS)

    @model_validator(mode="after")
    def _schedule(self) -> Self:
        check_schedule(self.starts_at, self.ends_at)
        return self

    def participants_as_domain(self) -> list[Participant]:
        return [_participant(p) for p in self.participants]


def _participant(given: ParticipantIn) -> Participant:
    return Participant(user_id=given.user_id, role=given.role, display_name=given.display_name)


def _no_default(schema: dict[str, Any]) -> None:
    """An optional field that may not be null: its default (None, meaning omitted) is no valid value."""
    schema.pop("default", None)


class UpdateMeeting(ApiModel):
    """Every field optional; only those present change. `participants` replaces the whole list."""

    # Omitted is None; null itself is refused (`_no_nulls`), so the document does not offer it.
    title: Title | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    description: Description | None = None
    starts_at: Instant | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    ends_at: Instant | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    participants: Participants | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    recording_policy: RecordingPolicy | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=_no_default, description="`none` or `consent` (see create)."
    )
    auto_captions: StrictBool | SkipJsonSchema[None] = Field(
        default=None, description=AUTO_CAPTIONS, json_schema_extra=_no_default
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # `null` would be ambiguous (clear it, or leave it?): only description may be cleared.
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None and key != "description":
                    raise ValueError(f"{key} may not be null")
        return data

    def participants_as_domain(self) -> list[Participant]:
        """The new list; a participant given without `displayName` keeps the one they have (services)."""
        return [_participant(p) for p in self.participants or ()]

    def display_names_given(self) -> set[str]:
        """The users whose entry sets `displayName` (to a name, or to null: cleared)."""
        return {p.user_id for p in self.participants or () if "display_name" in p.model_fields_set}


class PutParticipant(ApiModel):
    role: Role
    display_name: DisplayName | None = Field(
        default=None, description=f"{DISPLAY_NAME} Omitted: unchanged; null: cleared."
    )


class PatchParticipant(ApiModel):
    """What a participant may change of their own entry (and the organizer of anyone's)."""

    display_name: DisplayName | None = Field(description=f"{DISPLAY_NAME} Null: cleared.")


class ParticipantOut(ApiModel):
    user_id: str
    role: Role
    display_name: str | None = Field(description="Null where none is set.")


class MeetingOut(ApiModel):
    id: str
    title: str
    description: str | None
    organizer_id: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    participants: list[ParticipantOut]
    room_id: str | None
    recording_policy: RecordingPolicy
    auto_captions: bool = Field(description=AUTO_CAPTIONS)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, meeting: Meeting) -> Self:
        # Each participant's consent is theirs: the join answer and POST .../consent tell them their own.
        return cls.model_validate(meeting.model_dump(exclude={"version", "consents"}))


class MeetingSummaryOut(ApiModel):
    """A meeting in a list: what the caller's membership entry holds (no participant list)."""

    id: str
    title: str
    organizer_id: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    role: Role = Field(description="The caller's role in this meeting.")


class MeetingList(ApiModel):
    items: list[MeetingSummaryOut]
    continuation_token: str | None = Field(
        description="Pass back as `continuationToken` for the next page; null on the last page."
    )

    @staticmethod
    def render(entries: list[Membership], continuation_token: str | None) -> bytes:
        """The page as JSON, without validating again what the store has just validated.

        Building and serializing the pydantic models per item costs more than the query does, so each
        item is rendered once per version of its meeting and remembered (clients poll their list: the
        same entries come back); a changed meeting has a new version, so nothing stale is served.
        tests/unit/test_schemas.py proves the page validates against this model, field for field, so
        it cannot drift from the OpenAPI document.
        """
        items = ",".join(_rendered(e) for e in entries)
        token = json.dumps(continuation_token)
        return f'{{"items":[{items}],"continuationToken":{token}}}'.encode()


# Rendered list items by (meeting, version, role): an entry is the projection of one version of its
# meeting for one role, so those three determine every field it shows. Bounded: cleared when full.
_ITEMS: dict[tuple[str, int, str], str] = {}
_MAX_ITEMS = 16384


def _rendered(entry: Membership) -> str:
    key = (entry.meeting_id, entry.version, entry.role.value)
    item = _ITEMS.get(key)
    if item is None:
        if len(_ITEMS) >= _MAX_ITEMS:
            _ITEMS.clear()
        item = _ITEMS[key] = json.dumps(
            {
                "id": entry.meeting_id,
                "title": entry.title,
                "organizerId": entry.organizer_id,
                "startsAt": iso(entry.starts_at),
                "endsAt": iso(entry.ends_at),
                "status": entry.status.value,
                "role": entry.role.value,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
    return item


class ListMeetingsQuery(ApiModel):
    # Unknown query parameters (cache busters and the like) are ignored, unlike unknown body fields.
    model_config = ConfigDict(extra="ignore")

    from_: Instant | None = Field(default=None, alias="from", description="Meetings ending after this.")
    to: Instant | None = Field(default=None, description="Meetings starting before this.")
    limit: int = Field(default=20, ge=1, le=100)
    continuation_token: str | None = Field(default=None, max_length=4096)


class ConsentOut(ApiModel):
    required: bool = Field(description="The meeting asks for consent before its call is recorded.")
    notice: str | None = Field(description="What to show before joining; null when none is required.")
    accepted: bool | None = Field(description="The caller's answer; null: not given yet.")


class ConsentIn(ApiModel):
    # Strict: "yes" or 1 is not an answer to a consent question.
    accepted: StrictBool = Field(description="True: the caller agrees to be recorded; false: declines.")


class JoinOut(ApiModel):
    acs_user_id: str = Field(description="The caller's ACS identity (communicationUserId).")
    token: str = Field(description="An ACS access token with scope voip.join.")
    expires_on: datetime
    room_id: str
    role: Role
    endpoint: str = Field(description="The ACS endpoint the calling SDK connects to.")
    consent: ConsentOut = Field(description="The recording notice to show before joining, and the answer.")


class NegotiateOut(ApiModel):
    url: str = Field(
        description="The Web PubSub client access URL (with its token), for @azure/web-pubsub-client. "
        "The connection is in the groups of the caller's meetings and receive-only."
    )
    expires_on: datetime = Field(description="After this the URL no longer connects: negotiate again.")


class SearchQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        min_length=1,
        max_length=200,
        description="Words to find (letters and digits, any script; the first 16 are used): a passage "
        "matches when it holds every one. No query syntax: quotes, operators and the like are ignored; a `q` "
        "without a word finds nothing.",
    )
    limit: int = Field(default=20, ge=1, le=50)
    continuation_token: str | None = Field(default=None, max_length=4096)


class SearchHitOut(ApiModel):
    meeting_id: str
    meeting_title: str = Field(description="The meeting's title now.")
    recording_id: str
    kind: Literal["transcript", "summary"] = Field(
        description="A transcript segment, or an item of the summary (overview, key point, decision, action "
        "item, chapter, open question)."
    )
    start: float | None = Field(description="Seconds from the recording's start; null for the overview.")
    end: float | None
    speaker: str | None = Field(
        description="Who said it, by name as the transcript shows it; null if unknown."
    )
    snippet: str = Field(description="Plain text around the matched words (never markup).")
    highlights: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="Where the matched words are in `snippet`: [start, end) pairs of offsets in UTF-16 code "
        "units (as JavaScript's `slice` takes them), ascending. Render them as text, e.g. in <mark> elements."
    )


class SearchMeetingOut(ApiModel):
    meeting_id: str
    title: str = Field(description="The meeting's title now.")
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus = Field(description="Cancelled meetings are listed too.")
    highlights: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="Where the matched words are in `title`: [start, end) pairs of offsets in UTF-16 code "
        "units (as JavaScript's `slice` takes them), ascending. Render them as text, e.g. in <mark> elements."
    )


class SearchOut(ApiModel):
    items: list[SearchHitOut] = Field(description="Best first; only from meetings the caller is part of now.")
    continuation_token: str | None = Field(
        description="Pass back as `continuationToken` with the same `q` for the next page; null on the last. "
        "A page may hold fewer than `limit` items and still have a next one."
    )
    meetings: list[SearchMeetingOut] = Field(
        description="On the first page only (empty on later ones): at most 10 of the caller's meetings "
        "whose title holds every word of `q` as the start of one of its words (case and accents aside), most "
        "recent `startsAt` first."
    )


# --- the caller's own data (privacy) --------------------------------------------------------------


class AcsIdentityOut(ApiModel):
    acs_user_id: str = Field(description="The ACS identity the caller joins calls as.")
    created_at: datetime


class MembershipOut(ApiModel):
    """One of the caller's membership entries, as the service keeps it."""

    meeting_id: str
    role: Role
    organizer_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus

    @classmethod
    def of(cls, membership: Membership) -> Self:
        return cls.model_validate(membership.model_dump(exclude={"user_id", "version"}))


class ExportedSegment(ApiModel):
    meeting_id: str
    recording_id: str
    start: float = Field(description="Seconds from the start of the recording.")
    end: float
    text: str


class ExportedActionItem(ApiModel):
    meeting_id: str
    recording_id: str
    owner: str | None
    task: str
    due: str | None


class ExportOut(ApiModel):
    """Everything the service holds about the caller."""

    user_id: str
    exported_at: datetime
    acs_identity: AcsIdentityOut | None = Field(description="Null until the caller first joined a call.")
    memberships: list[MembershipOut] = Field(description="Every meeting the caller is part of.")
    meetings_organized: list[MeetingOut]
    transcript_segments: list[ExportedSegment] = Field(
        description="What the caller said, in the transcripts that tie a speaker to them (an unmixed "
        "recording's channel, or a speaker the organizer named as them)."
    )
    action_items: list[ExportedActionItem] = Field(
        description="Action items of the current summaries owned by one of the caller's names."
    )


class ErasureQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    new_organizer: UserId | None = Field(
        default=None,
        alias="newOrganizer",
        description="Who takes over the meetings the caller organizes, where they are a participant; "
        "elsewhere (or without it) those meetings are cancelled.",
    )


class ErasureCountsOut(ApiModel):
    memberships_removed: int
    meetings_left: int
    meetings_handed_over: int
    meetings_cancelled: int
    recordings_scrubbed: int = Field(description="Recordings whose notes or document named the caller.")
    segments_removed: int = Field(description='Transcript segments of the caller now reading "[removed]".')
    acs_identity_deleted: bool
    search_index_updated: bool = Field(description="The scrubbed recordings indexed again for search.")
    documents_deleted: int = Field(description="The caller's own documents deleted at the end.")


class ErasureOut(ApiModel):
    """The caller's erasure: a job; `counts` say what it did so far, and all of it once `completed`."""

    id: str
    status: Literal["queued", "running", "completed"]
    meetings_total: int | None = Field(description="Meetings to work through; null until planned.")
    meetings_done: int
    counts: ErasureCountsOut
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, erasure: Erasure) -> Self:
        total = None if erasure.meeting_ids is None else len(erasure.meeting_ids)
        if erasure.completed_at is not None:
            total = erasure.cursor
        return cls(
            id=erasure.id,
            status=erasure.status.value,
            meetings_total=total,
            meetings_done=erasure.cursor,
            counts=ErasureCountsOut.model_validate(erasure.counts.model_dump()),
            created_at=erasure.created_at,
            updated_at=erasure.updated_at,
            completed_at=erasure.completed_at,
        )


class Health(ApiModel):
    status: str
    version: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    invocation_id: str | None = Field(default=None, alias="invocationId")
    errors: list[dict[str, Any]] | None = None
    # A stable reason where a client acts on it: `source_deleted` (410), `consent_missing` (409).
    code: str | None = None


# --- recordings ---------------------------------------------------------------------------------------

MAX_RECORDING_BYTES = 4 * 1024**3
# A channel mapping cannot name more channels than a file can hold; ACS itself delivers up to 5.
MAX_CHANNELS = 32

RecordingContentType = Literal[
    "audio/wav",
    "audio/x-wav",
    "audio/mpeg",
    "audio/mp4",
    "video/mp4",
    "audio/webm",
    "video/webm",
    "audio/ogg",
    "audio/flac",
]
# ISO 639-1, optionally with a region (`en`, `pt-BR`): what the speech-to-text providers take.
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")]
FileName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NOT_ONLY_SPACE)
]


# --- the web client's configuration (GET /client-config) -------------------------------------------


class EntraClientConfig(ApiModel):
    client_id: str = Field(description="The web client's own Entra app registration (a SPA).")
    authority: str = Field(description="`{AUTH_AUTHORITY}/{AUTH_TENANT_ID}`, for MSAL.")
    scopes: list[str] = Field(description="What the web client asks a token for: the API's scope(s).")


class ClientConfig(ApiModel):
    """What a browser client needs to know before it signs in: no secret, the same for every caller."""

    auth_mode: Literal["dev", "entra", "easyauth"]
    entra: EntraClientConfig | None = Field(
        description="How to sign in with Entra ID; null in dev mode, or when AUTH_CLIENT_ID and "
        "AUTH_API_SCOPE are not both set."
    )
    calling: Literal["acs", "local"] = Field(description="Real ACS calls, or the local stand-in.")
    acs_endpoint: str | None = Field(description="The ACS resource's origin (no key); null when local.")
    max_upload_bytes: int
    upload_content_types: list[RecordingContentType] = Field(
        description="The content types a recording may be."
    )
    version: str


class ChannelIn(ApiModel):
    channel: JsonInt = Field(ge=0, lt=MAX_CHANNELS, description="0-based channel of the unmixed recording.")
    user_id: UserId


def _distinct_channels(channels: list[ChannelIn]) -> list[ChannelIn]:
    seen = [c.channel for c in channels]
    if len(seen) != len(set(seen)):
        raise ValueError("each channel may appear once")
    return channels


class CreateRecording(ApiModel):
    file_name: FileName
    content_type: RecordingContentType
    size_bytes: JsonInt = Field(gt=0, le=MAX_RECORDING_BYTES)
    channels: Annotated[
        list[ChannelIn], Field(max_length=MAX_CHANNELS), AfterValidator(_distinct_channels)
    ] = Field(
        default_factory=list,
        description="For an unmixed multi-channel recording: who speaks on each channel.",
    )
    language: Language | None = Field(default=None, description="Spoken language; omitted: detected.")


class UploadOut(ApiModel):
    url: str = Field(description="Send the recording's bytes here, before `expiresOn`.")
    method: str
    headers: dict[str, str] = Field(description="Headers the upload request must carry.")
    expires_on: datetime


class RecordingErrorOut(ApiModel):
    code: str
    detail: str


class ChannelOut(ApiModel):
    channel: int
    user_id: str


class CallRecordingOut(ApiModel):
    call_kind: str
    call_id: str
    content: str
    channels: str
    format: str
    state: str


class LiveCaptionsOut(ApiModel):
    locale: str
    state: Literal["starting", "active", "stopped", "finalized"] = Field(
        description="`stopped`: captions off or the call ended; `finalized`: the transcript is written."
    )
    started_at: datetime
    stopped_at: datetime | None


class StartCaptions(ApiModel):
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$",
        description="The locale the recognizer listens for, e.g. `en-US` (default: the meeting's language, "
        "else en-US).",
    )


class UsageOut(ApiModel):
    stage: RecordingStage
    provider: str
    requests: int
    audio_seconds: float = Field(description="Speech sent to the transcriber (silence is not sent).")
    input_tokens: int
    output_tokens: int
    cited_items: int = Field(description="Summary stage: the latest summary's items (with evidence or not).")
    unverified_items: int = Field(
        description="Summary stage: the latest summary's items whose evidence did not check out."
    )


class RecordingOut(ApiModel):
    id: str
    meeting_id: str
    created_by: str
    file_name: str
    content_type: str
    size_bytes: int
    channels: list[ChannelOut]
    language: str | None
    status: RecordingStatus
    stage: RecordingStage = Field(description="What `progress` measures.")
    progress: float = Field(description="0 to 1, of the current stage.")
    error: RecordingErrorOut | None
    duration_seconds: float | None
    artifacts: list[str] = Field(description="Outputs ready to read, e.g. `transcript.json`.")
    usage: list[UsageOut] = Field(description="What each provider was asked, per stage: the cost.")
    call: CallRecordingOut | None = Field(
        description="For a recording of the meeting's call: what ACS records."
    )
    transcript_written_at: datetime | None = Field(
        description="When the transcript was first written: the source's retention counts from here."
    )
    source_deleted_at: datetime | None = Field(
        description="When retention deleted the recording's audio (the notes stay); null while it is kept. "
        "From then on GET .../media answers 410 with the code `source_deleted`."
    )
    live: LiveCaptionsOut | None = Field(
        description="For the live captions of the meeting's call: their state (the transcript is made of "
        "them)."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, recording: Recording) -> Self:
        return cls.model_validate(
            recording.model_dump(
                exclude={
                    "version": True,
                    "source_blob": True,
                    "source_parts": True,
                    "source_etag": True,
                    "upload_expires_at": True,
                    "attempts": True,
                    "claim": True,
                    "summary_versions": True,
                    "call": {"acs_recording_id", "chunks"},
                    "live": {"call_kind", "call_id", "call_connection_id"},
                }
            )
        )


class CreatedRecording(RecordingOut):
    upload: UploadOut

    @classmethod
    def with_upload(cls, recording: Recording, upload: UploadTarget) -> Self:
        out = UploadOut(
            url=upload.url, method=upload.method, headers=upload.headers, expires_on=upload.expires_on
        )
        return cls.model_validate({**RecordingOut.of(recording).model_dump(), "upload": out})


class MediaOut(ApiModel):
    url: str = Field(
        description="GET the recording's file here (Range requests work) until `expiresOn`; read-only."
    )
    expires_on: datetime


class RecordingList(ApiModel):
    items: list[RecordingOut]


class OperatorRecordingsQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["failed", "stuck"] = Field(
        default="failed",
        description="`failed`: recordings that failed, with their error; `stuck`: queued, transcribing or "
        "summarizing recordings unchanged for 30 minutes (no job is working on them).",
    )
    limit: int = Field(default=50, ge=1, le=200)
    continuation_token: str | None = Field(default=None, max_length=4096)


class OperatorRecordingOut(RecordingOut):
    attempts: int = Field(description="How many times a job has claimed the recording.")

    @classmethod
    def of(cls, recording: Recording) -> Self:
        return cls.model_validate({**RecordingOut.of(recording).model_dump(), "attempts": recording.attempts})


class OperatorRecordingList(ApiModel):
    items: list[OperatorRecordingOut] = Field(description="Oldest update first, across every meeting.")
    continuation_token: str | None = Field(
        description="Pass back as `continuationToken` for the next page; null on the last page."
    )


class TranscriptOut(Transcript):
    """`transcript.json` as served: the very model the transcription job writes it with (no copy to drift).

    Times are seconds from the start of the recording; `speaker` is a `speakers[].id`, or null where
    unknown. A speaker's `displayName` is the participant's as known when the transcript was written.
    """


class SummaryOut(Summary):
    """`summary.json` as served: the very model the summary job writes it with (no copy to drift)."""

    regenerating: bool = Field(
        default=False,
        description="True while a new summary is being made: this is the previous one, served until the new "
        "one is written (also the `X-Summary-Regenerating` header, in every format).",
    )


class SummaryEdit(Notes):
    """The summary as the organizer corrected it: the same schema as the summary read (fields the server
    owns, such as `model`, `version` or `approvedBy`, are ignored). Each item's evidence is checked again:
    `segments` and `quote` count; times and speaker are filled in from the transcript."""

    model_config = ConfigDict(extra="ignore")


class RegenerateQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    force: bool = Field(
        default=False,
        description="Regenerate even a summary a person edited or approved (versions are kept).",
    )


class SummaryVersionOut(ApiModel):
    version: int
    kind: Literal["generated", "edited", "approved", "speakers"] = Field(
        description="Made by the summarizer, edited, approved, or re-rendered after naming a speaker."
    )
    by: str | None = Field(description="Who made it; null for the summarizer.")
    at: datetime
    approved: bool


class SummaryVersionList(ApiModel):
    items: list[SummaryVersionOut] = Field(description="Oldest first; the last is the current version.")


def _one_of_user_or_name(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [{"required": ["userId"]}, {"required": ["displayName"]}]


class NameSpeaker(ApiModel):
    """Who a diarized speaker is: a participant (`userId`, shown by their display name) or a name; one."""

    model_config = ConfigDict(json_schema_extra=_one_of_user_or_name)

    user_id: UserId | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)
    display_name: DisplayName | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_no_default)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(value is None for value in data.values()):
            raise ValueError("userId and displayName may not be null")
        return data

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.user_id is None) == (self.display_name is None):
            raise ValueError("give either userId or displayName")
        return self


MAX_QUESTION_CHARS = 1000
Question = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_ONLY_SPACE
    ),
]


class AskIn(ApiModel):
    question: Question = Field(
        description=f"What to ask about the meeting; 1-{MAX_QUESTION_CHARS} characters."
    )


class AskSource(ApiModel):
    recording_id: str
    start: float = Field(description="Seconds from the start of the recording.")
    end: float
    speaker: str | None = Field(description="Who said it, by name; null where unknown.")
    quote: str = Field(description="Words of the transcript, verbatim.")


class AskOut(ApiModel):
    answer: str = Field(
        description="Drawn only from the meeting's transcripts and notes; \"The recordings of this meeting "
        "don't say.\" (with no sources) when they do not answer the question."
    )
    sources: list[AskSource] = Field(description="The transcript spans the answer rests on.")


class TranscriptQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    format: Literal["json", "vtt", "srt", "txt"] = "json"


class SummaryQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    format: Literal["json", "md"] = "json"


# --- recording the meeting's call -----------------------------------------------------------------------


def _acs_combinations(schema: dict[str, Any]) -> None:
    """The document says which content, channels and format go together (RECORDING_FORMATS), as the
    validator below checks: one `anyOf` branch per combination, each field omitted taking its default."""
    branches: list[dict[str, Any]] = []
    for (content, channels), formats in RECORDING_FORMATS.items():
        # A field left out takes its default, so a branch with another value requires the field.
        required = [
            name for name, value in (("content", content), ("channels", channels)) if value != _DEFAULTS[name]
        ]
        properties = {
            "content": {"const": content},
            "channels": {"const": channels},
            "format": {"anyOf": [{"enum": list(formats)}, {"type": "null"}]},
        }
        branches.append({"properties": properties, "required": required})
    schema["anyOf"] = branches


_DEFAULTS = {"content": "audio", "channels": "mixed"}


class StartCallRecording(ApiModel):
    """What to record of the meeting's own call (its ACS room's call).

    Any other call is refused on purpose: the app cannot tell who owns a call known only by its server
    call id, so accepting one would let any organizer record any call on the ACS resource.
    """

    model_config = ConfigDict(json_schema_extra=_acs_combinations)

    content: Literal["audio", "audio-video"] = "audio"
    channels: Literal["mixed", "unmixed"] = Field(
        default="mixed", description="`unmixed`: one channel per participant (audio only, as wav)."
    )
    format: Literal["mp3", "wav", "mp4"] | None = Field(
        default=None, description="What ACS allows for the content and channels; default: the first of them."
    )
    language: Language | None = None

    @model_validator(mode="after")
    def _allowed_by_acs(self) -> Self:

        allowed = RECORDING_FORMATS.get((self.content, self.channels))
        if allowed is None:
            raise ValueError(f"ACS does not record {self.content} as {self.channels} channels")
        if self.format is None:
            self.format = allowed[0]  # type: ignore[assignment]
        elif self.format not in allowed:
            raise ValueError(
                f"ACS records {self.content} with {self.channels} channels as {' or '.join(allowed)}, "
                f"not {self.format}"
            )
        return self


class CallRecordingQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")

    recording_id: str | None = Field(
        default=None, description="Which recording, when the meeting has more than one call being recorded."
    )
