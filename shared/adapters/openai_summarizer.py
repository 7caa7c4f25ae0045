"""Meeting notes through OpenAI's chat completions API with structured outputs, on OpenAI or Azure OpenAI.

- SUMMARIZER=openai: `POST {OPENAI_BASE_URL or https://api.openai.com/v1}/chat/completions`, model
  SUMMARY_MODEL, with OPENAI_API_KEY (a `keyvault:` key is read at the first summary and again after a 401).
- SUMMARIZER=azure-openai: `POST {AZURE_OPENAI_ENDPOINT}/openai/deployments/{AZURE_OPENAI_CHAT_DEPLOYMENT}
  /chat/completions?api-version={AZURE_OPENAI_API_VERSION}` with an Entra ID token (DefaultAzureCredential).
  SUMMARY_MODEL names what the deployment runs: it picks the tokenizer.
Clients, credentials and retries are the transcriber's (shared/adapters/openai_common.py): 408, 409, 429
and 5xx, timeouts and connection failures are retried with backoff honouring Retry-After, then
SummarizerUnavailable; any other 4xx is SummarizerRejected.

The transcript goes to the model one line per segment, `#7 [12:34] Alice: text` (`#7`: the segment's
index; `[1:02:03]` past an hour), speakers by their transcript names ("Unknown" where nobody is known): so
owners come back as those names and chapter times as the transcript's seconds. The answer is CitedContent
(SummaryContent with, for each item, the line numbers it rests on and a short quote of them), asked for with a
strict `json_schema` response format generated from the model (`strict_schema`), and validated again here. The
citations go back as the summary's Sources: the server makes the evidence from the transcript itself and
checks the quote (shared/notes/evidence.py), so a quote the model invents is caught there.

Budget: every request, prompt (schema included) plus the answer tokens it reserves, stays within
SUMMARY_TOKEN_BUDGET, counted with shared/tokens.py. A transcript that fits goes in one request. Otherwise its
lines are cut into consecutive parts that each fit (a line is only cut if it alone does not fit), each part
becomes partial notes (the same schema, told the part's time span), and the partial notes, never the
transcript again, are merged into the final notes; in rounds, a few parts at a time, while they do not fit
together. The transcript's lines are sent once.

Answers: a refusal or a content filter is SummarizerRejected at once; an answer cut off at its token limit
or not matching the schema is asked for again once, with the reason (that retry sends its part again), then
SummarizerRejected. Chapter times are kept within the recording. Usage adds up the `usage` of every answer.

Nothing here imports `openai`, `azure.identity` or `tiktoken` until the first summary (cold start).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from pydantic import Field, ValidationError

from shared.adapters.openai_common import Connection, Failures, Requester, Service, Sleep, connect
from shared.ports import ModelUsage, Summarization, SummarizerRejected, SummarizerUnavailable
from shared.summaries import (
    ActionItem,
    Chapter,
    Decision,
    ItemSource,
    Sources,
    SummaryContent,
    SummaryModel,
)
from shared.tokens import TOKENS_PER_REPLY, Tokenizer, tokenizer_for

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from openai import AsyncOpenAI
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema
    from pydantic import BaseModel

    from shared.config import Settings
    from shared.secrets import SecretResolver
    from shared.transcripts import Transcript

log = logging.getLogger(__name__)
T = TypeVar("T")
Item = TypeVar("Item")

Message = dict[str, str]

FAILURES: Final = Failures(rejected=SummarizerRejected, unavailable=SummarizerUnavailable)
SCHEMA_NAME: Final = "meeting_notes"
UNKNOWN_SPEAKER: Final = "Unknown"

# Answer tokens reserved in each request (max_completion_tokens): the final notes of a long meeting run to
# about 2,000; a part's notes are asked to be shorter, so that two of them fit in a merge request.
ANSWER_TOKENS: Final = 4_000
PART_ANSWER_TOKENS: Final = 2_000
# Kept free in every request for the note that asks again after an unusable answer (and for the few tokens
# by which a joined text may count more than its pieces).
NOTE_TOKENS: Final = 200
PART_CONCURRENCY: Final = 4  # parts summarized at once: latency, within the provider's rate limits
# A long answer takes a minute or two; connecting should not (openai_common's connect timeout).
REQUEST_TIMEOUT_SECONDS: Final = 240.0

# What strict structured outputs accept, on OpenAI and Azure OpenAI alike: anything else (minLength,
# minimum, format, default, title...) is dropped from the generated schema; pydantic checks the answer anyway.
_SCHEMA_KEYWORDS: Final = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "anyOf", "$defs", "$ref"}
    | {"description", "enum", "const"}
)

# What the schema's descriptions do not already say, briefly: this goes with every request.
_RULES: Final = """\
Write every text in {language}. Owners are speaker names as the transcript gives them. Chapter start and end \
are seconds from the start ([1:02:03] is 3723). Due dates as they were said. Only what was said. Every \
item cites the transcript: `segments` the numbers (#n) of the lines it rests on, `quote` a few words copied \
exactly from those lines."""

_WHOLE: Final = """\
You write the notes of a meeting from its transcript: one line per utterance, "[time] Speaker: text", the \
time from the start of the recording. The chapters cover the whole meeting.
"""

_PART: Final = """\
You write the notes of one part of a long meeting from its transcript: one line per utterance, "[time] \
Speaker: text", the time from the start of the recording. This is part {index} of {total}, {span}. Write \
the notes of this part only, briefly: they will be merged with the other parts' notes. The chapters cover \
this part.
"""

_MERGE: Final = """\
You merge the notes of consecutive parts of one meeting into the notes of {what}: one line per part, its \
time span, then its notes as JSON. Join what recurs across parts; keep owners, dates, times, segments and \
quotes as they are. The overview and the chapters (in time order) cover all of it.
"""


# --- the transcript and the requests --------------------------------------------------------------------


def clock(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour on; rounded down, so a line's stamp is never after it starts."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Line:
    """One segment as the model reads it."""

    start: float
    end: float
    text: str  # `[12:34] Alice: text`, no newline


def transcript_lines(transcript: Transcript) -> list[Line]:
    lines: list[Line] = []
    for segment in transcript.segments:
        name = _one_line(transcript.speaker_name(segment.speaker) or UNKNOWN_SPEAKER) or UNKNOWN_SPEAKER
        text = f"#{len(lines)} [{clock(segment.start)}] {name}: {_one_line(segment.text)}"
        lines.append(Line(segment.start, segment.end, text))
    return lines


def _language(tag: str) -> str:
    if tag.strip().lower() in ("", "und"):
        return "the language the meeting is held in"
    return f'the language tagged "{tag}" (BCP 47)'


def _span(start: float, end: float) -> str:
    return f"[{clock(start)}-{clock(end)}] = {start:g}-{end:g} s"


@dataclass(frozen=True, slots=True)
class Prompts:
    """The messages of each kind of request for one transcript."""

    transcript: Transcript
    title: str | None

    def whole(self, body: str) -> list[Message]:
        return self._messages(_WHOLE, "Transcript", body)

    def part(self, body: str, index: int, total: int, start: float, end: float) -> list[Message]:
        intro = _PART.format(index=index, total=total, span=_span(start, end))
        return self._messages(intro, "Transcript of this part", body)

    def merge(self, body: str, start: float, end: float, *, final: bool) -> list[Message]:
        what = "the whole meeting" if final else f"its part {_span(start, end)}"
        return self._messages(_MERGE.format(what=what), "Notes of the parts", body)

    def _messages(self, intro: str, heading: str, body: str) -> list[Message]:
        system = intro + _RULES.format(language=_language(self.transcript.language))
        user = f"{self._about()}{heading}:\n{body}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _about(self) -> str:
        transcript = self.transcript
        names = dict.fromkeys(
            _one_line(transcript.speaker_name(s.id) or UNKNOWN_SPEAKER) for s in transcript.speakers
        )
        about = f"Meeting: {_one_line(self.title)}\n" if self.title else ""
        about += f"Duration: {clock(transcript.duration_seconds)} ({transcript.duration_seconds:g} s)\n"
        return about + f"Speakers: {', '.join(names) or UNKNOWN_SPEAKER}\n\n"


# --- what the model is asked for: the notes, each item citing the transcript ----------------------------


class _Cites(SummaryModel):
    segments: list[int] = Field(description="The numbers (#n) of the transcript lines this rests on.")
    quote: str = Field(description="A few words copied exactly from those lines.")

    def source(self) -> ItemSource:
        return ItemSource(segments=tuple(self.segments), quote=self.quote)


class CitedText(_Cites):
    text: str = Field(min_length=1)


class CitedDecision(_Cites, Decision):
    pass


class CitedAction(_Cites, ActionItem):
    pass


class CitedChapter(_Cites, Chapter):
    pass


class CitedContent(SummaryModel):
    """SummaryContent with its sources: what the model writes."""

    overview: str = Field(description="What the meeting was about and what came of it, in a few sentences.")
    key_points: list[CitedText] = Field(description="The main points discussed.")
    decisions: list[CitedDecision]
    action_items: list[CitedAction]
    chapters: list[CitedChapter] = Field(
        description="The meeting's parts in time order, covering the whole of it."
    )
    open_questions: list[CitedText] = Field(description="Questions raised and left unanswered.")

    def split(self) -> tuple[SummaryContent, Sources]:
        cites = ("segments", "quote")
        content = SummaryContent(
            overview=self.overview,
            key_points=[p.text for p in self.key_points],
            decisions=[Decision(**d.model_dump(exclude=set(cites))) for d in self.decisions],
            action_items=[ActionItem(**a.model_dump(exclude=set(cites))) for a in self.action_items],
            chapters=[Chapter(**c.model_dump(exclude=set(cites))) for c in self.chapters],
            open_questions=[q.text for q in self.open_questions],
        )
        sources = Sources(
            {
                "key_points": [p.source() for p in self.key_points],
                "decisions": [d.source() for d in self.decisions],
                "action_items": [a.source() for a in self.action_items],
                "chapters": [c.source() for c in self.chapters],
                "open_questions": [q.source() for q in self.open_questions],
            }
        )
        return content, sources


@cache
def response_format() -> dict[str, Any]:
    """The strict structured-outputs format that asks for CitedContent (built once, at first use)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": strict_schema(CitedContent)},
    }


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema (by alias) in the form strict structured outputs accept: every object closed
    (`additionalProperties: false`) with all its properties required, `X | None` as a type union
    (`["string", "null"]`), and only the keywords strict mode supports."""
    strict = _strict_node(model.model_json_schema(by_alias=True))
    assert isinstance(strict, dict)
    return strict


def _strict_node(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict_node(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):  # names -> schemas: the names are not keywords
            out[key] = {name: _strict_node(schema) for name, schema in value.items()}
        elif key in _SCHEMA_KEYWORDS:
            out[key] = _strict_node(value)
    union = out.get("anyOf")
    if isinstance(union, list) and union and all(isinstance(b, dict) and set(b) == {"type"} for b in union):
        del out["anyOf"]  # pydantic writes `X | None` as anyOf; a type union says the same, shorter
        out["type"] = [branch["type"] for branch in union]
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


# --- budget ---------------------------------------------------------------------------------------------


def pack(costs: Sequence[int], room: int) -> list[range]:
    """Consecutive runs of items whose costs add up to at most `room` each, as few as greedy packing needs,
    and as even as that count allows (the last part no sliver); an item costing more than `room` is a run of
    its own (the caller cuts such items first)."""
    runs = _greedy(costs, room)
    if len(runs) < 2:
        return runs
    # The smallest room that still needs no more runs: found by bisection, packing greedily each time.
    low, high = max(*costs, -(-sum(costs) // len(runs))), room
    while low < high:
        middle = (low + high) // 2
        if len(_greedy(costs, middle)) <= len(runs):
            high = middle
        else:
            low = middle + 1
    return _greedy(costs, high)


def _greedy(costs: Sequence[int], room: int) -> list[range]:
    runs: list[range] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if index > start and used + cost > room:
            runs.append(range(start, index))
            start, used = index, 0
        used += cost
    if start < len(costs):
        runs.append(range(start, len(costs)))
    return runs


def split_until(runs: list[list[Item]], fits: Callable[[list[Item]], bool]) -> list[list[Item]]:
    """`runs`, each halved until it `fits`, in order: counts of joined texts need not add up exactly, so what
    was packed by the pieces' counts is checked whole. A single item is left as it is."""
    fitted: list[list[Item]] = []
    pending = list(reversed(runs))
    while pending:
        items = pending.pop()
        if len(items) == 1 or fits(items):
            fitted.append(items)
        else:
            half = len(items) // 2
            pending += [items[half:], items[:half]]
    return fitted


