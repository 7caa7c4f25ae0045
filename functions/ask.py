"""Asking a meeting a question over HTTP.

Thin: parse, call shared/services/ask.py, map the result.
"""

from __future__ import annotations

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="ask_meeting",
    method="POST",
    route="meetings/{meetingId}/ask",
    summary="Ask about the meeting (organizer, participants): an answer drawn only from its recordings' "
    "transcripts and notes, with the transcript spans it rests on; 409 while no recording has a transcript",
    tag="notes",
    body="AskIn",
    ok=(200, "AskOut", "The answer and its sources"),
    errors=(404, 409, 502, 503),
)
async def ask_meeting(req: ApiRequest[schemas.AskIn, None]) -> ApiResponse:
    answer = await req.services.ask.ask(req.caller.user_id, req.route["meetingId"], req.body.question)
    sources = [
        schemas.AskSource(
            recording_id=s.recording_id, start=s.start, end=s.end, speaker=s.speaker, quote=s.quote
        )
        for s in answer.sources
    ]
    return ApiResponse.json(schemas.AskOut(answer=answer.answer, sources=sources))
