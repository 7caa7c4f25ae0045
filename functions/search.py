"""Search across the caller's meetings: thin, the rules are in shared/services/search.py."""

from __future__ import annotations

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="search",
    method="GET",
    route="search",
    summary="Find words in the transcripts and summaries of the caller's meetings, best first, with the "
    "time, the speaker and a snippet; and, on the first page, the caller's meetings by their title",
    tag="search",
    query="SearchQuery",
    ok=(200, "SearchOut", "One page of passages (and, first, the meetings found by title)"),
    errors=(502, 503),
)
async def search(req: ApiRequest[None, schemas.SearchQuery]) -> ApiResponse:
    query = req.query
    page = await req.services.search.search(
        req.caller.user_id, query.q, query.continuation_token, limit=query.limit
    )
    body = schemas.SearchOut(
        items=[
            schemas.SearchHitOut(
                meeting_id=hit.meeting_id,
                meeting_title=hit.meeting_title,
                recording_id=hit.recording_id,
                kind=hit.kind,
                start=hit.start,
                end=hit.end,
                speaker=hit.speaker,
                snippet=hit.snippet,
                highlights=[list(pair) for pair in hit.highlights],
            )
            for hit in page.items
        ],
        continuation_token=page.continuation_token,
        meetings=[
            schemas.SearchMeetingOut(
                meeting_id=found.meeting_id,
                title=found.title,
                starts_at=found.starts_at,
                ends_at=found.ends_at,
                status=found.status,
                highlights=[list(pair) for pair in found.highlights],
            )
            for found in page.meetings
        ],
    )
    return ApiResponse.json(body)  # no-store, as every authenticated answer (shared/http.py)
