"""The search index on Azure AI Search, through its SDK (azure-search-documents).

Keyless: the app's managed identity holds *Search Index Data Contributor* (documents) and *Search Service
Contributor* (to create the index when it is missing) on a service that runs with local auth disabled.

Every passage is one document keyed by its meeting, recording and position, carrying `memberIds`, the
meeting's organizer and participants (a filterable collection): every query is filtered to
`memberIds/any(m: m eq '<user>')` inside the service, so ranking and paging only ever see the caller's
meetings. A membership change rewrites that field on the meeting's documents (a merge, no text resent).

The SDK is imported when the adapter is built (cold start).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.notes.search_text import MARK_END, MARK_START, clean, plain_snippet, unmark, window
from shared.ports import SearchDocument, SearchError, SearchHit, SearchKind, SearchUnavailable

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

DEFAULT_INDEX = "notes"
# The service takes at most 1,000 actions (and 16 MB) in one indexing batch; a passage is a few hundred bytes.
BATCH = 500
# Ids of a meeting's or recording's documents are read this many at a time (the most `top` returns in one).
ID_PAGE = 1000
_SELECT = ["meetingId", "recordingId", "kind", "start", "end", "speaker", "text"]


def document_key(meeting_id: str, recording_id: str, position: int) -> str:
    # Keys may hold letters, digits, `_`, `-` and `=` only: URL-safe base64 of what identifies the passage.
    raw = f"{meeting_id}\n{recording_id}\n{position}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def odata_string(value: str) -> str:
    """A string literal for an OData filter: in single quotes, each quote inside doubled."""
    return "'" + value.replace("'", "''") + "'"


def index_definition(name: str) -> Any:
    from azure.search.documents.indexes.models import (  # noqa: PLC0415
        SearchableField,
        SearchFieldDataType,
        SearchIndex,
        SimpleField,
    )

    string = SearchFieldDataType.STRING
    return SearchIndex(
        name=name,
        fields=[
            SimpleField(name="id", type=string, key=True),
            SimpleField(name="meetingId", type=string, filterable=True),
            SimpleField(name="recordingId", type=string, filterable=True),
            SimpleField(name="kind", type=string, filterable=True),
            SimpleField(name="position", type=SearchFieldDataType.INT32),
            SimpleField(name="start", type=SearchFieldDataType.DOUBLE),
            SimpleField(name="end", type=SearchFieldDataType.DOUBLE),
            SimpleField(name="speaker", type=string),
            SearchableField(name="text", type=string, analyzer_name="standard.lucene"),
            SimpleField(name="memberIds", type="Collection(Edm.String)", filterable=True, hidden=True),
        ],
    )


class AzureSearchIndex:
    def __init__(
        self,
        endpoint: str,
        credential: AsyncTokenCredential,
        *,
        index_name: str = DEFAULT_INDEX,
        **client_kwargs: Any,
    ) -> None:
        from azure.search.documents.aio import SearchClient  # noqa: PLC0415
        from azure.search.documents.indexes.aio import SearchIndexClient  # noqa: PLC0415

        self._credential = credential
        self._name = index_name
        self._client = SearchClient(endpoint, index_name, credential, **client_kwargs)
        self._indexes = SearchIndexClient(endpoint, credential, **client_kwargs)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def replace_recording(
        self,
        meeting_id: str,
        recording_id: str,
        documents: Sequence[SearchDocument],
        member_ids: Sequence[str],
    ) -> None:
        await self._ensure_index()
        members = list(dict.fromkeys(member_ids))
        old = await self._ids(_recording_filter(meeting_id, recording_id))
        new = {
            document_key(d.meeting_id, d.recording_id, d.position): {
                "id": document_key(d.meeting_id, d.recording_id, d.position),
                "meetingId": d.meeting_id,
                "recordingId": d.recording_id,
                "kind": d.kind,
                "position": d.position,
                "start": d.start,
                "end": d.end,
                "speaker": d.speaker,
                "text": clean(d.text),
                "memberIds": members,
            }
            for d in documents
        }
        # Uploaded first (an upload replaces a document whole), then what is no longer there removed: a
        # reader meanwhile sees the old passages or the new, never a recording with none.
        await self._batches("upload", list(new.values()))
        await self._batches("delete", [{"id": key} for key in old if key not in new])

    async def remove_recording(self, meeting_id: str, recording_id: str) -> None:
        await self._ensure_index()
        old = await self._ids(_recording_filter(meeting_id, recording_id))
        await self._batches("delete", [{"id": key} for key in old])

    async def remove_meeting(self, meeting_id: str) -> None:
        await self._ensure_index()
        old = await self._ids(f"meetingId eq {odata_string(meeting_id)}")
        await self._batches("delete", [{"id": key} for key in old])

    async def set_members(self, meeting_id: str, member_ids: Sequence[str]) -> None:
        await self._ensure_index()
        members = list(dict.fromkeys(member_ids))
        keys = await self._ids(f"meetingId eq {odata_string(meeting_id)}")
        await self._batches("merge", [{"id": key, "memberIds": members} for key in keys])

    async def query(self, terms: Sequence[str], user_id: str, *, skip: int, top: int) -> list[SearchHit]:
        if not terms:
            return []
        await self._ensure_index()
        hits: list[SearchHit] = []
        async with _errors("search"):
            results = await self._client.search(
                # Plain words (shared/notes/search_text.py): no operator of the simple syntax among them.
                search_text=" ".join(terms),
                search_mode="all",
                query_type="simple",
                search_fields=["text"],
                filter=f"memberIds/any(m: m eq {odata_string(user_id)})",
                highlight_fields="text",
                highlight_pre_tag=MARK_START,
                highlight_post_tag=MARK_END,
                select=_SELECT,
                skip=skip,
                top=top,
            )
            async for result in results:
                fragments = (result.get("@search.highlights") or {}).get("text") or []
                if fragments:
                    snippet, highlights = window(*unmark(str(fragments[0])))
                else:
                    snippet, highlights = plain_snippet(str(result.get("text") or "")), ()
                kind: SearchKind = "summary" if result.get("kind") == "summary" else "transcript"
                hits.append(
                    SearchHit(
                        meeting_id=str(result["meetingId"]),
                        recording_id=str(result["recordingId"]),
                        kind=kind,
                        start=_number(result.get("start")),
                        end=_number(result.get("end")),
                        speaker=result.get("speaker"),
                        snippet=snippet,
                        highlights=highlights,
                    )
                )
                if len(hits) >= top:
                    break
        return hits

    async def aclose(self) -> None:
        await self._client.close()
        await self._indexes.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()

    # --- helpers -----------------------------------------------------------------------------------

    async def _ensure_index(self) -> None:
        """Creates the index on first use when it is missing (once per worker)."""
        if self._ready:
            return
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError  # noqa: PLC0415

        async with self._ready_lock:
            if self._ready:
                return
            async with _errors("read the index"):
                try:
                    await self._indexes.get_index(self._name)
                except ResourceNotFoundError:
                    # Another worker may make it first: theirs is the same.
                    with contextlib.suppress(ResourceExistsError):
                        await self._indexes.create_index(index_definition(self._name))
            self._ready = True

    async def _ids(self, filter_: str) -> list[str]:
        """The keys of every document the filter matches, a page at a time."""
        keys: list[str] = []
        while True:
            async with _errors("list documents"):
                results = await self._client.search(
                    search_text="*", filter=filter_, select=["id"], skip=len(keys), top=ID_PAGE
                )
                page = [str(result["id"]) async for result in results]
            keys.extend(page)
            if len(page) < ID_PAGE:
                return keys

    async def _batches(self, action: str, documents: list[dict[str, Any]]) -> None:
        send = {
            "upload": self._client.upload_documents,
            "merge": self._client.merge_documents,
            "delete": self._client.delete_documents,
        }[action]
        for first in range(0, len(documents), BATCH):
            async with _errors(f"{action} documents"):
                results = await send(documents[first : first + BATCH])
            failed = [
                r for r in results if not r.succeeded and not (action != "upload" and r.status_code == 404)
            ]
            if failed:
                raise SearchUnavailable(
                    f"Azure AI Search did not {action} {len(failed)} documents: {failed[0].error_message}"
                )


def _recording_filter(meeting_id: str, recording_id: str) -> str:
    return f"meetingId eq {odata_string(meeting_id)} and recordingId eq {odata_string(recording_id)}"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _errors:
    """The SDK's errors as the port's, with what was being done: throttling, a 5xx or no answer is
    SearchUnavailable (retry later); any other refusal is SearchError (a request of ours it rejects)."""

    def __init__(self, what: str) -> None:
        self._what = what

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        from azure.core.exceptions import AzureError, HttpResponseError  # noqa: PLC0415

        if isinstance(exc, HttpResponseError) and exc.status_code is not None:
            if exc.status_code == 429 or exc.status_code >= 500:
                raise SearchUnavailable(f"Azure AI Search: could not {self._what}: {exc.message}") from exc
            raise SearchError(f"Azure AI Search refused to {self._what}: {exc.message}") from exc
        if isinstance(exc, AzureError):
            raise SearchUnavailable(f"Azure AI Search: could not {self._what}: {exc}") from exc
        return False
