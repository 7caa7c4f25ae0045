"""The embedded store: SQLite laid out like the two Cosmos containers (partition key, id, JSON body, ETag).

Reads run inline, writes on a dedicated thread (see SqliteDatabase for why).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from shared.adapters import keyset
from shared.adapters.sqlite_database import SqliteDatabase
from shared.domain.erasure import Erasure
from shared.domain.models import AcsIdentity, Meeting, Membership
from shared.domain.recording_paths import call_recording_key
from shared.domain.recordings import Recording, RecordingStatus
from shared.ports import AlreadyExists, EtagMismatch, Page, Stored
from shared.timefmt import iso, stored_instant

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meetings (
    pk TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, etag TEXT NOT NULL,
    PRIMARY KEY (pk, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    pk TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, etag TEXT NOT NULL,
    PRIMARY KEY (pk, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recordings_by_status
    ON meetings (json_extract(body, '$.status'), json_extract(body, '$.updatedAt')) WHERE type = 'recording';
CREATE INDEX IF NOT EXISTS users_by_start
    ON users (pk, type, json_extract(body, '$.startsAt'), json_extract(body, '$.meetingId'));
"""

IDENTITY_ID = "acs-identity"
ERASURE_ID = "erasure"
_MEMBERSHIPS = TypeAdapter(list[Membership])
_MAX_PARSED = 16384


def _membership_id(meeting_id: str) -> str:
    return f"membership-{meeting_id}"


