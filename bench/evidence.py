"""Evidence of summary items: the share that checks out, offline and through the OpenAI summarizer, and
whether the server catches every fabricated quote and wrong line a model may write.

Meetings: made-up ones generated at bench time (tests/chat_server.py's `meeting_transcript`: named speakers
taking turns, seeded), a short one, an hour and a long one that the OpenAI summarizer takes in parts and
merges; and, when `../shared/corpus` is there (not needed), its meetings' ground-truth transcripts.

For each meeting, every item (key points, decisions, action items, chapters, open questions) goes through
the server's own check, as the summary job does it (shared/notes/evidence.py's `cite`):
- offline: the local summarizer (`local:extractive`); goal: every item checks out;
- OpenAI: `build_openai_summarizer` (SUMMARIZER=openai) over HTTP to the local chat completions stand-in,
  the share that checks out (the stand-in quotes the line it cites, as a model asked to should);
- then the stand-in told to lie in every answer: "fabricate" (every quote words nobody said) and
  "misindex" (every item citing a line past the transcript, or another line that does not hold its quote).
  Each such item must come out unverified: caught / N, goal N / N.
It prints; it does not gate: the exit code is 0 whether a goal passes or fails, and non-zero only when the
bench cannot run.

    python -m bench.evidence [--corpus ../shared/corpus] [--budget 32000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from shared.adapters.local_summarizer import LocalSummarizer
from shared.adapters.openai_summarizer import build_openai_summarizer
from shared.config import Settings
from shared.notes.evidence import Counts, cite, counts
from shared.ports import Summarizer, SummarizerError
from shared.secrets import SecretResolver
from shared.transcripts import Segment, Speaker, Transcript
from tests.chat_server import ChatServer, Misbehaviour, meeting_transcript

MODEL = "gpt-4o-mini"
KEY = "sk-bench"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
GENERATED = ((10, 3, 1), (60, 4, 2), (150, 5, 3))  # minutes, speakers, seed
LIES: tuple[Misbehaviour, ...] = ("fabricate", "misindex")


@dataclass(frozen=True)
class Meeting:
    name: str
    transcript: Transcript


@dataclass(frozen=True)
class Row:
    meeting: Meeting
    offline: Counts
    openai: Counts
    lies: dict[str, Counts]


def generated() -> list[Meeting]:
    return [
        Meeting(
            f"generated {minutes} min, {speakers} speakers",
            meeting_transcript(minutes, speakers=speakers, seed=seed),
        )
        for minutes, speakers, seed in GENERATED
    ]


def corpus(root: Path) -> list[Meeting]:
    """The corpus meetings' ground-truth transcripts (`meetings/<name>/truth.json`), where present."""
    found: list[Meeting] = []
    for truth in sorted(root.glob("meetings/*/truth.json")):
        data = json.loads(truth.read_text(encoding="utf-8"))
        speakers = [Speaker(id=s["id"], display_name=s.get("name")) for s in data.get("speakers", [])]
        segments = [
            Segment(start=s["start"], end=s["end"], speaker=s.get("speaker"), text=s["text"])
            for s in data.get("segments", [])
        ]
        transcript = Transcript(
            recording_id=truth.parent.name,
            language=data.get("language", "en"),
            duration_seconds=data.get("durationSeconds", segments[-1].end if segments else 0.0),
            speakers=speakers,
            segments=segments,
        )
        found.append(Meeting(f"corpus {truth.parent.name}", transcript))
    return found


async def checked(summarizer: Summarizer, meeting: Meeting) -> Counts:
    """The summarizer's notes of the meeting, their evidence made and checked as the summary job does."""
    made = await summarizer.summarize(meeting.transcript, title=meeting.name)
    return counts(cite(made.content, made.sources, meeting.transcript))


async def measure(meetings: Sequence[Meeting], budget: int) -> list[Row]:
    rows: list[Row] = []
    offline = LocalSummarizer()
    async with ChatServer(api_keys={KEY}) as server:
        settings = Settings(
            summarizer="openai",
            openai_api_key=SecretStr(KEY),
            openai_base_url=server.base_url,
            summary_model=MODEL,
            summary_token_budget=budget,
        )
        resolver = SecretResolver(None)
        summarizer = build_openai_summarizer(settings, resolver)
        try:
            for meeting in meetings:
                honest = await checked(summarizer, meeting)
                lies: dict[str, Counts] = {}
                for how in LIES:
                    server.misbehave_next(10_000, how)  # every request of this summary, parts and merges
                    try:
                        lies[how] = await checked(summarizer, meeting)
                    finally:
                        server.behave()
                rows.append(Row(meeting, await checked(offline, meeting), honest, lies))
        finally:
            await summarizer.aclose()
            await resolver.aclose()
    return rows


def share(c: Counts) -> str:
    verified = c.items - c.unverified
    return f"{verified}/{c.items} ({verified / c.items:.0%})" if c.items else "0/0"


def caught(c: Counts) -> str:
    return f"{c.unverified}/{c.items}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: Sequence[Row]) -> None:
    print(
        "Evidence of summary items: the items whose evidence checks out (offline: goal every item), and the"
    )
    print(
        "items the server marks unverified when the model stand-in lies in every answer (goal: every one)\n"
    )
    header = (
        f"  {'meeting':<34} {'segments':>8}  {'offline verified':>18}  {'openai verified':>16}"
        f"  {'fabricated quotes caught':>24}  {'wrong lines caught':>18}"
    )
    print(header)
    for row in rows:
        fabricated, misindexed = caught(row.lies["fabricate"]), caught(row.lies["misindex"])
        print(
            f"  {row.meeting.name:<34} {len(row.meeting.transcript.segments):>8,}  {share(row.offline):>18}"
            f"  {share(row.openai):>16}  {fabricated:>24}  {misindexed:>18}"
        )

    def total(counted: Sequence[Counts]) -> Counts:
        return Counts(sum(c.items for c in counted), sum(c.unverified for c in counted))

    offline = total([r.offline for r in rows])
    openai = total([r.openai for r in rows])
    lies: dict[str, Counts] = {how: total([r.lies[how] for r in rows]) for how in LIES}
    print(
        f"  {'all':<34} {sum(len(r.meeting.transcript.segments) for r in rows):>8,}  {share(offline):>18}"
        f"  {share(openai):>16}  {caught(lies['fabricate']):>24}  {caught(lies['misindex']):>18}\n"
    )
    print(f"  offline: every item checks out                   {verdict(offline.unverified == 0)}")
    print(f"  openai (stand-in): share checking out            {share(openai)}")
    for how, label in (("fabricate", "fabricated quote"), ("misindex", "wrong line")):
        ok = lies[how].items > 0 and lies[how].unverified == lies[how].items
        print(f"  every {label + ' caught':<43}{caught(lies[how])} {verdict(ok)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus, used where present")
    parser.add_argument("--budget", type=int, default=32_000, help="SUMMARY_TOKEN_BUDGET (default 32000)")
    args = parser.parse_args(argv)
    meetings = generated() + corpus(args.corpus)
    try:
        report(asyncio.run(measure(meetings, args.budget)))
    except (SummarizerError, RuntimeError, ValueError) as error:
        print(f"evidence bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
