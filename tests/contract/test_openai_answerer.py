"""The OpenAI / Azure OpenAI answerer against the local chat completions API (tests/chat_server.py): the
request it sends (strict schema, numbered lines, the question), the answer read, Azure with Entra ID."""

from __future__ import annotations

from shared.adapters.openai_answerer import (
    MAX_LINE_CHARS,
    SCHEMA_NAME,
    build_openai_answerer,
    passage_lines,
    response_format,
)
from shared.adapters.openai_common import AZURE_SCOPE
from shared.notes.retrieval import Passage
from shared.ports import Citation
from shared.secrets import SecretResolver
from tests.chat_server import ChatServer, strict_schema_problems
from tests.contract.test_openai_summarizer import (
    API_VERSION,
    DEPLOYMENT,
    KEY,
    MODEL,
    azure_settings,
    settings,
)
from tests.contract.test_openai_transcriber import Sleeps

PASSAGES = [
    Passage("r1", "transcript", (4,), 65.0, 70.0, "Alice Martin", "We ship the release on Friday."),
    Passage("r1", "summary", (4,), 65.0, 70.0, "Alice Martin", "Ship the release on Friday"),
    Passage("r2", "transcript", (0,), 3725.5, 3730.0, None, "The budget is fine.\n" + "x" * 3000),
]


def test_the_schema_is_strict_and_the_lines_numbered() -> None:
    spec = response_format()["json_schema"]
    assert spec["name"] == SCHEMA_NAME
    assert spec["strict"] is True
    assert strict_schema_problems(spec["schema"]) == []
    lines = passage_lines(PASSAGES).splitlines()
    assert lines[0] == "#0 [1:05] Alice Martin: We ship the release on Friday."
    assert lines[1] == "#1 [1:05] Notes, Alice Martin: Ship the release on Friday"
    assert lines[2].startswith("#2 [1:02:05] Unknown: The budget is fine. xxx")
    assert len(lines[2]) < MAX_LINE_CHARS + 30


async def test_openai_sends_the_question_and_reads_the_cited_answer() -> None:
    async with ChatServer(api_keys={KEY}) as server:
        resolver = SecretResolver(None)
        answerer = build_openai_answerer(settings(server.base_url), resolver, sleep=Sleeps())
        try:
            answered = await answerer.answer("When is the release shipped?", PASSAGES, title="Planning")
        finally:
            await answerer.aclose()
            await resolver.aclose()
    assert answerer.name == f"openai:{MODEL}"
    (chat,) = server.answered
    assert chat.body["model"] == MODEL
    assert chat.user.startswith("Meeting: Planning\nLines:\n#0 [1:05]")
    assert chat.user.endswith("Question: When is the release shipped?")
    assert "only the numbered lines" in chat.system
    assert answered.text == "From the recordings: We ship the release on Friday."
    assert answered.citations[0] == Citation(0, "We ship the release on")
    assert answered.usage.requests == 1
    assert answered.usage.input_tokens == chat.prompt_tokens


async def test_azure_asks_the_chat_deployment_with_an_entra_token() -> None:
    async with ChatServer(deployments={DEPLOYMENT: MODEL}) as server:
        credential = server.credential()
        answerer = build_openai_answerer(azure_settings(server), SecretResolver(None), credential=credential)
        answered = await answerer.answer("Is the budget fine?", PASSAGES, title=None)
        await answerer.aclose()
    assert answerer.name == f"azure-openai:{DEPLOYMENT}"
    (chat,) = server.chats
    assert chat.record.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert chat.record.api_version == API_VERSION
    assert chat.record.credential in server.azure_tokens
    assert credential.scopes == [(AZURE_SCOPE,)]
    assert credential.closed
    assert answered.citations[0].passage == 2
