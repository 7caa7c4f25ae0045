"""A user's erasure (`DELETE /api/me`): a job that runs on a queue, step by step, resumable.

Its document lives in the users container under a partition of its own named by a hash of the user id
(`erasure-<sha256>`), never by the id itself: when the job is done, nothing the service stores holds the
user's id, yet the caller can still ask how their erasure went (GET /api/me/erasure hashes their id).
While it runs, the document holds the user id and the plan; both are wiped when it completes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.domain.models import CamelModel

# What replaces the user's words in transcripts and summaries, and their name.
REMOVED_WORDS = "[removed]"
FORMER_PARTICIPANT = "a former participant"
# Where a document must name someone (a cancelled meeting's organizer, a recording's creator): no user id
# can be this (USER_ID_PATTERN has no `~`), so nobody signs in as it.
ERASED_USER_ID = "~erased"


def erasure_key(user_id: str) -> str:
    """The erasure document's partition: a hash, so the finished document does not name the user."""
    return "erasure-" + hashlib.sha256(user_id.encode()).hexdigest()


class ErasureStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"


class ErasureCounts(CamelModel):
    """What the job did, so far: the final status says it."""

    memberships_removed: int = 0
    meetings_left: int = 0
    meetings_handed_over: int = 0
    meetings_cancelled: int = 0
    recordings_scrubbed: int = 0
    segments_removed: int = 0
    acs_identity_deleted: bool = False
    search_index_updated: bool = False
    documents_deleted: int = 0


class Erasure(CamelModel):
    id: str  # the job's id (a uuid), as the answer gives it
    key: str  # erasure_key(user id)
    status: ErasureStatus = ErasureStatus.QUEUED
    # Cleared when the job completes: from then on the document does not name the user.
    user_id: str | None
    new_organizer: str | None = None
    # The plan: the meetings to work through, fixed at the first run, and how many are done (the cursor).
    meeting_ids: list[str] | None = None
    names: list[str] = Field(default_factory=list)  # their display names, found by the plan
    cursor: int = Field(default=0, ge=0)
    # Recordings of the meeting at the cursor already scrubbed (a step each).
    recordings_done: list[str] = Field(default_factory=list)
    identity_done: bool = False
    counts: ErasureCounts = Field(default_factory=ErasureCounts)
    attempts: int = 0
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
