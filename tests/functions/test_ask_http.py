"""Asking a meeting a question over HTTP: offline, and through the OpenAI answerer against the local chat
completions stand-in (tests/chat_server.py); who may ask, bad questions, sources built from the transcript."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from pydantic import SecretStr

from shared.adapters.openai_answerer import build_openai_answerer
from shared.bootstrap import Services
from shared.config import Settings
from shared.domain.recording_paths import ARTIFACTS, artifact_blob
from shared.notes.retrieval import Passage
from shared.ports import Answered, Citation, ModelUsage
from shared.secrets import SecretResolver
from shared.services.ask import NOT_SAID, AskService
from shared.transcripts import Segment, Speaker, Transcript, to_json
from tests.chat_server import FABRICATED, ChatServer
from tests.conftest import FunctionCaller
from tests.contract.test_openai_transcriber import Sleeps
from tests.functions.test_notes_http import _summarized
from tests.functions.test_recordings_http import _meeting

KEY = "sk-ask"
TEXTS = (
    "Good morning, let's go through the release plan.",
    "The billing migration is blocked on legal. I can take that on.",
    "We decided to ship the release on Friday. The rollback plan is written.",
    "Who checks the budget numbers?",
)


def said(recording_id: str) -> Transcript:
    return Transcript(
        recording_id=recording_id,
        language="en",
        duration_seconds=60.0,
        speakers=[
            Speaker(id="ch0", user_id="bob", display_name="Bob Okafor"),
            Speaker(id="ch1", user_id="pat", display_name="Pat Lee"),
        ],
        segments=[
            Segment(start=i * 10.0, end=i * 10.0 + 8, speaker=f"ch{i % 2}", text=text)
            for i, text in enumerate(TEXTS)
        ],
    )


async def _recorded(call: FunctionCaller, services: Services) -> dict[str, str]:
    """A meeting with a completed recording whose transcript says TEXTS."""
    route = await _summarized(call, services)
    name = artifact_blob(route["meetingId"], route["recordingId"], "transcript.json")
    data = to_json(said(route["recordingId"])).encode()
    await services.blobs.put(ARTIFACTS, name, data, content_type="application/json")
    return route


async def _ask(call: FunctionCaller, meeting_id: str, body: Any, user: str | None = "alice") -> Any:
    return await call(
        "ask_meeting", "POST", "ask", user=user, route={"meetingId": meeting_id}, json_body=body
    )


async def test_offline_the_answer_quotes_the_best_passages_with_time_and_speaker(
    call: FunctionCaller, services: Services
) -> None:
    route = await _recorded(call, services)
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"}, user="bob")
    assert reply.status == 200, reply.json()
    body = reply.json()
    assert set(body) == {"answer", "sources"}
    assert "We decided to ship the release on Friday." in body["answer"]
    first = body["sources"][0]
    assert first == {
        "recordingId": route["recordingId"],
        "start": 20.0,
        "end": 28.0,
        "speaker": "Bob Okafor",
        "quote": "We decided to ship the release on Friday.",
    }
    for source in body["sources"]:
        assert any(source["quote"] in text for text in TEXTS)

    unrelated = await _ask(call, route["meetingId"], {"question": "Is the weather nice in Oslo?"})
    assert unrelated.status == 200
    assert unrelated.json() == {"answer": NOT_SAID, "sources": []}


async def test_who_may_ask(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services)
    question = {"question": "release plan?"}
    assert (await _ask(call, route["meetingId"], question, user="pat")).status == 200
    assert (await _ask(call, route["meetingId"], question, user="mallory")).status == 404
    assert (await _ask(call, "no-such-meeting", question)).status == 404
    assert (await _ask(call, route["meetingId"], question, user=None)).status == 401
    removed = await call(
        "remove_participant",
        "DELETE",
        "p",
        route={"meetingId": route["meetingId"], "userId": "bob"},
    )
    assert removed.status == 204
    assert (await _ask(call, route["meetingId"], question, user="bob")).status == 404


async def test_nothing_to_ask_about_yet_is_a_conflict(call: FunctionCaller, services: Services) -> None:
    meeting_id = await _meeting(call)
    reply = await _ask(call, meeting_id, {"question": "What was decided?"})
    assert reply.status == 409
    assert reply.headers["content-type"] == "application/problem+json"
    assert "no recording" in reply.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": ""},
        {"question": "   "},
        {"question": "x" * 1001},
        {"question": 42},
        {"question": None},
        {"question": "ok?", "extra": 1},
        ["question"],
    ],
)
async def test_bad_questions_are_400(call: FunctionCaller, services: Services, body: Any) -> None:
    meeting_id = await _meeting(call)
    reply = await _ask(call, meeting_id, body)
    assert reply.status == 400, reply.json()
    assert reply.headers["content-type"] == "application/problem+json"


async def test_a_question_of_the_longest_length_is_taken(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services)
    reply = await _ask(call, route["meetingId"], {"question": "release " * 124 + "x" * 8})
    assert reply.status == 200


class ScriptedAnswerer:
    """Answers with the citations it is given, whatever the passages (a model's mistakes, on demand)."""

    def __init__(self, citations: Sequence[Citation]) -> None:
        self.citations = tuple(citations)
        self.seen: list[Sequence[Passage]] = []

    @property
    def name(self) -> str:
        return "scripted"

    async def answer(self, question: str, passages: Sequence[Passage], *, title: str | None) -> Answered:
        self.seen.append(passages)
        return Answered("Friday.", self.citations, ModelUsage(1, 1, 1))

    async def aclose(self) -> None:
        return None


def _answering(services: Services, answerer: Any) -> None:
    services.ask = AskService(services.store, services.blobs, services.meetings, services.notes, answerer)


async def test_citations_out_of_range_are_dropped_and_quotes_come_from_the_transcript(
    call: FunctionCaller, services: Services
) -> None:
    route = await _recorded(call, services)
    scripted = ScriptedAnswerer([Citation(-1), Citation(0, "ship THE release"), Citation(99), Citation(0)])
    _answering(services, scripted)
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"})
    assert reply.status == 200
    body = reply.json()
    assert body["answer"] == "Friday."
    sent = scripted.seen[0][0]
    assert [s["quote"] for s in body["sources"]] == ["ship the release"]  # as the transcript writes it
    assert (body["sources"][0]["start"], body["sources"][0]["end"]) == (sent.start, sent.end)

    scripted.citations = (Citation(7), Citation(-3))  # nothing left to rest on: refused
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"})
    assert reply.json() == {"answer": NOT_SAID, "sources": []}


# --- through the OpenAI answerer and the chat completions stand-in -----------------------------------------


@pytest.fixture
async def stand_in(services: Services) -> AsyncIterator[ChatServer]:
    async with ChatServer(api_keys={KEY}) as server:
        settings = Settings(
            summarizer="openai",
            openai_api_key=SecretStr(KEY),
            openai_base_url=server.base_url,
            summary_model="gpt-4o-mini",
        )
        resolver = SecretResolver(None)
        answerer = build_openai_answerer(settings, resolver, sleep=Sleeps())
        _answering(services, answerer)
        try:
            yield server
        finally:
            await answerer.aclose()
            await resolver.aclose()


async def test_openai_answer_cites_lines_mapped_to_the_transcript(
    call: FunctionCaller, services: Services, stand_in: ChatServer
) -> None:
    route = await _recorded(call, services)
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"})
    assert reply.status == 200, reply.json()
    body = reply.json()
    assert body["answer"].startswith("From the recordings: ")
    chat = stand_in.answered[-1]
    assert chat.response_format is not None
    assert chat.response_format["json_schema"]["name"] == "meeting_answer"
    assert "Question: When do we ship the release?" in chat.user
    assert "Bob Okafor: We decided to ship the release on Friday." in chat.user
    assert "Meeting: Planning" in chat.user
    first = body["sources"][0]
    assert (first["start"], first["end"], first["speaker"]) == (20.0, 28.0, "Bob Okafor")
    assert first["quote"] == "We decided to ship the"  # the model's five words, found in the segment


@pytest.mark.parametrize("how", ["refusal", "decline", "filtered", "misindex"])
async def test_openai_refusals_and_wrong_lines_say_the_recordings_do_not_say(
    call: FunctionCaller, services: Services, stand_in: ChatServer, how: Any
) -> None:
    route = await _recorded(call, services)
    stand_in.misbehave_next(1, how)
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"})
    assert reply.status == 200
    assert reply.json() == {"answer": NOT_SAID, "sources": []}
    assert len(stand_in.answered) == 1


async def test_openai_fabricated_quotes_are_replaced_by_the_transcript_s_words(
    call: FunctionCaller, services: Services, stand_in: ChatServer
) -> None:
    route = await _recorded(call, services)
    stand_in.misbehave_next(1, "fabricate")
    reply = await _ask(call, route["meetingId"], {"question": "When do we ship the release?"})
    body = reply.json()
    assert body["sources"]
    assert all(FABRICATED not in source["quote"] for source in body["sources"])
    assert all(any(source["quote"] in text for text in TEXTS) for source in body["sources"])


async def test_openai_unusable_answers_are_asked_again_then_502_and_outages_503(
    call: FunctionCaller, services: Services, stand_in: ChatServer
) -> None:
    route = await _recorded(call, services)
    question = {"question": "When do we ship the release?"}
    stand_in.misbehave_next(1, "malformed")
    assert (await _ask(call, route["meetingId"], question)).status == 200
    assert len(stand_in.answered) == 2
    stand_in.misbehave_next(2, "length")
    failed = await _ask(call, route["meetingId"], question)
    assert failed.status == 502
    assert failed.headers["content-type"] == "application/problem+json"
    stand_in.fail_next(10, 500)
    assert (await _ask(call, route["meetingId"], question)).status == 503


async def test_note_items_count_as_the_caller_may_read_them(call: FunctionCaller, services: Services) -> None:
    route = await _recorded(call, services)
    current = (await call("get_summary", "GET", "s", route=route)).json()
    edited = {
        **current,
        "decisions": [
            {
                "text": "Ship the release on Friday",
                "evidence": [{"segments": [2], "quote": "ship the release"}],
            },
            {"text": "Release without evidence"},
        ],
    }
    assert (await call("edit_summary", "PUT", "e", route=route, json_body=edited)).status == 200
    scripted = ScriptedAnswerer([Citation(0)])
    _answering(services, scripted)
    question = {"question": "Which release decision?"}
    services.notes._visibility = "approved"
    try:
        assert (await _ask(call, route["meetingId"], question)).status == 200
        assert (await _ask(call, route["meetingId"], question, user="bob")).status == 200
    finally:
        services.notes._visibility = "drafts"
    organizer, participant = ([p.kind for p in seen] for seen in scripted.seen)
    # The organizer's passages hold the edited decision (the one whose evidence checks out); bob may read
    # approved summaries only, and none is: his are the transcript's alone.
    assert organizer.count("summary") == 1
    assert "summary" not in participant
    notes = next(p for p in scripted.seen[0] if p.kind == "summary")
    assert (notes.text, notes.segments, notes.start, notes.speaker) == (
        "Ship the release on Friday",
        (2,),
        20.0,
        "Bob Okafor",
    )