def cut_line(line: Line, room: int, count: Callable[[str], int]) -> list[Line]:
    """`line` as lines of at most `room` tokens each (newline included), cut between words (within a word
    only if a word alone is too long), each keeping the line's stamp and speaker."""
    if count(line.text + "\n") <= room:
        return [line]
    prefix, _, text = line.text.partition(": ")
    prefix += ": "
    left = room - count(prefix + "\n")
    words = [piece for word in text.split(" ") for piece in _cut_word(word, left, count)]
    packed = [words[r.start : r.stop] for r in pack([count(" " + word) for word in words], left)]
    pieces = split_until(packed, lambda run: count(prefix + " ".join(run) + "\n") <= room)
    return [Line(line.start, line.end, prefix + " ".join(piece)) for piece in pieces]


def _cut_word(word: str, room: int, count: Callable[[str], int]) -> list[str]:
    pieces = []
    while count(" " + word) > room and len(word) > 1:
        size = len(word)
        while size > 1 and count(" " + word[:size]) > room:
            size = max(1, size * 3 // 4)
        pieces.append(word[:size])
        word = word[size:]
    return [*pieces, word]


# --- answers --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unusable:
    """An answer that may be asked for again: why it failed, and what to tell the model."""

    reason: str
    note: str


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, usage: CompletionUsage | None) -> None:
        self.requests += 1
        if usage is not None:
            self.input_tokens += usage.prompt_tokens
            self.output_tokens += usage.completion_tokens

    def usage(self) -> ModelUsage:
        return ModelUsage(self.requests, self.input_tokens, self.output_tokens)


