"""A local stand-in for the chat completions API with structured outputs, as OpenAI and Azure OpenAI serve it.

    async with ChatServer(api_keys={"sk-test"}, deployments={"chat": "gpt-4o-mini"}) as server:
        openai = AsyncOpenAI(api_key="sk-test", base_url=server.base_url)

It is tests/openai_server.py's OpenAIServer serving `POST /v1/chat/completions` and `POST /openai/deployments/
{deployment}/chat/completions?api-version=...` instead of transcriptions, and keeps all the rest of it: the
keys and Entra ID tokens it accepts (`credential()`), the deployments and api-version checks, the error
bodies, and the hooks `fail_next` / `throttle` (with Retry-After) / `delay_next` / `garble_next`.

What it checks, as the services do (400 in OpenAI's error shape otherwise):
- a JSON body with `messages` (each a `role` and a string `content`), and `max_completion_tokens`;
- `response_format` is a strict `json_schema`: a name of 1-64 letters, digits, `_` or `-`, `strict: true`,
  and a schema in the subset strict mode accepts on OpenAI and Azure alike (`strict_schema_problems`);
- the prompt and `max_completion_tokens` fit the model's context window (`context_length_exceeded`).

Each request is counted with shared/tokens.py's tokenizer for its model (`Tokenizer.count_request`: the
messages and the response format) and recorded in `chats`, with what it sent and the status answered.

Answers are notes made up from what the request shows, deterministically, in the summarizer's CitedContent
JSON (each item citing the line it comes from, `segments` and `quote`, the quote that line's first words):
- transcript lines (`#7 [12:34] Alice: text`): an action item for each speaker seen (owner: that name), up to
  three chapters from the lines' stamps, key points from their first words, the lines asking a question;
- part lines (`Part 2 [45:00-1:30:00] = 2700-5400 s: {notes}`): those notes merged, within fixed caps.
`usage` says the prompt tokens counted and the answer's own; an answer longer than `max_completion_tokens`
is cut there, with `finish_reason: "length"`. `misbehave_next(n, how)` answers the next requests otherwise:
"malformed" (not JSON), "invalid" (JSON, but a chapter ends before it starts), "refusal", "length",
"filtered" (Azure's content filter), "fabricate" (valid notes whose every quote is words nobody said: the
server must catch them, FABRICATED), "misindex" (valid notes whose every item cites the wrong line: by turns
a line number past the transcript, MISINDEXED, and another line of the request that does not hold its quote).

Questions (the answerer's `meeting_answer` schema: numbered lines, then `Question: ...`) are answered from
the lines sharing most words with the question: the best one's text as the answer, citing it and the next
best with their first words; none sharing a word: `answerable: false`. The misbehaviours apply to them too,
"fabricate" quoting FABRICATED, "misindex" citing MISINDEXED, and "decline" answers `answerable: false`.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Self

from aiohttp import web
from multidict import MultiDictProxy

from shared.tokens import tokenizer_for
from shared.transcripts import Segment, Speaker, Transcript
from tests.openai_server import OpenAIServer, RecordedRequest, _ApiError, _bad

CONTEXT_WINDOWS: Final[Mapping[str, int]] = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1-mini": 1_047_576,
}
SCHEMA_KEYWORDS: Final = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "anyOf", "$defs", "$ref"}
    | {"description", "enum", "const", "title"}
)
TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
MAX_DEPTH: Final = 10  # nesting levels strict mode takes
MAX_PROPERTIES: Final = 100  # properties in all (Azure's limit; OpenAI's is higher)
CHAPTER_SECONDS: Final = 300  # the made-up notes' chapter length
MERGED_CHAPTERS: Final = 8  # at most, in merged notes
TAKEN: Final = "I can take that on"  # a line saying it is a decision in the made-up notes
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LINE = re.compile(r"^(?:#(\d+) )?\[(\d+(?::\d{2}){1,2})\] ([^:\n]+): (.*)$", re.MULTILINE)
FABRICATED: Final = "we agreed to triple the marketing budget"
_PART = re.compile(r"^Part \d+ \[[^\]]*\] = [^:]* s: (\{.*\})$", re.MULTILINE)

MISINDEXED: Final = 1_000_000  # a line number no transcript here reaches
ANSWER_SCHEMA: Final = "meeting_answer"
Misbehaviour = Literal[
    "malformed", "invalid", "refusal", "length", "filtered", "fabricate", "misindex", "decline"
]
JsonObject = dict[str, Any]


@dataclass
class Chat:
    """One chat request as the server saw it; `record` has its path, credential and the status answered."""

    record: RecordedRequest
    body: JsonObject
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answer: str | None = None

    @property
    def status(self) -> int:
        return self.record.status

    @property
    def messages(self) -> list[JsonObject]:
        return list(self.body.get("messages") or [])

    @property
    def system(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "system")

    @property
    def user(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "user")

    @property
    def max_completion_tokens(self) -> int:
        return int(self.body.get("max_completion_tokens") or 0)

    @property
    def response_format(self) -> JsonObject | None:
        value = self.body.get("response_format")
        return value if isinstance(value, dict) else None

    def transcript_lines(self) -> list[str]:
        """The transcript lines this request carried (`#7 [12:34] Alice: text`)."""
        return [match.group(0) for match in _LINE.finditer(self.user)]


class ChatServer(OpenAIServer):
    """The chat completions API on http://127.0.0.1:<free port>, with OpenAIServer's keys and hooks."""

    def __init__(
        self,
        *,
        api_keys: Collection[str] = (),
        deployments: Mapping[str, str] | None = None,
        azure_keys: Collection[str] = (),
    ) -> None:
        super().__init__(api_keys=api_keys, deployments=deployments, azure_keys=azure_keys)
        self.chats: list[Chat] = []
        self._misbehaviours: list[Misbehaviour] = []

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._not_found], client_max_size=self.max_content_bytes)
        # OpenAIServer's request handling (credentials, deployments, failures), with the chat body and answer
        # below in place of the transcription's form and answer.
        app.router.add_post("/v1/chat/completions", self._transcribe)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._transcribe)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    # --- test hooks ------------------------------------------------------------------------------------

    def misbehave_next(self, n: int, how: Misbehaviour) -> None:
        """Answer the next `n` requests that pass the checks with this kind of unusable answer."""
        self._misbehaviours.extend([how] * n)

    def behave(self) -> None:
        """Forget the misbehaviours not used yet."""
        self._misbehaviours.clear()

    @property
    def answered(self) -> list[Chat]:
        """The requests answered 200."""
        return [chat for chat in self.chats if chat.status == 200]

    # --- OpenAIServer's steps, for chat ----------------------------------------------------------------

    async def _read_form(self, request: web.Request, record: RecordedRequest) -> MultiDictProxy[Any]:
        form = await super()._read_form(request, record)  # the size limit; a JSON body leaves the form empty
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise _bad("We could not parse the JSON body of your request.", None, None) from None
        if not isinstance(body, dict):
            raise _bad("The request body must be a JSON object.", None, None)
        record.fields["model"] = [str(body.get("model", ""))]
        self.chats.append(Chat(record, body))
        return form

    @staticmethod
    def _openai_model(record: RecordedRequest) -> str:
        model = record.model
        if model is not None and model in CONTEXT_WINDOWS:
            return model
        OpenAIServer._openai_model(record)  # refuses a missing or unknown model as OpenAI does
        message = "This is not a chat model and thus not supported in the v1/chat/completions endpoint."
        raise _ApiError(404, message, code="model_not_found")

    def _transcription(self, form: MultiDictProxy[Any], record: RecordedRequest, model: str) -> web.Response:
        chat = next(c for c in reversed(self.chats) if c.record is record)
        messages = _checked_messages(chat.body)
        response_format = _checked_format(chat.body)
        limit = chat.max_completion_tokens
        if limit <= 0:
            raise _bad("max_completion_tokens must be a positive integer", "max_completion_tokens")
        tokenizer = tokenizer_for(model)
        chat.prompt_tokens = tokenizer.count_request(messages, response_format)
        window = CONTEXT_WINDOWS.get(model, 128_000)
        if chat.prompt_tokens + limit > window:
            message = (
                f"This model's maximum context length is {window} tokens. However, you requested "
                f"{chat.prompt_tokens + limit} tokens. Please reduce the length of the messages or "
                "completion."
            )
            raise _bad(message, "messages", "context_length_exceeded")
        how = self._misbehaviours.pop(0) if self._misbehaviours else None
        content, refusal, finish = _answer(chat, how)
        # Answers are counted exactly where the encoding is at hand; else as English averages (4 bytes a
        # token), since the conservative bound would cut notes a model would have finished.
        count = tokenizer.count if tokenizer.exact else _estimate
        if content is not None and count(content) > limit:
            content, finish = _cut(content, limit, count), "length"
        chat.answer = content
        chat.completion_tokens = count(content or refusal or "")
        return web.json_response(
            _completion(model, content, refusal, finish, chat.prompt_tokens, chat.completion_tokens)
        )


