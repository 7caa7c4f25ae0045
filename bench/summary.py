"""A three-hour meeting through the OpenAI summarizer, against the local chat completions stand-in.

The transcript is generated at bench time (seeded, not timed): several named speakers taking turns in
sentences of a few seconds, about 150 words a minute, now and then a question, with short pauses. The adapter
runs as in production: `build_openai_summarizer` from Settings (SUMMARIZER=openai, SUMMARY_TOKEN_BUDGET), the
real `openai` SDK over HTTP to tests/chat_server.py on 127.0.0.1, which checks each request (strict schema,
key) and counts it with the same tokenizer the adapter budgets with (shared/tokens.py: o200k_base where
tiktoken's cache has it, else the UTF-8 bound; the header line says which).

For each budget, side by side in one run: the requests made (parts and merges), the largest request (prompt
plus the answer tokens it reserves) beside the budget, the prompt tokens sent in all, and those over the
transcript's own tokens (its lines as the model reads them), split into the transcript's lines, the prompts
and schema every request repeats, and the parts' notes sent to be merged. Goals: the largest request within
the budget, and sent / transcript at most 1.3. The stand-in writes notes of about the size a model writes
(a chapter every five minutes); a model's longer notes would raise the merge share. It prints; it does not
gate: the exit code is 0 whether a goal passes or fails, and non-zero only when the bench cannot run.

    python -m bench.summary [--minutes 180] [--speakers 5] [--seed 1] [--budget 32000 --budget 16000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from shared.adapters.openai_summarizer import build_openai_summarizer, clock, transcript_lines
from shared.config import Settings
from shared.ports import SummarizerError
from shared.secrets import SecretResolver
from shared.tokens import Tokenizer, tokenizer_for
from shared.transcripts import Transcript
from tests.chat_server import Chat, ChatServer, meeting_transcript

MODEL = "gpt-4o-mini"
KEY = "sk-bench"
GOAL_RATIO = 1.3


@dataclass(frozen=True)
class Run:
    budget: int
    parts: int
    merges: int
    largest: int  # prompt + reserved answer of the largest request
    sent: int  # prompt tokens of all requests
    lines: int  # of which the transcript's lines
    notes: int  # of which the parts' notes sent to be merged
    seconds: float

    @property
    def requests(self) -> int:
        return self.parts + self.merges

    @property
    def repeated(self) -> int:
        """Prompts, headers, schema and chat format: what every request carries besides its content."""
        return self.sent - self.lines - self.notes


async def summarize(server: ChatServer, transcript: Transcript, budget: int) -> Run:
    settings = Settings(
        summarizer="openai",
        openai_api_key=SecretStr(KEY),
        openai_base_url=server.base_url,
        summary_model=MODEL,
        summary_token_budget=budget,
    )
    server.chats.clear()
    server.requests.clear()
    summarizer = build_openai_summarizer(settings, SecretResolver(None))
    try:
        started = time.perf_counter()
        await summarizer.summarize(transcript, title="Quarterly planning")
        seconds = time.perf_counter() - started
    finally:
        await summarizer.aclose()
    return measured(server.chats, budget, seconds, tokenizer_for(MODEL))


def measured(chats: Sequence[Chat], budget: int, seconds: float, tokenizer: Tokenizer) -> Run:
    answered = [chat for chat in chats if chat.status == 200]
    if len(answered) != len(chats):
        raise RuntimeError(f"the stand-in refused {len(chats) - len(answered)} request(s)")

    def tokens_of(lines: Sequence[str]) -> int:
        return sum(tokenizer.count(line + "\n") for line in lines)

    notes = [[line for line in chat.user.splitlines() if line.startswith("Part ")] for chat in answered]
    return Run(
        budget=budget,
        parts=sum("This is part" in chat.system for chat in answered),
        merges=sum("You merge" in chat.system for chat in answered),
        largest=max(chat.prompt_tokens + chat.max_completion_tokens for chat in answered),
        sent=sum(chat.prompt_tokens for chat in answered),
        lines=sum(tokens_of(chat.transcript_lines()) for chat in answered),
        notes=sum(tokens_of(part_lines) for part_lines in notes),
        seconds=seconds,
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(transcript: Transcript, own: int, runs: Sequence[Run], tokenizer: Tokenizer) -> None:
    print(
        f"Summary of a {clock(transcript.duration_seconds)} meeting: {len(transcript.segments):,} segments, "
        f"{len(transcript.speakers)} speakers; tokens counted as {tokenizer.describe()}"
    )
    print(f"transcript's own tokens (its lines as the model reads them): {own:,}\n")
    print(
        f"  {'budget':>8}  {'requests':>8}  {'parts+merges':>12}  {'largest / budget':>17}  {'within':>6}  "
        f"{'sent':>9}  {'sent/transcript':>15}  {'goal <=1.3':>10}  {'time':>6}"
    )
    for run in runs:
        ratio = run.sent / own
        print(
            f"  {run.budget:>8,}  {run.requests:>8}  {f'{run.parts}+{run.merges}':>12}  "
            f"{f'{run.largest:,} / {run.budget:,}':>17}  {verdict(run.largest <= run.budget):>6}  "
            f"{run.sent:>9,}  {ratio:>15.3f}  {verdict(ratio <= GOAL_RATIO):>10}  {run.seconds:>5.2f}s"
        )
    print("\n  sent, split: transcript lines + prompts/schema repeated per request + parts' notes merged")
    for run in runs:
        print(
            f"  {run.budget:>8,}  {run.lines:,} ({run.lines / own:.3f}) + {run.repeated:,} "
            f"({run.repeated / own:.3f}) + {run.notes:,} ({run.notes / own:.3f})"
        )


async def bench(minutes: float, speakers: int, seed: int, budgets: Sequence[int]) -> None:
    transcript = meeting_transcript(minutes, speakers=speakers, seed=seed)
    tokenizer = tokenizer_for(MODEL)
    own = sum(tokenizer.count(line.text + "\n") for line in transcript_lines(transcript))
    async with ChatServer(api_keys={KEY}) as server:
        runs = [await summarize(server, transcript, budget) for budget in budgets]
    report(transcript, own, runs, tokenizer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=180, help="meeting length (default 180)")
    parser.add_argument("--speakers", type=int, default=5, help="people taking turns (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--budget",
        type=int,
        action="append",
        help="SUMMARY_TOKEN_BUDGET, repeatable (default 32000 and 16000)",
    )
    args = parser.parse_args(argv)
    if args.minutes <= 0 or not 1 <= args.speakers <= 6:
        parser.error("--minutes must be positive and --speakers 1 to 6")
    try:
        asyncio.run(bench(args.minutes, args.speakers, args.seed, args.budget or [32_000, 16_000]))
    except (SummarizerError, RuntimeError, ValueError) as error:
        print(f"summary bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
