"""Answers about a meeting through OpenAI's chat completions API with structured outputs (OpenAI or Azure
OpenAI): the `Answerer` port, on the summarizer's provider, model and deployment (SUMMARIZER, SUMMARY_MODEL,
AZURE_OPENAI_CHAT_DEPLOYMENT), its client, credentials and retries (shared/adapters/openai_common.py).

The service sends the passages BM25 ranked best for the question, one line each, numbered:
`#3 [12:34] Alice: text` for a transcript segment, `#4 [12:40] Notes, Alice: text` for a note item. The
model answers in a strict `json_schema` (`CitedAnswer`): whether the lines answer the question, the answer,
and the line numbers it rests on with a few words of each. The prompt says to answer from those lines only
and to say so when they do not answer it. The server makes the sources from the transcript itself
(shared/services/ask.py): a line number out of range is dropped, a quote not in the line replaced.

A refusal or the content filter is an answer saying the recordings do not say (the question, not the
meeting, is what the provider refused); an answer cut off or not in the schema is asked for once more,
then SummarizerRejected. Nothing here imports `openai` until the first question (cold start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Final, cast

from pydantic import Field, ValidationError

from shared.adapters.openai_common import Connection, Requester, Service, Sleep, connect
from shared.adapters.openai_summarizer import FAILURES, UNKNOWN_SPEAKER, clock, strict_schema
from shared.ports import Answered, Citation, ModelUsage, SummarizerRejected, SummarizerUnavailable
from shared.summaries import SummaryModel

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

    from shared.config import Settings
    from shared.notes.retrieval import Passage
    from shared.secrets import SecretResolver

log = logging.getLogger(__name__)

SCHEMA_NAME: Final = "meeting_answer"
ANSWER_TOKENS: Final = 1_000
MAX_LINE_CHARS: Final = 2_000  # of one passage sent: a long segment's text is cut there
REQUEST_TIMEOUT_SECONDS: Final = 60.0  # a person is waiting for it

_SYSTEM: Final = """\
You answer a question about a meeting using only the numbered lines below, taken from its recordings: \
transcript lines ("[time] Speaker: text") and items of its notes ("[time] Notes, Speaker: text"). Do not use \
anything else you know. If the lines do not answer the question, set `answerable` to false and leave \
`answer` empty and `citations` empty. Otherwise answer briefly, in the language of the question, and cite \
every line the answer rests on: `line` its number (#n), `quote` a few words copied exactly from it."""


class _Cite(SummaryModel):
    line: int = Field(description="The number (#n) of a line the answer rests on.")
    quote: str = Field(description="A few words copied exactly from that line.")


class CitedAnswer(SummaryModel):
    """What the model writes."""

    answerable: bool = Field(description="False when the lines do not answer the question.")
    answer: str = Field(description="The answer, from the lines only; empty when not answerable.")
    citations: list[_Cite]


@cache
def response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": strict_schema(CitedAnswer)},
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def passage_lines(passages: Sequence[Passage]) -> str:
    lines = []
    for number, passage in enumerate(passages):
        who = _one_line(passage.speaker or UNKNOWN_SPEAKER) or UNKNOWN_SPEAKER
        source = f"Notes, {who}" if passage.kind == "summary" else who
        text = _one_line(passage.text)[:MAX_LINE_CHARS]
        lines.append(f"#{number} [{clock(passage.start)}] {source}: {text}\n")
    return "".join(lines)


def messages(question: str, passages: Sequence[Passage], title: str | None) -> list[dict[str, str]]:
    about = f"Meeting: {_one_line(title)}\n" if title else ""
    user = f"{about}Lines:\n{passage_lines(passages)}\nQuestion: {_one_line(question)}"
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


class OpenAIAnswerer:
    """The Answerer port on chat completions: built by `build_openai_answerer`."""

    def __init__(self, connection: Connection, *, sleep: Sleep = asyncio.sleep) -> None:
        self._name = connection.name
        self._model_param = connection.model_param
        self._requester = Requester(
            connection.backend, name=self._name, failures=FAILURES, subject="the question", sleep=sleep
        )

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        await self._requester.aclose()

    async def answer(self, question: str, passages: Sequence[Passage], *, title: str | None) -> Answered:
        sent = messages(question, passages, title)
        input_tokens = output_tokens = 0
        problem = ""
        for requests in (1, 2):
            asked = sent if requests == 1 else [*sent, {"role": "user", "content": problem}]
            completion = await self._requester.call(partial(self._create, sent=asked))
            usage = getattr(completion, "usage", None)
            if usage is not None:
                input_tokens += usage.prompt_tokens
                output_tokens += usage.completion_tokens
            cost = ModelUsage(requests, input_tokens, output_tokens)
            read = self._read(completion)
            if isinstance(read, CitedAnswer):
                if not read.answerable or not read.answer.strip():
                    return Answered(None, (), cost)
                citations = tuple(Citation(c.line, c.quote) for c in read.citations)
                return Answered(read.answer.strip(), citations, cost)
            if read is None:
                return Answered(None, (), cost)
            problem = read
            log.warning("%s: %s; asking again", self._name, problem)
        raise SummarizerRejected(f"{self._name}: the answer was unusable, also when asked again ({problem})")

    async def _create(self, client: AsyncOpenAI, sent: list[dict[str, str]]) -> ChatCompletion:
        return await client.chat.completions.create(
            model=self._model_param,
            messages=cast("list[ChatCompletionMessageParam]", sent),
            response_format=cast("ResponseFormatJSONSchema", response_format()),
            max_completion_tokens=ANSWER_TOKENS,
        )

    def _read(self, completion: ChatCompletion) -> CitedAnswer | str | None:
        """The answer; None where the provider refused it; else what to tell the model when asking again."""
        try:
            choice = completion.choices[0]
            content, refusal, finish = choice.message.content, choice.message.refusal, choice.finish_reason
        except (AttributeError, IndexError, TypeError) as exc:
            raise SummarizerUnavailable(f"{self._name}: answer of an unexpected shape ({exc})") from exc
        if refusal or finish == "content_filter":
            log.info("%s declined the question (%s)", self._name, "refusal" if refusal else "content filter")
            return None
        if finish == "length":
            return f"Your previous answer was cut off at {ANSWER_TOKENS} tokens. Answer again, shorter."
        try:
            return CitedAnswer.model_validate_json(content or "")
        except ValidationError as exc:
            return (
                f"Your previous answer did not follow the schema ({exc.error_count()} errors). Answer again."
            )


def build_openai_answerer(
    settings: Settings,
    secrets: SecretResolver,
    *,
    credential: AsyncTokenCredential | None = None,
    sleep: Sleep = asyncio.sleep,
    timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> OpenAIAnswerer:
    """The answerer on SUMMARIZER's provider (`openai` or `azure-openai`); nothing is contacted yet."""
    service = Service(
        setting="SUMMARIZER",
        provider=settings.summarizer,
        model=settings.summary_model,
        model_setting="SUMMARY_MODEL",
        deployment=settings.azure_openai_chat_deployment,
        deployment_setting="AZURE_OPENAI_CHAT_DEPLOYMENT",
    )
    connection = connect(
        service, settings, secrets, credential=credential, timeout=timeout, failures=FAILURES
    )
    return OpenAIAnswerer(connection, sleep=sleep)
