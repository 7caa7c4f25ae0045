"""The OpenAI / Azure OpenAI summarizer against the local chat completions API (tests/chat_server.py).

The adapter runs as in production: the real `openai` SDK over HTTP, keys through the SecretResolver (and a
local Key Vault for rotation), Entra ID tokens through azure-identity's bearer token provider, tokens counted
by shared/tokens.py (the o200k_base encoding where it is on disk, else the UTF-8 bound; the server counts
with the same). Only the waits between retries are recorded instead of slept.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import openai
import pytest
from pydantic import SecretStr, ValidationError

from shared.adapters.openai_common import ATTEMPTS, AZURE_SCOPE, RETRY_AFTER_JITTER
from shared.adapters.openai_summarizer import (
    ANSWER_TOKENS,
    NOTE_TOKENS,
    PART_ANSWER_TOKENS,
    Line,
    OpenAISummarizer,
    Prompts,
    build_openai_summarizer,
    clock,
    cut_line,
    pack,
    response_format,
    strict_schema,
    transcript_lines,
)
from shared.config import ConfigurationError, Settings
from shared.notes.evidence import cite, counts
from shared.ports import ModelUsage, SummarizerRejected, SummarizerUnavailable
from shared.secrets import SecretResolver
from shared.summaries import SummaryContent
from shared.tokens import tokenizer_for
from shared.transcripts import Segment, Speaker, Transcript
from tests.chat_server import FABRICATED, MISINDEXED, ChatServer, meeting_transcript, strict_schema_problems
from tests.contract.test_openai_transcriber import Sleeps
from tests.keyvault_server import KeyVaultServer

KEY = f"sk-test-{uuid.uuid4().hex}"
MODEL = "gpt-4o-mini"
DEPLOYMENT = "notes-4o-mini"
API_VERSION = "2025-04-01-preview"
SMALLEST_BUDGET = 16_000

Build = Callable[..., OpenAISummarizer]


def short_transcript(language: str = "de") -> Transcript:
    return Transcript(
        recording_id="rec-1",
        language=language,
        duration_seconds=95.0,
        speakers=[
            Speaker(id="ch0", user_id="u-alice", display_name="Alice Martin"),
            Speaker(id="ch1", user_id="u-bob"),  # no display name: known by the user id
        ],
        segments=[
            Segment(start=0.0, end=6.5, speaker="ch0", text="Guten Morgen, wir besprechen das Release."),
            Segment(start=7.2, end=15.0, speaker="ch1", text="Die Tests laufen,\n aber die Migration fehlt."),
            Segment(start=16.0, end=30.0, speaker=None, text="Wer übernimmt die Migration?"),
            Segment(start=31.0, end=48.0, speaker="ch0", text="Ich kann das bis Freitag übernehmen."),
            Segment(
                start=62.0, end=94.0, speaker="ch1", text="Dann verschieben wir das Release um eine Woche."
            ),
        ],
    )


def long_transcript(minutes: float) -> Transcript:
    from tests.chat_server import meeting_transcript

    return meeting_transcript(minutes, speakers=4, seed=3)


def settings(base_url: str, key: str = KEY, **extra: Any) -> Settings:
    options: dict[str, Any] = {"summary_model": MODEL, **extra}
    return Settings(summarizer="openai", openai_api_key=SecretStr(key), openai_base_url=base_url, **options)


def azure_settings(server: ChatServer, deployment: str = DEPLOYMENT) -> Settings:
    return Settings(
        summarizer="azure-openai",
        azure_openai_endpoint=server.azure_endpoint,
        azure_openai_chat_deployment=deployment,
        azure_openai_api_version=API_VERSION,
        summary_model=MODEL,
    )


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with ChatServer(api_keys={KEY}, deployments={DEPLOYMENT: MODEL}) as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def build(sleeps: Sleeps) -> AsyncIterator[Build]:
    """Builds summarizers through the factory, with recorded sleeps; closes each, then the resolver it was
    given here (a test's own resolver is the test's to close)."""
    async with AsyncExitStack() as stack:

        def make(config: Settings, resolver: SecretResolver | None = None, **kwargs: Any) -> OpenAISummarizer:
            if resolver is None:
                resolver = SecretResolver(config.key_vault_url)
                stack.push_async_callback(resolver.aclose)
            summarizer = build_openai_summarizer(config, resolver, sleep=sleeps, **kwargs)
            stack.push_async_callback(summarizer.aclose)
            return summarizer

        yield make


@pytest.fixture
async def summarizer(server: ChatServer, build: Build) -> OpenAISummarizer:
    return build(settings(server.base_url))


def owners(notes: SummaryContent) -> set[str | None]:
    return {item.owner for item in notes.action_items}


# --- one request -------------------------------------------------------------------------------------------


async def test_a_short_transcript_is_one_request_with_valid_notes(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    transcript = short_transcript()
    result = await summarizer.summarize(transcript, title="Sprint-Review")

    (chat,) = server.chats
    assert chat.status == 200
    assert chat.record.path == "/v1/chat/completions"
    assert chat.record.credential == KEY
    assert chat.body["model"] == MODEL
    assert chat.max_completion_tokens == ANSWER_TOKENS
    assert chat.response_format == response_format()
    # Names as the transcript gives them (display name, else user id), "Unknown" for nobody known.
    assert chat.transcript_lines() == [
        "#0 [0:00] Alice Martin: Guten Morgen, wir besprechen das Release.",
        "#1 [0:07] u-bob: Die Tests laufen, aber die Migration fehlt.",
        "#2 [0:16] Unknown: Wer übernimmt die Migration?",
        "#3 [0:31] Alice Martin: Ich kann das bis Freitag übernehmen.",
        "#4 [1:02] u-bob: Dann verschieben wir das Release um eine Woche.",
    ]
    assert 'the language tagged "de"' in chat.system
    assert "Meeting: Sprint-Review" in chat.user
    assert "Speakers: Alice Martin, u-bob" in chat.user

    notes = result.content
    SummaryContent.model_validate_json(notes.model_dump_json(by_alias=True))
    assert owners(notes) == {"Alice Martin", "u-bob", "Unknown"}
    assert notes.chapters
    assert all(0 <= c.start <= c.end <= transcript.duration_seconds for c in notes.chapters)
    assert notes.open_questions == ["Wer übernimmt die Migration?"]
    assert result.usage == ModelUsage(1, chat.prompt_tokens, chat.completion_tokens)
    assert summarizer.name == f"openai:{MODEL}"


async def test_und_asks_for_the_language_spoken(server: ChatServer, summarizer: OpenAISummarizer) -> None:
    await summarizer.summarize(short_transcript(language="und"), title=None)
    (chat,) = server.chats
    assert "the language the meeting is held in" in chat.system
    assert "tagged" not in chat.system
    assert "Meeting:" not in chat.user


async def test_chapter_times_are_kept_within_the_recording(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    # The duration is shorter than the last stamp the model sees (a transcript cut at its end).
    transcript = short_transcript().model_copy(update={"duration_seconds": 50.0})
    result = await summarizer.summarize(transcript, title=None)
    assert max(c.end for c in result.content.chapters) == 50.0
    assert all(c.start <= c.end for c in result.content.chapters)


async def test_an_empty_transcript_needs_no_request(server: ChatServer, summarizer: OpenAISummarizer) -> None:
    empty = Transcript(recording_id="r", language="en", duration_seconds=12.0)
    result = await summarizer.summarize(empty, title="Nothing said")
    assert server.chats == []
    assert result.usage == ModelUsage(0, 0, 0)
    assert result.content.chapters == []


def test_stamps_are_minutes_then_hours() -> None:
    assert [clock(s) for s in (0, 5.9, 754.2, 3599.99, 3723, 36_000)] == [
        "0:00",
        "0:05",
        "12:34",
        "59:59",
        "1:02:03",
        "10:00:00",
    ]


# --- the schema --------------------------------------------------------------------------------------------


def test_the_schema_is_what_strict_mode_accepts() -> None:
    schema = strict_schema(SummaryContent)
    assert strict_schema_problems(schema) == []
    # pydantic's own schema is not: minLength, minimum, and `X | None` as anyOf are what the transform fixes.
    raw = SummaryContent.model_json_schema(by_alias=True)
    assert any("'minLength' is not supported" in p for p in strict_schema_problems(raw))
    owner = schema["$defs"]["ActionItem"]["properties"]["owner"]
    assert owner["type"] == ["string", "null"]
    assert "anyOf" not in owner
    assert owner["description"].startswith("Who will do it")
    assert schema["required"] == [
        "overview",
        "keyPoints",
        "decisions",
        "actionItems",
        "chapters",
        "openQuestions",
    ]
    name = response_format()["json_schema"]["name"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name)


def test_the_strict_schema_still_describes_summary_content() -> None:
    schema = strict_schema(SummaryContent)
    notes = SummaryContent.model_validate_json(
        '{"overview": "o", "keyPoints": ["k"], "decisions": [{"text": "d"}], "actionItems": '
        '[{"owner": null, "task": "t", "due": "2026-01-05"}], "chapters": [{"title": "c", "start": 0, '
        '"end": 1.5, "summary": "s"}], "openQuestions": []}'
    )
    jsonschema.validate(notes.model_dump(by_alias=True, mode="json"), schema)
    for broken in ({"overview": "o"}, {**notes.model_dump(by_alias=True), "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


async def test_the_server_refuses_a_schema_strict_mode_would(server: ChatServer) -> None:
    client = openai.AsyncOpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    loose = {"name": "notes", "strict": True, "schema": SummaryContent.model_json_schema(by_alias=True)}
    create: Callable[..., Awaitable[Any]] = client.chat.completions.create
    try:
        with pytest.raises(openai.BadRequestError, match="Invalid schema for response_format 'notes'"):
            await create(
                model=MODEL,
                messages=[{"role": "user", "content": "hi"}],
                response_format={"type": "json_schema", "json_schema": loose},
                max_completion_tokens=100,
            )
    finally:
        await client.close()
    assert server.statuses == [400]


# --- the budget: map-reduce --------------------------------------------------------------------------------


def part_room(transcript: Transcript, budget: int) -> int:
    """What the adapter can put of the transcript into one part request (its widest header)."""
    lines = len(transcript.segments)
    end = transcript.duration_seconds
    empty = Prompts(transcript, None).part("", lines, lines, end, end)
    overhead = tokenizer_for(MODEL).count_request(empty, response_format())
    return budget - PART_ANSWER_TOKENS - NOTE_TOKENS - overhead


@pytest.mark.parametrize("minutes", [90, 180])
async def test_a_long_transcript_is_summarized_in_parts_within_the_budget(
    server: ChatServer, build: Build, minutes: int
) -> None:
    transcript = long_transcript(minutes)
    summarizer = build(settings(server.base_url, summary_token_budget=SMALLEST_BUDGET))
    result = await summarizer.summarize(transcript, title="Planning")

    tokenizer = tokenizer_for(MODEL)
    rendered = [line.text for line in transcript_lines(transcript)]
    own = sum(tokenizer.count(line + "\n") for line in rendered)
    expected_parts = math.ceil(own / part_room(transcript, SMALLEST_BUDGET))
    parts = [c for c in server.chats if "This is part" in c.system]
    merges = [c for c in server.chats if "You merge" in c.system]
    assert expected_parts >= 2
    assert expected_parts <= len(parts) <= expected_parts + 1
    assert sorted(int(re.search(r"part (\d+) of", c.system).group(1)) for c in parts) == list(  # type: ignore[union-attr]
        range(1, len(parts) + 1)
    )
    assert len(server.chats) == len(parts) + len(merges)
    assert "the whole meeting" in merges[-1].system, "the last request merges into the final notes"
    # Within the budget, prompt and reserved answer together; each line sent once, merges send notes only.
    assert all(c.status == 200 for c in server.chats)
    assert all(c.prompt_tokens + c.max_completion_tokens <= SMALLEST_BUDGET for c in server.chats)
    assert Counter(line for c in server.chats for line in c.transcript_lines()) == Counter(rendered)
    assert all(c.transcript_lines() == [] for c in merges)

    notes = result.content
    assert owners(notes) <= {s.display_name for s in transcript.speakers}
    assert all(0 <= c.start <= c.end <= transcript.duration_seconds for c in notes.chapters)
    assert notes.chapters[-1].end > transcript.duration_seconds - 300, "the chapters reach the end"
    assert result.usage.requests == len(server.chats)
    assert result.usage.input_tokens == sum(c.prompt_tokens for c in server.chats)


async def test_notes_of_many_parts_are_merged_in_rounds(server: ChatServer, build: Build) -> None:
    # A day of talk: its parts' notes do not fit one merge request even with exact token counts.
    transcript = long_transcript(20 * 60)
    summarizer = build(settings(server.base_url, summary_token_budget=SMALLEST_BUDGET))
    result = await summarizer.summarize(transcript, title=None)
    merges = [c for c in server.chats if "You merge" in c.system]
    parts = [c for c in server.chats if "This is part" in c.system]
    # Rounds: merges of a few parts into notes of a longer part, then those into the whole.
    assert len(merges) >= 2
    assert all("its part [" in c.system for c in merges[:-1])
    assert "the whole meeting" in merges[-1].system
    assert len(merges) < len(parts)
    assert all(c.prompt_tokens + c.max_completion_tokens <= SMALLEST_BUDGET for c in server.chats)
    assert sum(len(c.transcript_lines()) for c in server.chats) == len(transcript.segments)
    assert all(0 <= c.start <= c.end <= transcript.duration_seconds for c in result.content.chapters)


async def test_a_line_longer_than_a_part_is_cut_between_words(server: ChatServer, build: Build) -> None:
    words = " ".join(f"Wort{i}" for i in range(12_000))
    transcript = Transcript(
        recording_id="r",
        language="de",
        duration_seconds=3600.0,
        speakers=[Speaker(id="ch0", display_name="Eva")],
        segments=[Segment(start=5.0, end=3500.0, speaker="ch0", text=words)],
    )
    summarizer = build(settings(server.base_url, summary_token_budget=SMALLEST_BUDGET))
    await summarizer.summarize(transcript, title=None)
    sent = [line for c in server.chats for line in c.transcript_lines()]
    assert len(sent) >= 2
    assert all(line.startswith("#0 [0:05] Eva: ") for line in sent)
    assert " ".join(line.removeprefix("#0 [0:05] Eva: ") for line in sent) == words
    assert all(c.prompt_tokens + c.max_completion_tokens <= SMALLEST_BUDGET for c in server.chats)


def test_cut_line_keeps_words_whole_unless_one_is_too_long() -> None:
    line = Line(0.0, 1.0, "[0:00] Al: " + "ab " * 20 + "x" * 50)
    pieces = cut_line(line, 30, len)
    assert all(len(p.text + "\n") <= 30 for p in pieces)
    assert all(p.text.startswith("[0:00] Al: ") for p in pieces)
    texts = [p.text.removeprefix("[0:00] Al: ") for p in pieces]
    assert " ".join(texts[:-4]).split() == ["ab"] * 20
    assert "".join(texts[-4:]) == "x" * 50


def test_packing_is_as_even_as_its_count_allows() -> None:
    costs = [10] * 25
    runs = pack(costs, 100)
    assert len(runs) == 3, "greedy needs three runs of at most 100"
    assert [len(r) for r in runs] == [9, 9, 7], "not 10, 10, 5"
    assert pack([500, 10], 100) == [range(0, 1), range(1, 2)], "an oversized item stands alone"
    assert pack([], 100) == []


# --- unusable answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "told"),
    [("malformed", "not valid notes"), ("invalid", "chapters.0"), ("length", "cut off at 4000 tokens")],
)
async def test_an_unusable_answer_is_asked_for_again_once(
    server: ChatServer, summarizer: OpenAISummarizer, how: Any, told: str
) -> None:
    server.misbehave_next(1, how)
    result = await summarizer.summarize(short_transcript(), title=None)
    first, second = server.chats
    assert second.messages[:-1] == first.messages
    assert second.messages[-1]["role"] == "user"
    assert told in second.messages[-1]["content"]
    assert second.prompt_tokens + second.max_completion_tokens <= Settings().summary_token_budget
    assert result.usage.requests == 2
    assert owners(result.content) == {"Alice Martin", "u-bob", "Unknown"}


@pytest.mark.parametrize(
    ("how", "times", "message"),
    [
        ("malformed", 2, r"did not match the schema \(answer: Invalid JSON.*\), also when asked again"),
        ("invalid", 2, r"chapters\.0: Value error, a chapter ends before it starts.*also when asked again"),
        ("length", 2, r"cut off at 4000 tokens, also when asked again"),
        ("refusal", 1, r"refused to write the notes: I'm sorry"),  # deliberate: not asked again
        ("filtered", 1, r"content filter"),
    ],
)
async def test_an_answer_unusable_twice_or_refused_is_rejected(
    server: ChatServer, summarizer: OpenAISummarizer, how: Any, times: int, message: str
) -> None:
    server.misbehave_next(times, how)
    with pytest.raises(SummarizerRejected, match=message):
        await summarizer.summarize(short_transcript(), title=None)
    assert len(server.chats) == times


async def test_a_failed_part_fails_the_summary_with_the_port_error(server: ChatServer, build: Build) -> None:
    summarizer = build(settings(server.base_url, summary_token_budget=SMALLEST_BUDGET))
    server.misbehave_next(2, "refusal")
    with pytest.raises(SummarizerRejected, match="refused"):
        await summarizer.summarize(long_transcript(45), title=None)


async def test_an_answer_that_is_no_chat_completion_is_unavailable(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    server.garble_next(1)
    with pytest.raises(SummarizerUnavailable, match="unexpected shape"):
        await summarizer.summarize(short_transcript(), title=None)


# --- retries -----------------------------------------------------------------------------------------------


async def test_throttling_is_retried_honouring_retry_after(
    server: ChatServer, summarizer: OpenAISummarizer, sleeps: Sleeps
) -> None:
    server.throttle(2, retry_after=3)
    result = await summarizer.summarize(short_transcript(), title=None)
    assert server.statuses == [429, 429, 200]
    assert len(sleeps.waits) == 2
    assert all(3 <= wait <= 3 + RETRY_AFTER_JITTER for wait in sleeps.waits)
    assert result.usage.requests == 1, "throttled requests carry no tokens"


async def test_server_errors_are_retried_then_unavailable(
    server: ChatServer, summarizer: OpenAISummarizer, sleeps: Sleeps
) -> None:
    server.fail_next(100, 500)
    with pytest.raises(SummarizerUnavailable, match="500"):
        await summarizer.summarize(short_transcript(), title=None)
    assert server.statuses == [500] * ATTEMPTS
    assert len(sleeps.waits) == ATTEMPTS - 1


async def test_a_passing_server_error_is_retried(
    server: ChatServer, summarizer: OpenAISummarizer, sleeps: Sleeps
) -> None:
    server.fail_next(1, 503)
    await summarizer.summarize(short_transcript(), title=None)
    assert server.statuses == [503, 200]


async def test_a_bad_request_is_rejected_at_once(
    server: ChatServer, summarizer: OpenAISummarizer, sleeps: Sleeps
) -> None:
    server.fail_next(1, 400, code="invalid_value", message="Something is off.")
    with pytest.raises(SummarizerRejected, match="400 invalid_value: Something is off"):
        await summarizer.summarize(short_transcript(), title=None)
    assert server.statuses == [400]
    assert sleeps.waits == []


async def test_an_unknown_model_is_rejected_with_advice(server: ChatServer, build: Build) -> None:
    summarizer = build(settings(server.base_url, summary_model="gpt-nonesuch"))
    with pytest.raises(SummarizerRejected, match=r"model_not_found.*SUMMARY_MODEL"):
        await summarizer.summarize(short_transcript(), title=None)


# --- keys and Azure ----------------------------------------------------------------------------------------


async def test_a_rotated_key_is_read_again_once_after_a_401(server: ChatServer, build: Build) -> None:
    old, new = f"sk-old-{uuid.uuid4().hex}", f"sk-new-{uuid.uuid4().hex}"
    async with KeyVaultServer() as vault:
        resolver = SecretResolver(vault.vault_url, vault.credential(), **vault.client_kwargs())
        try:
            vault.set_secret("openai-key", old)
            server.api_keys = {old}
            config = settings(server.base_url, key="keyvault:openai-key", key_vault_url=vault.vault_url)
            summarizer = build(config, resolver)
            await summarizer.summarize(short_transcript(), title=None)

            vault.set_secret("openai-key", new)
            server.api_keys = {new}
            await summarizer.summarize(short_transcript(), title=None)
        finally:
            await resolver.aclose()
        assert vault.reads("openai-key") == 2
    assert [c.record.credential for c in server.chats] == [old, old, new]
    assert server.statuses == [200, 401, 200]


async def test_a_refused_plain_key_is_rejected_at_once(server: ChatServer, build: Build) -> None:
    summarizer = build(settings(server.base_url, key="sk-revoked-0123456789"))
    with pytest.raises(SummarizerRejected, match=r"invalid_api_key.*OPENAI_API_KEY") as caught:
        await summarizer.summarize(short_transcript(), title=None)
    assert "sk-revoked-0123456789" not in str(caught.value)
    assert server.statuses == [401]


async def test_azure_calls_the_chat_deployment_with_an_entra_token(server: ChatServer, build: Build) -> None:
    credential = server.credential()
    summarizer = build(azure_settings(server), credential=credential)
    result = await summarizer.summarize(short_transcript(), title=None)

    assert summarizer.name == f"azure-openai:{DEPLOYMENT}"
    (chat,) = server.chats
    assert chat.record.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert chat.record.api_version == API_VERSION
    assert chat.body["model"] == DEPLOYMENT, "on Azure the model sent is the deployment name"
    assert chat.record.credential in server.azure_tokens
    assert credential.scopes == [(AZURE_SCOPE,)]
    assert owners(result.content) == {"Alice Martin", "u-bob", "Unknown"}
    await summarizer.aclose()
    assert credential.closed


async def test_an_unknown_azure_deployment_is_rejected_with_advice(server: ChatServer, build: Build) -> None:
    summarizer = build(azure_settings(server, "no-such-deployment"), credential=server.credential())
    with pytest.raises(SummarizerRejected, match=r"DeploymentNotFound.*AZURE_OPENAI_CHAT_DEPLOYMENT"):
        await summarizer.summarize(short_transcript(), title=None)


# --- settings ----------------------------------------------------------------------------------------------


def test_settings_name_what_each_summarizer_needs() -> None:
    with pytest.raises(ConfigurationError, match="SUMMARIZER=openai needs OPENAI_API_KEY"):
        Settings(summarizer="openai")
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_CHAT_DEPLOYMENT"):
        Settings(summarizer="azure-openai", azure_openai_endpoint="https://x.openai.azure.com/")
    for budget in (SMALLEST_BUDGET - 1, 128_001):
        with pytest.raises(ValidationError, match="summary_token_budget"):
            Settings(summary_token_budget=budget)
    defaults = Settings()
    assert (defaults.summary_model, defaults.summary_token_budget) == ("gpt-4o-mini", 32_000)


def test_the_factory_refuses_other_summarizers() -> None:
    with pytest.raises(ValueError, match="SUMMARIZER=local"):
        build_openai_summarizer(Settings(summarizer="local"), SecretResolver(None))


# --- evidence: the model cites lines; the server checks its quotes --------------------------------------


async def test_the_model_s_citations_become_evidence_that_checks_out(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    transcript = meeting_transcript(20)
    made = await summarizer.summarize(transcript, title=None)
    notes = cite(made.content, made.sources, transcript)
    checked = counts(notes)
    assert checked.items > 5
    assert checked.unverified == 0
    for item in notes.cited():
        for evidence in item.evidence:
            segment = transcript.segments[evidence.segments[0]]
            assert (evidence.start, evidence.speaker_id) == (segment.start, segment.speaker)


async def test_every_quote_the_model_invents_is_caught(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    transcript = meeting_transcript(20)
    server.misbehave_next(1, "fabricate")
    made = await summarizer.summarize(transcript, title=None)
    notes = cite(made.content, made.sources, transcript)
    checked = counts(notes)
    assert checked.items > 5
    assert checked.unverified == checked.items  # every one, and none dropped
    assert all(item.evidence[0].quote == FABRICATED for item in notes.cited())


async def test_every_item_citing_a_wrong_line_is_caught(
    server: ChatServer, summarizer: OpenAISummarizer
) -> None:
    transcript = meeting_transcript(20)
    server.misbehave_next(1, "misindex")
    made = await summarizer.summarize(transcript, title=None)
    assert made.sources is not None
    cited = [s for name in made.sources.items for s in made.sources.items[name] if s is not None]
    past = [s for s in cited if s.segments == (MISINDEXED,)]
    assert past
    assert len(past) < len(cited)  # by turns: past the transcript, and another line
    checked = counts(cite(made.content, made.sources, transcript))
    assert checked.items == len(cited)
    assert checked.unverified == checked.items
