"""The embedded stand-in for Azure Communication Services.

It keeps rooms, members and identities in SQLite under DATA_DIR and issues tokens that are clearly local:
JWT-shaped, HS256-signed with a key kept under DATA_DIR, issuer `video-signaling-local-acs`. A web
client's join flow can be built against it offline; no real calling service accepts these tokens.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shared.adapters.sqlite_database import SqliteDatabase
from shared.domain.rules import MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME
from shared.ports import AccessToken, CommunicationRejected, RoomMember, RoomNotFound
from shared.secrets_files import local_key
from shared.timefmt import iso, now

LOCAL_ISSUER = "video-signaling-local-acs"
LOCAL_ENDPOINT = "https://acs.local.invalid/"
_MAX_ROOM_VALIDITY = timedelta(days=180)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (acs_user_id TEXT PRIMARY KEY, revoked_before REAL);
CREATE TABLE IF NOT EXISTS rooms (
    room_id TEXT PRIMARY KEY, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS room_members (
    room_id TEXT NOT NULL,
    acs_user_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (room_id, acs_user_id)
);
"""


class LocalCommunication:
    def __init__(self, data_dir: Path) -> None:
        self._db = SqliteDatabase(data_dir / "local-acs.sqlite3", _SCHEMA)
        self._key = local_key(data_dir, "local-acs.key")

    @property
    def endpoint(self) -> str:
        return LOCAL_ENDPOINT

    async def aclose(self) -> None:
        await self._db.close()

    # --- rooms -------------------------------------------------------------------------------------

    async def create_room(self, valid_from: datetime, valid_until: datetime) -> str:
        check_room_window(valid_from, valid_until)
        room_id = str(uuid.uuid4().int)[:17]  # ACS room ids are 16-17 digit decimal strings
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO rooms VALUES (?, ?, ?)", (room_id, iso(valid_from), iso(valid_until))
            )
        )
        return room_id

    async def update_room(self, room_id: str, valid_from: datetime, valid_until: datetime) -> None:
        check_room_window(valid_from, valid_until)
        updated = await self._db.write(
            lambda c: (
                c.execute(
                    "UPDATE rooms SET valid_from = ?, valid_until = ? WHERE room_id = ?",
                    (iso(valid_from), iso(valid_until), room_id),
                ).rowcount
            )
        )
        if not updated:
            raise RoomNotFound(room_id)

    async def delete_room(self, room_id: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM room_members WHERE room_id = ?", (room_id,))
            c.execute("DELETE FROM rooms WHERE room_id = ?", (room_id,))

        await self._db.write(work)

    async def upsert_room_members(self, room_id: str, members: Sequence[RoomMember]) -> None:
        # Every join re-asserts its member: when nothing would change, skip the write (and its thread hop).
        current = await self.room_members(room_id)
        if current and all(current.get(m.acs_user_id) == m.role.value for m in members):
            return

        def work(c: sqlite3.Connection) -> None:
            c.execute("BEGIN")
            try:
                if c.execute("SELECT 1 FROM rooms WHERE room_id = ?", (room_id,)).fetchone() is None:
                    raise RoomNotFound(room_id)
                c.executemany(
                    "INSERT INTO room_members VALUES (?, ?, ?) "
                    "ON CONFLICT (room_id, acs_user_id) DO UPDATE SET role = excluded.role",
                    [(room_id, m.acs_user_id, m.role.value) for m in members],
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

        await self._db.write(work)

    async def remove_room_members(self, room_id: str, acs_user_ids: Sequence[str]) -> None:
        def work(c: sqlite3.Connection) -> None:
            if c.execute("SELECT 1 FROM rooms WHERE room_id = ?", (room_id,)).fetchone() is None:
                raise RoomNotFound(room_id)
            c.executemany(
                "DELETE FROM room_members WHERE room_id = ? AND acs_user_id = ?",
                [(room_id, user) for user in acs_user_ids],
            )

        await self._db.write(work)

    async def room_members(self, room_id: str) -> dict[str, str]:
        """What the room holds now (acs user id to role): for tests and the local join flow."""
        rows = self._db.read(
            lambda c: c.execute(
                "SELECT acs_user_id, role FROM room_members WHERE room_id = ?", (room_id,)
            ).fetchall()
        )
        return dict(rows)

    async def room_window(self, room_id: str) -> tuple[str, str] | None:
        row = self._db.read(
            lambda c: c.execute(
                "SELECT valid_from, valid_until FROM rooms WHERE room_id = ?", (room_id,)
            ).fetchone()
        )
        return None if row is None else (row[0], row[1])

    # --- identities and tokens ---------------------------------------------------------------------

    async def create_user(self) -> str:
        acs_user_id = f"8:local:{uuid.uuid4()}"
        await self._db.write(lambda c: c.execute("INSERT INTO identities VALUES (?, NULL)", (acs_user_id,)))
        return acs_user_id

    async def delete_user(self, acs_user_id: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM room_members WHERE acs_user_id = ?", (acs_user_id,))
            c.execute("DELETE FROM identities WHERE acs_user_id = ?", (acs_user_id,))

        await self._db.write(work)

    async def issue_token(self, acs_user_id: str, scopes: Sequence[str], lifetime: timedelta) -> AccessToken:
        import jwt  # noqa: PLC0415 - only the local join path needs it

        if not MIN_TOKEN_LIFETIME <= lifetime <= MAX_TOKEN_LIFETIME:
            raise CommunicationRejected("a token lives between 60 minutes and 24 hours")
        await self._require_user(acs_user_id)
        issued = now()
        expires = issued + lifetime
        claims: dict[str, Any] = {
            "iss": LOCAL_ISSUER,
            "sub": acs_user_id,
            "scp": " ".join(scopes),
            "iat": issued.timestamp(),
            "exp": int(expires.timestamp()),
            "jti": str(uuid.uuid4()),
        }
        return AccessToken(jwt.encode(claims, self._key, algorithm="HS256"), expires.replace(microsecond=0))

    async def revoke_tokens(self, acs_user_id: str) -> None:
        await self._require_user(acs_user_id)
        revoked_at = now().timestamp()
        await self._db.write(
            lambda c: c.execute(
                "UPDATE identities SET revoked_before = ? WHERE acs_user_id = ?", (revoked_at, acs_user_id)
            )
        )

    async def verify_token(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is ours, unexpired and not revoked; else None."""
        import jwt  # noqa: PLC0415

        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=["HS256"], issuer=LOCAL_ISSUER, options={"require": ["exp"]}
            )
        except jwt.PyJWTError:
            return None
        row = self._db.read(
            lambda c: c.execute(
                "SELECT revoked_before FROM identities WHERE acs_user_id = ?", (claims["sub"],)
            ).fetchone()
        )
        if row is None or (row[0] is not None and claims["iat"] <= row[0]):
            return None
        return claims

    async def _require_user(self, acs_user_id: str) -> None:
        row = self._db.read(
            lambda c: c.execute("SELECT 1 FROM identities WHERE acs_user_id = ?", (acs_user_id,)).fetchone()
        )
        if row is None:
            raise CommunicationRejected(f"unknown ACS identity {acs_user_id}")


def check_room_window(valid_from: datetime, valid_until: datetime, at: datetime | None = None) -> None:
    """ACS's own rules for a room's window, so the stand-in refuses what the real service refuses.

    `at` is the present (a test's clock); by default the real one.
    """
    at = at or now()
    if valid_from > at + _MAX_ROOM_VALIDITY:
        raise CommunicationRejected("a room opens at most 180 days from now")
    if valid_until <= at:
        raise CommunicationRejected("a room's validUntil is in the past")
    if valid_until <= valid_from:
        raise CommunicationRejected("a room's validUntil must be after its validFrom")
    if valid_until - valid_from > _MAX_ROOM_VALIDITY:
        raise CommunicationRejected("a room is valid for at most 180 days")