def _etag() -> str:
    return f'"{uuid.uuid4()}"'


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)
        # What each call costs, as Cosmos would count it: the benchmark prints these per route.
        self.operations: dict[str, int] = {"reads": 0, "queries": 0, "writes": 0}
        self._parsed: dict[str, Membership] = {}

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        self.operations["writes"] += 1
        return await self._db.write(work)

    def _read(self, kind: str, work: Callable[[sqlite3.Connection], T]) -> T:
        self.operations[kind] += 1
        return self._db.read(work)

    async def aclose(self) -> None:
        await self._db.close()

    # --- meetings container ------------------------------------------------------------------------

    @staticmethod
    def _meeting_doc(meeting: Meeting) -> str:
        body = meeting.model_dump(mode="json", by_alias=True)
        body.update({"meetingId": meeting.id, "type": "meeting"})
        return json.dumps(body)

    async def create_meeting(self, meeting: Meeting) -> str:
        etag = _etag()
        body = self._meeting_doc(meeting)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO meetings (pk, id, type, body, etag) VALUES (?, ?, 'meeting', ?, ?)",
                    (meeting.id, meeting.id, body, etag),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(meeting.id) from exc

        await self._write(work)
        return etag

    async def get_meeting(self, meeting_id: str) -> Stored[Meeting] | None:
        row = self._read(
            "reads",
            lambda conn: conn.execute(
                "SELECT body, etag FROM meetings WHERE pk = ? AND id = ?", (meeting_id, meeting_id)
            ).fetchone(),
        )
        if row is None:
            return None
        return Stored(Meeting.model_validate_json(row[0]), row[1])

    async def replace_meeting(self, meeting: Meeting, etag: str) -> str:
        new_etag = _etag()
        body = self._meeting_doc(meeting)

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE meetings SET body = ?, etag = ? WHERE pk = ? AND id = ? AND etag = ?",
                (body, new_etag, meeting.id, meeting.id, etag),
            ).rowcount

        if await self._write(work) != 1:
            raise EtagMismatch(meeting.id)
        return new_etag

    # --- recordings, in their meeting's partition ----------------------------------------------------
    # id = the recording's own uuid, never the meetingId (the meeting document's id): Recording checks.

    @staticmethod
    def _recording_doc(recording: Recording) -> str:
        body = recording.model_dump(mode="json", by_alias=True)
        body.update({"type": "recording"})
        return json.dumps(body)

    async def create_recording(self, recording: Recording) -> str:
        etag = _etag()
        body = self._recording_doc(recording)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO meetings (pk, id, type, body, etag) VALUES (?, ?, 'recording', ?, ?)",
                    (recording.meeting_id, recording.id, body, etag),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(recording.id) from exc

        await self._write(work)
        return etag

    async def get_recording(self, meeting_id: str, recording_id: str) -> Stored[Recording] | None:
        row = self._read(
            "reads",
            lambda conn: conn.execute(
                "SELECT body, etag FROM meetings WHERE pk = ? AND id = ? AND type = 'recording'",
                (meeting_id, recording_id),
            ).fetchone(),
        )
        if row is None:
            return None
        return Stored(Recording.model_validate_json(row[0]), row[1])

    async def replace_recording(self, recording: Recording, etag: str) -> str:
        new_etag = _etag()
        body = self._recording_doc(recording)

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE meetings SET body = ?, etag = ? "
                "WHERE pk = ? AND id = ? AND type = 'recording' AND etag = ?",
                (body, new_etag, recording.meeting_id, recording.id, etag),
            ).rowcount

        if await self._write(work) != 1:
            raise EtagMismatch(recording.id)
        return new_etag

    async def put_call_recording_ref(self, acs_recording_id: str, meeting_id: str, recording_id: str) -> None:
        key = call_recording_key(acs_recording_id)
        body = json.dumps({"meetingId": meeting_id, "recordingId": recording_id})
        await self._write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO meetings (pk, id, type, body, etag) "
                "VALUES (?, ?, 'call-recording', ?, ?)",
                (key, key, body, _etag()),
            )
        )

    async def get_call_recording_ref(self, acs_recording_id: str) -> tuple[str, str] | None:
        key = call_recording_key(acs_recording_id)
        row = self._read(
            "reads",
            lambda conn: conn.execute(
                "SELECT body FROM meetings WHERE pk = ? AND id = ? AND type = 'call-recording'", (key, key)
            ).fetchone(),
        )
        if row is None:
            return None
        body = json.loads(row[0])
        return str(body["meetingId"]), str(body["recordingId"])

    async def list_recordings(self, meeting_id: str) -> list[Recording]:
        rows = self._read(
            "queries",
            lambda conn: conn.execute(
                "SELECT body FROM meetings WHERE pk = ? AND type = 'recording'", (meeting_id,)
            ).fetchall(),
        )
        # Sorted as instants, not as text: a meeting has a handful of recordings.
        return sorted(
            (Recording.model_validate_json(row[0]) for row in rows), key=lambda r: (r.created_at, r.id)
        )

    async def list_recordings_by_status(
        self, status: RecordingStatus, *, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[Recording]:
        # Past `after` as the documents sort: by their stored updatedAt text, then id.
        since, last_id = (stored_instant(after[0]), after[1]) if after is not None else ("", "")
        rows = self._read(
            "queries",
            lambda conn: conn.execute(
                "SELECT body FROM meetings WHERE type = 'recording' AND json_extract(body, '$.status') = ?"
                " AND (json_extract(body, '$.updatedAt'), id) > (?, ?)"
                " ORDER BY json_extract(body, '$.updatedAt'), id LIMIT ?",
                (status.value, since, last_id, limit),
            ).fetchall(),
        )
        return [Recording.model_validate_json(row[0]) for row in rows]

    async def list_recordings_transcribed_before(
        self, before: datetime, *, source_kept: bool, limit: int
    ) -> list[Recording]:
        # Stored instants are ISO text in UTC: compared as text, they compare in time (to the second).
        rows = self._read(
            "queries",
            lambda conn: conn.execute(
                "SELECT body FROM meetings WHERE type = 'recording'"
                " AND json_extract(body, '$.transcriptWrittenAt') < ?"
                " AND (? = 0 OR json_extract(body, '$.sourceDeletedAt') IS NULL)"
                " ORDER BY json_extract(body, '$.transcriptWrittenAt') LIMIT ?",
                (iso(before), int(source_kept), limit),
            ).fetchall(),
        )
        return [Recording.model_validate_json(row[0]) for row in rows]

    async def delete_recording(self, meeting_id: str, recording_id: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                "DELETE FROM meetings WHERE pk = ? AND id = ? AND type = 'recording'",
                (meeting_id, recording_id),
            )
        )

    # --- users container ---------------------------------------------------------------------------

    async def put_membership(self, membership: Membership) -> None:
        body = membership.model_dump(mode="json", by_alias=True)
        await self._put_versioned(membership.user_id, membership.meeting_id, {**body, "type": "membership"})

    async def remove_membership(self, user_id: str, meeting_id: str, version: int) -> None:
        # A tombstone, not a delete: it keeps the version, so an older put arriving later cannot bring
        # the entry back (the version guard needs a row to compare with).
        tombstone = {"type": "membership", "userId": user_id, "meetingId": meeting_id, "version": version}
        await self._put_versioned(user_id, meeting_id, {**tombstone, "removed": True})

    async def _put_versioned(self, user_id: str, meeting_id: str, body: dict[str, Any]) -> None:
        # One statement, so a concurrent older write can never land after a newer one.
        await self._write(
            lambda conn: conn.execute(
                "INSERT INTO users (pk, id, type, body, etag) VALUES (?, ?, 'membership', ?, ?) "
                "ON CONFLICT (pk, id) DO UPDATE SET body = excluded.body, etag = excluded.etag "
                "WHERE json_extract(users.body, '$.version') <= json_extract(excluded.body, '$.version')",
                (user_id, _membership_id(meeting_id), json.dumps(body), _etag()),
            ),
        )

    async def list_memberships(
        self,
        user_id: str,
        *,
        ends_after: datetime | None,
        starts_before: datetime | None,
        limit: int,
        continuation: str | None,
    ) -> Page[Membership]:
        clauses = ["pk = ?", "type = 'membership'", "json_extract(body, '$.removed') IS NULL"]
        args: list[Any] = [user_id]
        if ends_after is not None:
            clauses.append("json_extract(body, '$.endsAt') > ?")
            args.append(iso(ends_after))
        if starts_before is not None:
            clauses.append("json_extract(body, '$.startsAt') < ?")
            args.append(iso(starts_before))
        if continuation is not None:
            last_start, last_id = keyset.position(continuation)
            clauses.append("(json_extract(body, '$.startsAt'), json_extract(body, '$.meetingId')) > (?, ?)")
            args.extend([iso(last_start), last_id])
        sql = (
            f"SELECT body FROM users WHERE {' AND '.join(clauses)} "  # noqa: S608 - clauses are constants
            "ORDER BY json_extract(body, '$.startsAt'), json_extract(body, '$.meetingId') LIMIT ?"
        )
        args.append(limit + 1)
        rows = self._read("queries", lambda conn: conn.execute(sql, args).fetchall())
        items = self._parse_entries([row[0] for row in rows[:limit]])
        next_token = keyset.after(items[-1]) if len(rows) > limit else None
        return Page(items, next_token)

    def _parse_entries(self, bodies: list[str]) -> list[Membership]:
        """Entries from their stored text, parsed once per text: a polled list returns the same rows,
        and parsing them costs more than the query. The entries are frozen, so sharing them is safe."""
        missing = [body for body in bodies if body not in self._parsed]
        if missing:
            if len(self._parsed) + len(missing) > _MAX_PARSED:
                self._parsed.clear()
            # One validation for all of them: per-row calls cost more than the query does.
            parsed = _MEMBERSHIPS.validate_json("[" + ",".join(missing) + "]")
            self._parsed.update(zip(missing, parsed, strict=True))
        return [self._parsed[body] for body in bodies]

    async def get_identity(self, user_id: str) -> AcsIdentity | None:
        row = self._read(
            "reads",
            lambda conn: conn.execute(
                "SELECT body FROM users WHERE pk = ? AND id = ?", (user_id, IDENTITY_ID)
            ).fetchone(),
        )
        return None if row is None else AcsIdentity.model_validate_json(row[0])

    async def create_identity(self, identity: AcsIdentity) -> None:
        body = identity.model_dump(mode="json", by_alias=True)
        body.update({"type": "identity"})
        doc = json.dumps(body)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (pk, id, type, body, etag) VALUES (?, ?, 'identity', ?, ?)",
                    (identity.user_id, IDENTITY_ID, doc, _etag()),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(identity.user_id) from exc

        await self._write(work)

    async def purge_user(self, user_id: str) -> int:
        return await self._write(
            lambda conn: conn.execute("DELETE FROM users WHERE pk = ?", (user_id,)).rowcount
        )

    async def get_erasure(self, key: str) -> Stored[Erasure] | None:
        row = self._read(
            "reads",
            lambda conn: conn.execute(
                "SELECT body, etag FROM users WHERE pk = ? AND id = ?", (key, ERASURE_ID)
            ).fetchone(),
        )
        return None if row is None else Stored(Erasure.model_validate_json(row[0]), row[1])

    async def put_erasure(self, erasure: Erasure, etag: str | None) -> str:
        body = json.dumps({**erasure.model_dump(mode="json", by_alias=True), "type": "erasure"})
        new_etag = _etag()

        def work(conn: sqlite3.Connection) -> None:
            if etag is None:
                try:
                    conn.execute(
                        "INSERT INTO users (pk, id, type, body, etag) VALUES (?, ?, 'erasure', ?, ?)",
                        (erasure.key, ERASURE_ID, body, new_etag),
                    )
                except sqlite3.IntegrityError as exc:
                    raise AlreadyExists(erasure.key) from exc
                return
            changed = conn.execute(
                "UPDATE users SET body = ?, etag = ? WHERE pk = ? AND id = ? AND etag = ?",
                (body, new_etag, erasure.key, ERASURE_ID, etag),
            ).rowcount
            if not changed:
                raise EtagMismatch(erasure.key)

        await self._write(work)
        return new_etag
