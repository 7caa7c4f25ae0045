"""Evidence of summary items and of answers: the share that checks out, offline and through OpenAI, and
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

And questions asked of each meeting (`POST .../ask`'s own `answer_from`, over its transcript and offline
notes): what it talks about (the made-up meetings' subjects, the corpus meetings' keywords). Every source an
answer gives must check out (its quote occurs in the transcript within its span), offline and through the
stand-in; then with the stand-in quoting words nobody said, or citing lines it was not shown, in every
answer: each such citation caught (its quote replaced by the transcript's, or the citation dropped).
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
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from shared.adapters.local_answerer import LocalAnswerer
from shared.adapters.local_summarizer import LocalSummarizer
from shared.adapters.openai_answerer import build_openai_answerer
from shared.adapters.openai_summarizer import build_openai_summarizer
from shared.config import Settings
from shared.domain.errors import DomainError
from shared.notes.evidence import Counts, cite, counts, occurs
from shared.notes.retrieval import Passage, passages_of
from shared.ports import Answerer, Summarizer, SummarizerError
from shared.secrets import SecretResolver
from shared.services.ask import Answer, answer_from
from shared.summaries import Notes
from shared.transcripts import Segment, Speaker, Transcript
from tests.chat_server import SUBJECTS, ChatServer, Misbehaviour, meeting_transcript

MODEL = "gpt-4o-mini"
KEY = "sk-bench"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
GENERATED = ((10, 3, 1), (60, 4, 2), (150, 5, 3))  # minutes, speakers, seed
LIES: tuple[Misbehaviour, ...] = ("fabricate", "misindex")


@dataclass(frozen=True)
class Meeting:
    name: str
    transcript: Transcript
    questions: tuple[str, ...]


@dataclass
class Asked:
    """Questions asked: sources given and those checking out; citations a lying model made, and caught."""

    questions: int = 0
    answered: int = 0
    sources: int = 0
    good: int = 0
    lies: dict[str, Counts] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    meeting: Meeting
    offline: Counts
    openai: Counts
    lies: dict[str, Counts]
    offline_asked: Asked
    openai_asked: Asked


def generated() -> list[Meeting]:
    return [
        Meeting(
            f"generated {minutes} min, {speakers} speakers",
            meeting_transcript(minutes, speakers=speakers, seed=seed),
            tuple(f"What was said about {subject}?" for subject in SUBJECTS),
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
        questions = tuple(f"What about the {keyword}?" for keyword in data.get("keywords", []))
        found.append(Meeting(f"corpus {truth.parent.name}", transcript, questions))
    return found


async def checked(summarizer: Summarizer, meeting: Meeting) -> Counts:
    return counts(await notes_of(summarizer, meeting))


async def notes_of(summarizer: Summarizer, meeting: Meeting) -> Notes:
    """The summarizer's notes of the meeting, their evidence made and checked as the summary job does."""
    made = await summarizer.summarize(meeting.transcript, title=meeting.name)
    return cite(made.content, made.sources, meeting.transcript)


def source_checks_out(transcript: Transcript, answer: Answer) -> list[bool]:
    """For each source: whether its quote occurs in the transcript's segments within its span."""
    return [
        occurs(
            source.quote,
            " ".join(s.text for s in transcript.segments if s.start >= source.start and s.end <= source.end),
        )
        for source in answer.sources
    ]


async def ask(answerer: Answerer, meeting: Meeting, passages: Sequence[Passage]) -> Asked:
    asked = Asked()
    transcripts = {meeting.transcript.recording_id: meeting.transcript}
    for question in meeting.questions:
        answer = await answer_from(answerer, question, passages, transcripts, title=meeting.name)
        checks = source_checks_out(meeting.transcript, answer)
        asked.questions += 1
        asked.answered += bool(answer.sources)
        asked.sources += len(checks)
        asked.good += sum(checks)
    return asked