@dataclass(frozen=True, slots=True)
class Part:
    """Notes of a stretch of the meeting, from `start` to `end` seconds."""

    start: float
    end: float
    notes: CitedContent

    def line(self, index: int) -> str:
        return f"Part {index} {_span(self.start, self.end)}: {self.notes.model_dump_json(by_alias=True)}"


def _validation_errors(exc: ValidationError) -> str:
    shown = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:3]]
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(shown) + more


def within(notes: CitedContent, duration: float) -> CitedContent:
    """The notes with chapters in time order and within the recording (a model may overshoot its end)."""
    chapters = sorted(
        (
            chapter.model_copy(
                update={"start": min(chapter.start, duration), "end": min(chapter.end, duration)}
            )
            for chapter in notes.chapters
        ),
        key=lambda chapter: (chapter.start, chapter.end),
    )
    return notes.model_copy(update={"chapters": chapters})


# --- the summarizer -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """One summary in the making: its prompts, its tokenizer and what it has cost so far."""

    prompts: Prompts
    tokenizer: Tokenizer
    tally: _Tally = field(default_factory=_Tally)
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PART_CONCURRENCY))


class OpenAISummarizer:
    """The Summarizer port on chat completions: built by `build_openai_summarizer`."""

    def __init__(
        self, connection: Connection, *, model: str, budget: int, sleep: Sleep = asyncio.sleep
    ) -> None:
        """`model` is what runs (it picks the tokenizer); the connection says what is sent as the model (on
        Azure the deployment). `budget` is the most tokens of one request, prompt and reserved answer
        together. The summarizer owns the connection: `aclose` closes it."""
        self._name = connection.name
        self._requester = Requester(
            connection.backend, name=self._name, failures=FAILURES, subject="the request", sleep=sleep
        )
        self._model = model
        self._model_param = connection.model_param
        self._budget = budget

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        await self._requester.aclose()

    async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
        # The first call loads the encoding (a few MB read and hashed): off the event loop.
        run = _Run(Prompts(transcript, title), await asyncio.to_thread(tokenizer_for, self._model))
        lines = transcript_lines(transcript)
        if not lines:
            # Nothing was said: notes of nothing, without asking a model to invent them.
            empty = SummaryContent(
                overview="", key_points=[], decisions=[], action_items=[], chapters=[], open_questions=[]
            )
            return Summarization(empty, run.tally.usage(), Sources())
        whole = run.prompts.whole(_body(line.text for line in lines))
        if self._fits(run, whole, ANSWER_TOKENS):
            notes = await self._ask(run, whole, ANSWER_TOKENS)
        else:
            parts = await self._summarize_parts(run, lines)
            notes = await self._merge(run, parts)
        content, sources = within(notes, transcript.duration_seconds).split()
        return Summarization(content, run.tally.usage(), sources)

    # --- map: the transcript in parts -----------------------------------------------------------------

    async def _summarize_parts(self, run: _Run, lines: list[Line]) -> list[Part]:
        chunks = self._chunks(run, lines)
        log.info("%s: transcript of %d lines in %d parts", self._name, len(lines), len(chunks))
        return await _all(
            [self._part(run, chunk, index, len(chunks)) for index, chunk in enumerate(chunks, 1)]
        )

    async def _part(self, run: _Run, chunk: list[Line], index: int, total: int) -> Part:
        messages = _part_request(run.prompts, chunk, index, total)
        return Part(chunk[0].start, _end(chunk), await self._ask(run, messages, PART_ANSWER_TOKENS))

    def _chunks(self, run: _Run, lines: list[Line]) -> list[list[Line]]:
        """The lines in consecutive chunks whose part request each fits the budget."""
        end = run.prompts.transcript.duration_seconds
        # The widest header a part can have: as many digits in its numbers and times as any real one.
        empty = run.prompts.part("", len(lines), len(lines), end, end)
        room = self._room(run, empty, PART_ANSWER_TOKENS)
        count = run.tokenizer.count
        pieces = [piece for line in lines for piece in cut_line(line, room, count)]
        packed = [pieces[r.start : r.stop] for r in pack([count(p.text + "\n") for p in pieces], room)]
        total = len(packed)
        return self._fitted(run, packed, lambda chunk: _part_request(run.prompts, chunk, total, total))

    # --- reduce: the parts' notes into one ------------------------------------------------------------

    async def _merge(self, run: _Run, parts: list[Part]) -> CitedContent:
        """The final notes from the parts' notes, merging a few at a time while they do not fit together."""
        while True:
            final = run.prompts.merge(_parts_body(parts), parts[0].start, parts[-1].end, final=True)
            if self._fits(run, final, ANSWER_TOKENS):
                return await self._ask(run, final, ANSWER_TOKENS)
            groups = self._groups(run, parts)
            if len(groups) == len(parts):
                raise SummarizerRejected(
                    f"{self._name}: SUMMARY_TOKEN_BUDGET={self._budget} cannot hold the notes of two parts "
                    f"and the answer (tokens counted as {run.tokenizer.describe()}); raise it"
                )
            log.info("%s: merging %d parts' notes into %d", self._name, len(parts), len(groups))
            parts = await _all([self._merge_group(run, group) for group in groups])

    def _groups(self, run: _Run, parts: list[Part]) -> list[list[Part]]:
        """The parts in consecutive groups whose merge request each fits the budget."""
        end = parts[-1].end
        room = self._room(run, run.prompts.merge("", end, end, final=False), PART_ANSWER_TOKENS)
        costs = [run.tokenizer.count(part.line(len(parts)) + "\n") for part in parts]
        packed = [parts[r.start : r.stop] for r in pack(costs, room)]
        return self._fitted(run, packed, lambda group: _merge_request(run.prompts, group))

    async def _merge_group(self, run: _Run, group: list[Part]) -> Part:
        if len(group) == 1:
            return group[0]  # nothing to merge it with in this round: on to the next as it is
        notes = await self._ask(run, _merge_request(run.prompts, group), PART_ANSWER_TOKENS)
        return Part(group[0].start, group[-1].end, notes)

    def _fitted(
        self, run: _Run, runs: list[list[Item]], request: Callable[[list[Item]], list[Message]]
    ) -> list[list[Item]]:
        """`runs`, halved until each one's request, counted as it is sent, fits the budget."""
        return split_until(runs, lambda items: self._fits(run, request(items), PART_ANSWER_TOKENS))

    # --- one request and its answer -------------------------------------------------------------------

    def _room(self, run: _Run, empty: list[Message], answer_tokens: int) -> int:
        """Tokens left for the body of a request whose other messages are `empty`'s."""
        used = run.tokenizer.count_request(empty, response_format())
        return self._budget - answer_tokens - NOTE_TOKENS - used

    def _left(self, run: _Run, messages: list[Message], answer_tokens: int) -> int:
        """Tokens of the budget that a request of `messages` reserving `answer_tokens` leaves unused."""
        return self._budget - answer_tokens - run.tokenizer.count_request(messages, response_format())

    def _fits(self, run: _Run, messages: list[Message], answer_tokens: int) -> bool:
        return self._left(run, messages, answer_tokens) >= NOTE_TOKENS

    async def _ask(self, run: _Run, messages: list[Message], answer_tokens: int) -> CitedContent:
        """The notes the model answers `messages` with, asked again once (with the reason) if unusable."""
        async with run.gate:
            answer = await self._attempt(run, messages, answer_tokens)
            if isinstance(answer, CitedContent):
                return answer
            log.warning("%s: %s; asking again", self._name, answer.reason)
            note = _note(answer.note, self._left(run, messages, answer_tokens), run.tokenizer)
            again = await self._attempt(run, [*messages, note], answer_tokens)
        if isinstance(again, CitedContent):
            return again
        raise SummarizerRejected(f"{self._name}: {again.reason}, also when asked again")

    async def _attempt(
        self, run: _Run, messages: list[Message], answer_tokens: int
    ) -> CitedContent | _Unusable:
        completion = await self._requester.call(lambda client: self._create(client, messages, answer_tokens))
        run.tally.add(getattr(completion, "usage", None))
        return self._read(completion, answer_tokens)

    async def _create(
        self, client: AsyncOpenAI, messages: list[Message], answer_tokens: int
    ) -> ChatCompletion:
        return await client.chat.completions.create(
            model=self._model_param,
            messages=cast("list[ChatCompletionMessageParam]", messages),
            response_format=cast("ResponseFormatJSONSchema", response_format()),
            max_completion_tokens=answer_tokens,
        )

    def _read(self, completion: ChatCompletion, answer_tokens: int) -> CitedContent | _Unusable:
        try:
            choice = completion.choices[0]
            content, refusal, finish = choice.message.content, choice.message.refusal, choice.finish_reason
        except (AttributeError, IndexError, TypeError) as exc:
            # The SDK does not validate answers: a body that is no chat completion shows up here.
            raise SummarizerUnavailable(f"{self._name}: answer of an unexpected shape ({exc})") from exc
        if refusal:
            raise SummarizerRejected(f"{self._name} refused to write the notes: {_one_line(refusal)}")
        if finish == "content_filter":
            raise SummarizerRejected(f"{self._name}: the provider's content filter stopped the notes")
        if finish == "length":
            return _Unusable(
                f"the notes were cut off at {answer_tokens} tokens",
                f"Your previous answer was cut off at {answer_tokens} tokens. Answer again with shorter "
                "notes: fewer and shorter items, in the same schema.",
            )
        try:
            return CitedContent.model_validate_json(content or "")
        except ValidationError as exc:
            errors = _validation_errors(exc)
            return _Unusable(
                f"the notes did not match the schema ({errors})",
                f"Your previous answer was not valid notes: {errors}. Answer again, following the schema.",
            )


