"""The embedded search index: SQLite FTS5 (bm25 ranking, snippets), in `DATA_DIR/search.sqlite3`.

Passages live in `docs` (their meeting, recording, time, speaker, text) with an external-content FTS5 table
over their text; who may read a meeting lives once per meeting in `members`, not on every passage, so a
membership change is a few rows, and a query joins it: the index itself trims every query to the caller's
meetings (as Azure AI Search's `memberIds` filter does), before ranking and paging.

Reads run inline, writes on a dedicated thread (see SqliteDatabase for why).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from shared.adapters.sqlite_database import SqliteDatabase
from shared.notes.search_text import MARK_END, MARK_START, unmark
from shared.ports import SearchDocument, SearchError, SearchHit, SearchKind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL, recording_id TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL,
    start_s REAL, end_s REAL, speaker TEXT, text TEXT NOT NULL,
    UNIQUE (meeting_id, recording_id, position)
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    text, content = 'docs', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS members (
    user_id TEXT NOT NULL, meeting_id TEXT NOT NULL, PRIMARY KEY (user_id, meeting_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_meeting ON members (meeting_id);
"""

# Tokens of context around the matched words in a snippet (FTS5 allows at most 64).
SNIPPET_TOKENS = 24

_QUERY = """
SELECT d.meeting_id, d.recording_id, d.kind, d.start_s, d.end_s, d.speaker,
       snippet(docs_fts, 0, ?, ?, '…', ?)
FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid
WHERE docs_fts MATCH ?
  AND d.meeting_id IN (SELECT meeting_id FROM members WHERE user_id = ?)
ORDER BY bm25(docs_fts), d.meeting_id, d.recording_id, d.position
LIMIT ? OFFSET ?
"""


def _match(terms: Sequence[str]) -> str:
    # Each word a quoted string: FTS5 reads no operator or column filter in it, and implicit AND joins them.
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


class SqliteSearchIndex:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)

    async def replace_recording(
        self,
        meeting_id: str,
        recording_id: str,
        documents: Sequence[SearchDocument],
        member_ids: Sequence[str],
    ) -> None:
        rows = [
            (d.meeting_id, d.recording_id, d.kind, d.position, d.start, d.end, d.speaker, d.text)
            for d in documents
        ]

        def work(conn: sqlite3.Connection) -> None:
            _delete(conn, "meeting_id = ? AND recording_id = ?", (meeting_id, recording_id))
            for row in rows:
                cursor = conn.execute(
                    "INSERT INTO docs (meeting_id, recording_id, kind, position, start_s, end_s, speaker,"
                    " text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                conn.execute("INSERT INTO docs_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, row[-1]))
            _set_members(conn, meeting_id, member_ids)

        await self._write(work)

    async def remove_recording(self, meeting_id: str, recording_id: str) -> None:
        await self._write(
            lambda conn: _delete(conn, "meeting_id = ? AND recording_id = ?", (meeting_id, recording_id))
        )

    async def remove_meeting(self, meeting_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            _delete(conn, "meeting_id = ?", (meeting_id,))
            conn.execute("DELETE FROM members WHERE meeting_id = ?", (meeting_id,))

        await self._write(work)

    async def set_members(self, meeting_id: str, member_ids: Sequence[str]) -> None:
        await self._write(lambda conn: _set_members(conn, meeting_id, member_ids))

    async def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """`work` in one transaction: a reader sees all of it or none of it."""

        def transaction(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await self._db.write(transaction)

    async def query(self, terms: Sequence[str], user_id: str, *, skip: int, top: int) -> list[SearchHit]:
        if not terms:
            return []
        try:
            rows = self._db.read(
                lambda conn: conn.execute(
                    _QUERY, (MARK_START, MARK_END, SNIPPET_TOKENS, _match(terms), user_id, top, skip)
                ).fetchall()
            )
        except sqlite3.OperationalError as exc:  # a query FTS5 cannot parse: ours to fix, not the caller's
            raise SearchError(f"the search index refused the query: {exc}") from exc
        hits = []
        for meeting_id, recording_id, kind, start, end, speaker, marked in rows:
            snippet, highlights = unmark(marked)
            kind_: SearchKind = "summary" if kind == "summary" else "transcript"
            hits.append(SearchHit(meeting_id, recording_id, kind_, start, end, speaker, snippet, highlights))
        return hits

    async def aclose(self) -> None:
        await self._db.close()


def _delete(conn: sqlite3.Connection, where: str, args: tuple[str, ...]) -> None:
    # External content: FTS5 forgets a row only when told its old text ('delete' command), then the row goes.
    conn.execute(
        f"INSERT INTO docs_fts (docs_fts, rowid, text) SELECT 'delete', id, text FROM docs WHERE {where}",  # noqa: S608 - fixed clauses
        args,
    )
    conn.execute(f"DELETE FROM docs WHERE {where}", args)  # noqa: S608 - fixed clauses


def _set_members(conn: sqlite3.Connection, meeting_id: str, member_ids: Sequence[str]) -> None:
    conn.execute("DELETE FROM members WHERE meeting_id = ?", (meeting_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO members (user_id, meeting_id) VALUES (?, ?)",
        [(user_id, meeting_id) for user_id in dict.fromkeys(member_ids)],
    )