# --- strict structured outputs ---------------------------------------------------------------------------


def strict_schema_problems(schema: Any) -> list[str]:
    """Why strict structured outputs would refuse `schema` (empty: it accepts it): the root an object; every
    object closed (`additionalProperties: false`) with all its properties required; only supported keywords
    (no minLength, minimum, format, default, oneOf, allOf...); types among JSON Schema's; `$ref`s resolving
    into `$defs`; at most MAX_DEPTH levels and MAX_PROPERTIES properties."""
    if not isinstance(schema, dict) or schema.get("type") != "object" or "anyOf" in schema:
        return ["the root must be an object (not anyOf)"]
    problems: list[str] = []
    defs = schema.get("$defs", {})
    counted = _walk(schema, "#", defs, 0, problems)
    counted += sum(_walk(node, f"#/$defs/{name}", defs, 0, problems) for name, node in defs.items())
    if counted > MAX_PROPERTIES:
        problems.append(f"{counted} properties, more than {MAX_PROPERTIES}")
    return problems


def _walk(node: Any, where: str, defs: Mapping[str, Any], depth: int, problems: list[str]) -> int:
    """Checks one schema node and those below it; returns how many properties they declare."""
    if not isinstance(node, dict):
        problems.append(f"{where}: a schema must be an object")
        return 0
    if depth > MAX_DEPTH:
        problems.append(f"{where}: nested deeper than {MAX_DEPTH} levels")
        return 0
    problems += [f"{where}: '{key}' is not supported" for key in node if key not in SCHEMA_KEYWORDS]
    _check_type(node, where, defs, problems)
    counted = 0
    properties = node.get("properties")
    if isinstance(properties, dict):
        _check_object(node, properties, where, problems)
        counted += len(properties)
        for name, child in properties.items():
            counted += _walk(child, f"{where}/properties/{name}", defs, depth + 1, problems)
    if "items" in node:
        counted += _walk(node["items"], f"{where}/items", defs, depth + 1, problems)
    for index, branch in enumerate(node.get("anyOf", [])):
        counted += _walk(branch, f"{where}/anyOf/{index}", defs, depth + 1, problems)
    return counted


