"""The documents of the domain. Field names are snake_case here and camelCase in JSON and in the store."""

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    # Stored documents carry envelope fields (type, partition key, the store's own metadata): ignored.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )


class Role(StrEnum):
    """The ACS room roles: presenters share and manage, attendees talk, consumers only watch."""

    PRESENTER = "presenter"
    ATTENDEE = "attendee"
    CONSUMER = "consumer"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RecordingPolicy(StrEnum):
    """Whether recording the meeting needs its participants' consent (POST .../consent)."""

    NONE = "none"
    CONSENT = "consent"


# What a participant joining a meeting that asks for consent is shown (the join answer carries it).
RECORDING_NOTICE = (
    "This meeting may be recorded and transcribed, and a summary written from the transcript. "
    "Accept to be recorded; if you decline, the call is not recorded while you take part, and "
    "your channel of a per-participant recording is left out of its transcript."
)


class Participant(CamelModel):
    user_id: str
    role: Role
    # How the meeting names them (in transcripts and summaries too), set by the organizer or by the user.
    display_name: str | None = None


class Meeting(CamelModel):
    id: str
    title: str
    description: str | None = None
    organizer_id: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus = MeetingStatus.SCHEDULED
    participants: list[Participant]
    room_id: str | None = None
    recording_policy: RecordingPolicy = RecordingPolicy.NONE
    # userId -> accepted (True) or declined (False) being recorded; absent: not answered. Only the
    # current participants' answers count (a removed participant's stays until they are erased).
    consents: dict[str, bool] = {}
    # Live captions start by themselves when the first person joins the call (issue 20).
    auto_captions: bool = False
    created_at: datetime
    updated_at: datetime
    # Increases with every write; membership entries carry it so an older write never overwrites a newer.
    version: int = 1

    def display_names(self) -> dict[str, str]:
        """userId -> display name, of the participants who have one."""
        return {p.user_id: p.display_name for p in self.participants if p.display_name}

    def consent_of(self, user_id: str) -> bool | None:
        return self.consents.get(user_id) if self.role_of(user_id) is not None else None

    def recording_consent_missing(self) -> list[str]:
        """Who has yet to accept for the policy to be met; empty when it is (or there is no policy).

        The policy is met when every presenter and attendee has accepted: they are who can be heard in the
        room's call (consumers only watch and listen). Not answered counts as not accepted.
        """
        if self.recording_policy is RecordingPolicy.NONE:
            return []
        return [
            p.user_id
            for p in self.participants
            if p.role is not Role.CONSUMER and self.consents.get(p.user_id) is not True
        ]

    def role_of(self, user_id: str) -> Role | None:
        for participant in self.participants:
            if participant.user_id == user_id:
                return participant.role
        return None


class Membership(CamelModel):
    """A user's entry for one meeting, kept in the user's partition so "my meetings" is one query.

    It copies what the list shows; it is a projection of the meeting document and can be rebuilt from it.
    Frozen: stores may hand the same parsed entry to several callers.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str
    meeting_id: str
    role: Role
    organizer_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    version: int

    @classmethod
    def of(cls, meeting: Meeting, participant: Participant) -> Self:
        return cls(
            user_id=participant.user_id,
            meeting_id=meeting.id,
            role=participant.role,
            organizer_id=meeting.organizer_id,
            title=meeting.title,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            status=meeting.status,
            version=meeting.version,
        )


class AcsIdentity(CamelModel):
    """The one ACS identity of an app user, created at most once."""

    user_id: str
    acs_user_id: str
    created_at: datetime