async def ask_lying(
    server: ChatServer, answerer: Answerer, meeting: Meeting, passages: Sequence[Passage]
) -> dict[str, Counts]:
    """Per lie: the citations the stand-in made (`items`) and those caught (`unverified`): a fabricated
    quote must not come back in a source, a line not shown must not become one."""
    transcripts = {meeting.transcript.recording_id: meeting.transcript}
    lies: dict[str, Counts] = {}
    for how in LIES:
        made = leaked = 0
        for question in meeting.questions:
            before = len(server.answered)
            server.misbehave_next(1, how)
            try:
                answer = await answer_from(answerer, question, passages, transcripts, title=meeting.name)
            finally:
                server.behave()
            for chat in server.answered[before:]:
                made += len(json.loads(chat.answer or "{}").get("citations", []))
            checks = source_checks_out(meeting.transcript, answer)
            leaked += len(checks) if how == "misindex" else checks.count(False)
        lies[how] = Counts(items=made, unverified=made - leaked)
    return lies


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
        answerer = build_openai_answerer(settings, resolver)
        try:
            for meeting in meetings:
                honest = await checked(summarizer, meeting)
                notes = await notes_of(offline, meeting)
                passages = passages_of(meeting.transcript.recording_id, meeting.transcript, notes)
                offline_asked = await ask(LocalAnswerer(), meeting, passages)
                openai_asked = await ask(answerer, meeting, passages)
                openai_asked.lies = await ask_lying(server, answerer, meeting, passages)
                lies: dict[str, Counts] = {}
                for how in LIES:
                    server.misbehave_next(10_000, how)  # every request of this summary, parts and merges
                    try:
                        lies[how] = await checked(summarizer, meeting)
                    finally:
                        server.behave()
                rows.append(Row(meeting, counts(notes), honest, lies, offline_asked, openai_asked))
        finally:
            await answerer.aclose()
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
    report_asked(rows)


def report_asked(rows: Sequence[Row]) -> None:
    print("\nAsking each meeting what it talks about: sources that check out (quote within its span), and")
    print(
        "the stand-in's citations caught when it quotes words nobody said or cites lines it was not shown\n"
    )
    print(
        f"  {'meeting':<34} {'questions':>9}  {'offline sources ok':>18}  {'openai sources ok':>17}"
        f"  {'fabricated quotes caught':>24}  {'wrong lines caught':>18}"
    )
    for row in rows:
        off, on = row.offline_asked, row.openai_asked
        print(
            f"  {row.meeting.name:<34} {off.questions:>9}  {f'{off.good}/{off.sources}':>18}"
            f"  {f'{on.good}/{on.sources}':>17}  {caught(on.lies['fabricate']):>24}"
            f"  {caught(on.lies['misindex']):>18}"
        )
    offline = [r.offline_asked for r in rows]
    openai = [r.openai_asked for r in rows]
    good = sum(a.good for a in offline + openai)
    sources = sum(a.sources for a in offline + openai)
    answered = sum(a.answered for a in openai)
    asked = sum(a.questions for a in openai)
    print(f"\n  questions the stand-in answered with sources     {answered}/{asked}")
    print(f"  every source checks out (offline and openai)     {good}/{sources} {verdict(good == sources)}")
    for how, label in (("fabricate", "fabricated quote"), ("misindex", "wrong line")):
        made = sum(a.lies[how].items for a in openai)
        kept = sum(a.lies[how].unverified for a in openai)
        print(f"  every {label + ' caught':<43}{kept}/{made} {verdict(made > 0 and kept == made)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus, used where present")
    parser.add_argument("--budget", type=int, default=32_000, help="SUMMARY_TOKEN_BUDGET (default 32000)")
    args = parser.parse_args(argv)
    meetings = generated() + corpus(args.corpus)
    try:
        report(asyncio.run(measure(meetings, args.budget)))
    except (SummarizerError, DomainError, RuntimeError, ValueError) as error:
        print(f"evidence bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