def _check_type(node: Mapping[str, Any], where: str, defs: Mapping[str, Any], problems: list[str]) -> None:
    ref = node.get("$ref")
    if ref is not None:
        if not (ref == "#" or (ref.startswith("#/$defs/") and ref[len("#/$defs/") :] in defs)):
            problems.append(f"{where}: $ref {ref!r} does not resolve")
        return
    if "anyOf" in node:
        return
    declared = node.get("type")
    types = declared if isinstance(declared, list) else [declared]
    if not types or not all(t in TYPES for t in types):
        problems.append(f"{where}: 'type' must be one of {sorted(TYPES)} or a list of them, not {declared!r}")
    if "object" in types and "properties" not in node:
        problems.append(f"{where}: an object must declare its properties")


def _check_object(
    node: Mapping[str, Any], properties: Mapping[str, Any], where: str, problems: list[str]
) -> None:
    if node.get("additionalProperties") is not False:
        problems.append(f"{where}: 'additionalProperties' is required to be supplied and to be false")
    missing = [name for name in properties if name not in node.get("required", [])]
    if missing:
        problems.append(f"{where}: 'required' is required to include every property; missing {missing}")


def _checked_format(body: Mapping[str, Any]) -> JsonObject:
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        raise _bad("response_format must be a json_schema (the summarizer relies on it)", "response_format")
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not _NAME.fullmatch(str(spec.get("name", ""))):
        raise _bad("json_schema.name must be 1-64 letters, digits, '_' or '-'", "response_format")
    if spec.get("strict") is not True:
        raise _bad("json_schema.strict must be true (the answer must follow the schema)", "response_format")
    problems = strict_schema_problems(spec.get("schema"))
    if problems:
        message = f"Invalid schema for response_format '{spec['name']}': {'; '.join(problems[:3])}"
        raise _bad(message, "response_format", "invalid_json_schema")
    return response_format