def _body(lines: Iterable[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _end(chunk: Sequence[Line]) -> float:
    return max(line.end for line in chunk)


def _part_request(prompts: Prompts, chunk: Sequence[Line], index: int, total: int) -> list[Message]:
    return prompts.part(_body(line.text for line in chunk), index, total, chunk[0].start, _end(chunk))


def _parts_body(parts: Sequence[Part]) -> str:
    return _body(part.line(index) for index, part in enumerate(parts, start=1))


def _merge_request(prompts: Prompts, group: Sequence[Part]) -> list[Message]:
    return prompts.merge(_parts_body(group), group[0].start, group[-1].end, final=False)


def _note(text: str, room: int, tokenizer: Tokenizer) -> Message:
    """The message that asks again, its text shortened until it fits in `room` tokens."""
    while text and tokenizer.count_messages([{"role": "user", "content": text}]) - TOKENS_PER_REPLY > room:
        text = text[: len(text) * 3 // 4]
    return {"role": "user", "content": text}


async def _all(calls: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Every call's result, in order; the first failure cancels the others and is raised as it is (the
    port's errors, not an ExceptionGroup)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [task.result() for task in tasks]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


# --- construction from the settings ------------------------------------------------------------------------


def build_openai_summarizer(
    settings: Settings,
    secrets: SecretResolver,
    *,
    credential: AsyncTokenCredential | None = None,
    sleep: Sleep = asyncio.sleep,
    timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> OpenAISummarizer:
    """The summarizer SUMMARIZER asks for (`openai` or `azure-openai`); nothing is contacted yet.

    `credential` (Azure only) replaces DefaultAzureCredential; `sleep` and `timeout` are for tests.
    """
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
    return OpenAISummarizer(
        connection, model=settings.summary_model, budget=settings.summary_token_budget, sleep=sleep
    )