def _checked_messages(body: Mapping[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty array", "messages", "missing_required_parameter")
    for index, message in enumerate(messages):
        if not (isinstance(message, dict) and message.get("role") in ("system", "user", "assistant")):
            raise _bad(f"Invalid value for 'messages[{index}].role'", f"messages[{index}].role")
        if not isinstance(message.get("content"), str):
            raise _bad(f"messages[{index}].content must be a string", f"messages[{index}].content")
    return messages


# --- answers ---------------------------------------------------------------------------------------------


def _answer(chat: Chat, how: Misbehaviour | None) -> tuple[str | None, str | None, str]:
    """(content, refusal, finish_reason) for this request."""
    if how == "refusal":
        return None, "I'm sorry, I can't help with that request.", "stop"
    if how == "filtered":
        return None, None, "content_filter"
    if how == "malformed":
        return '{"overview": "The meeting', None, "stop"
    spec = (chat.response_format or {}).get("json_schema") or {}
    if spec.get("name") == ANSWER_SCHEMA:
        content = json.dumps(_answer_of(chat.user, how), ensure_ascii=False)
        if how == "length":
            return content[: len(content) // 2], None, "length"
        return content, None, "stop"
    notes = _notes_of(chat.user)
    if how == "invalid":
        notes["chapters"] = [
            {"title": "Backwards", "start": 60, "end": 30, "summary": "Ends before it starts."}
            | _cites(0, "")
        ]
    if how == "fabricate":
        for name in ("keyPoints", "decisions", "actionItems", "chapters", "openQuestions"):
            for item in notes[name]:
                item["quote"] = FABRICATED
    if how == "misindex":
        _misindex(notes, chat.user)
    content = json.dumps(notes, ensure_ascii=False)
    if how == "length":
        return content[: len(content) // 2], None, "length"
    return content, None, "stop"


def _misindex(notes: JsonObject, user: str) -> None:
    """Every item's line moved: by turns past the transcript, and to a line that does not hold its quote."""
    lines = {int(m.group(1)): _plain(m.group(4)) for m in _LINE.finditer(user) if m.group(1) is not None}
    position = 0
    for name in ("keyPoints", "decisions", "actionItems", "chapters", "openQuestions"):
        for item in notes[name]:
            quote = f" {_plain(item['quote'])} "
            elsewhere = [n for n, text in lines.items() if quote not in f" {text} "]
            wrong = elsewhere[position % len(elsewhere)] if elsewhere and position % 2 else MISINDEXED
            item["segments"] = [wrong]
            position += 1


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _answer_of(user: str, how: Misbehaviour | None) -> JsonObject:
    """An answer from the request's numbered lines sharing most words with its question."""
    asked = next(
        (line[len("Question: ") :] for line in user.splitlines() if line.startswith("Question: ")), ""
    )
    wanted = {word for word in _plain(asked).split() if len(word) > 3}
    scored = sorted(
        (
            (len(wanted & set(_plain(m.group(4)).split())), int(m.group(1)), m.group(4))
            for m in _LINE.finditer(user)
            if m.group(1) is not None
        ),
        key=lambda found: (-found[0], found[1]),
    )
    best = [(number, text) for shared, number, text in scored[:2] if shared]
    if how == "decline" or not best:
        return {"answerable": False, "answer": "", "citations": []}
    citations = [{"line": number, "quote": _words(text, 5)} for number, text in best]
    if how == "fabricate":
        citations = [{**c, "quote": FABRICATED} for c in citations]
    if how == "misindex":
        citations = [{**c, "line": MISINDEXED} for c in citations]
    return {"answerable": True, "answer": f"From the recordings: {best[0][1]}", "citations": citations}


def _notes_of(user: str) -> JsonObject:
    parts = [json.loads(match.group(1)) for match in _PART.finditer(user)]
    if parts:
        return _merged(parts)
    lines = [
        (_seconds(m.group(2)), m.group(3), m.group(4), int(m.group(1) or 0)) for m in _LINE.finditer(user)
    ]
    return _from_lines(lines)


def _cites(number: int, text: str) -> JsonObject:
    return {"segments": [number], "quote": _words(text, 5)}


def _seconds(stamp: str) -> int:
    total = 0
    for unit in stamp.split(":"):
        total = total * 60 + int(unit)
    return total


def _words(text: str, n: int = 8) -> str:
    return " ".join(text.split()[:n])


def _from_lines(lines: Sequence[tuple[int, str, str, int]]) -> JsonObject:
    """Notes of transcript lines: a chapter every CHAPTER_SECONDS, about the size a model writes."""
    speakers = list(dict.fromkeys(name for _, name, _, _ in lines))
    groups: list[list[tuple[int, str, str, int]]] = []
    for line in lines:
        if not groups or line[0] >= groups[-1][0][0] + CHAPTER_SECONDS:
            groups.append([])
        groups[-1].append(line)
    chapters = [
        {
            "title": _words(group[0][2], 4),
            "start": group[0][0],
            "end": groups[i + 1][0][0] if i + 1 < len(groups) else group[-1][0],
            "summary": _words(group[0][2], 20),
        }
        | _cites(group[0][3], group[0][2])
        for i, group in enumerate(groups)
    ]
    firsts = {name: (text, number) for _, name, text, number in reversed(lines)}
    return {
        "overview": f"{len(lines)} utterances by {len(speakers)} speakers: {_words(lines[0][2], 12)}"
        if lines
        else "Nothing was said.",
        # A handful, as a model writes them: one per chapter with a quote each outgrows the 2,000 tokens.
        "keyPoints": [
            {"text": _words(group[0][2], 12)} | _cites(group[0][3], group[0][2]) for group in groups
        ][:6],
        "decisions": [
            {"text": f"{name} takes it on: {_words(text, 8)}"} | _cites(number, text)
            for _, name, text, number in lines
            if TAKEN in text
        ][:3],
        "actionItems": [
            {"owner": name, "task": f"Follow up on: {_words(firsts[name][0], 8)}", "due": None}
            | _cites(firsts[name][1], firsts[name][0])
            for name in speakers
        ],
        "chapters": chapters,
        "openQuestions": [
            {"text": text.rsplit(". ", 1)[-1]} | _cites(number, text.rsplit(". ", 1)[-1])
            for _, _, text, number in lines
            if text.endswith("?")
        ][:3],
    }


def _merged(parts: Sequence[JsonObject]) -> JsonObject:
    chapters = sorted((c for part in parts for c in part["chapters"]), key=lambda c: (c["start"], c["end"]))
    size = max(1, -(-len(chapters) // MERGED_CHAPTERS))  # neighbours joined, as a model would
    joined = [
        {**run[0], "end": max(c["end"] for c in run)}
        for run in (chapters[i : i + size] for i in range(0, len(chapters), size))
    ]
    return {
        "overview": f"A meeting in {len(parts)} parts. {parts[0]['overview']}",
        "keyPoints": [point for part in parts for point in part["keyPoints"]][:6],
        # Few enough that cited items (segments and a quote each) fit the 2,000 tokens asked for.
        "decisions": _unique([d for part in parts for d in part["decisions"]])[:6],
        "actionItems": _unique([a for part in parts for a in part["actionItems"]])[:6],
        "chapters": joined,
        "openQuestions": _unique([q for part in parts for q in part["openQuestions"]])[:5],
    }


def _unique(items: Sequence[JsonObject]) -> list[JsonObject]:
    return list({json.dumps(item, sort_keys=True): item for item in items}.values())


def _estimate(text: str) -> int:
    return -(-len(text.encode()) // 4)


def _cut(content: str, limit: int, count: Callable[[str], int]) -> str:
    while content and count(content) > limit:
        content = content[: len(content) * 9 // 10]
    return content


def _completion(
    model: str, content: str | None, refusal: str | None, finish: str, prompt: int, completion: int
) -> JsonObject:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "system_fingerprint": "fp_test",
    }


# --- transcripts to summarize ------------------------------------------------------------------------------

NAMES: Final = ("Alice Martin", "Bob Okafor", "Chandra Rao", "Dmitri Volkov", "Eva Lindqvist", "Farid Haddad")
_OPENERS: Final = (
    "I think",
    "Honestly,",
    "So",
    "Right, and",
    "Well,",
    "To be fair,",
    "If you ask me,",
    "Okay,",
)
_SUBJECTS: Final = (
    "the release plan", "the onboarding flow", "our test coverage", "the billing migration", "the API limits",
    "the customer feedback", "the Q3 roadmap", "the database upgrade", "the hiring pipeline", "the budget",
)  # fmt: skip
SUBJECTS: Final = _SUBJECTS  # what the made-up meetings talk about (bench.evidence asks about them)
_VERBS: Final = (
    "needs another review", "should move to next sprint", "is mostly done", "looks risky to me",
    "depends on the vendor", "went better than expected", "is blocked on legal", "needs an owner",
)  # fmt: skip
_TAILS: Final = (
    "before the end of the month.", "because the numbers changed last week.", "and I can take that on.",
    "unless someone objects.", "so let's write it down.", "which nobody has checked yet.", "for now.",
)  # fmt: skip
_QUESTIONS: Final = (
    "Who owns the rollback plan?", "Do we have numbers for that?", "Can we ship it on Friday?",
    "What did the customer actually ask for?", "Is that in the budget?",
)  # fmt: skip


def meeting_transcript(
    minutes: float, *, speakers: int = 4, seed: int = 7, language: str = "en"
) -> Transcript:
    """A made-up meeting of `minutes`: `speakers` named people taking turns in sentences of a few seconds,
    now and then a question, with short pauses; the same for the same arguments."""
    rng = random.Random(seed)
    people = [
        Speaker(id=f"ch{i}", user_id=f"user-{i}", display_name=NAMES[i % len(NAMES)]) for i in range(speakers)
    ]
    segments: list[Segment] = []
    now, end = 0.0, minutes * 60
    while now < end:
        text = _utterance(rng)
        length = min(len(text.split()) / 2.5, end - now)  # about 150 words a minute
        speaker = people[rng.randrange(speakers)].id
        segments.append(Segment(start=round(now, 3), end=round(now + length, 3), speaker=speaker, text=text))
        now += length + rng.uniform(0.2, 1.5)
    return Transcript(
        recording_id="rec-bench", language=language, duration_seconds=end, speakers=people, segments=segments
    )


def _utterance(rng: random.Random) -> str:
    sentences = [
        f"{rng.choice(_OPENERS)} {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_TAILS)}"
        for _ in range(rng.randint(1, 3))
    ]
    if rng.random() < 0.15:
        sentences.append(rng.choice(_QUESTIONS))
    return " ".join(sentences)
