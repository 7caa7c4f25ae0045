"""`python -m devhost summarize TRANSCRIPT.json`: the summary of a transcript, as the summary job makes it.

SUMMARIZER (and its settings) picks the provider, `local` by default. Writes summary.json and summary.md
to `--out` (default: the transcript's folder) and prints what it cost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from devhost.commands import (
    EXIT_BAD_INPUT,
    EXIT_PROVIDER_REFUSED,
    EXIT_PROVIDER_UNAVAILABLE,
    sub_command,
)
from shared.ports import Summarizer, SummarizerError, SummarizerRejected
from shared.transcripts import Transcript

if TYPE_CHECKING:
    from devhost.commands import SubCommands


def add_parser(commands: SubCommands) -> None:
    parser = sub_command(
        commands,
        "summarize",
        "summarize a transcript.json with the app's summarizer (SUMMARIZER picks the provider)",
        __doc__,
    )
    parser.add_argument("transcript", type=Path, help="a transcript.json written by the app or `process`")
    parser.add_argument("--title", default=None, help="the meeting's title, for the summary's heading")
    parser.add_argument("--out", type=Path, default=None, help="default: the transcript's folder")
    parser.set_defaults(handler=summarize_command)


def summarize_command(args: argparse.Namespace) -> int:
    try:
        text = args.transcript.read_text(encoding="utf-8")
    except OSError as error:
        print(f"error: cannot read {args.transcript}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        transcript = Transcript.model_validate_json(text)
    except ValueError as error:
        print(f"error: {args.transcript} is not a transcript: {str(error).splitlines()[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return asyncio.run(summarize(transcript, args.out or args.transcript.parent, title=args.title))


async def summarize(
    transcript: Transcript,
    out: Path,
    *,
    title: str | None,
    stream: TextIO = sys.stderr,
    summarizer: Summarizer | None = None,
) -> int:
    """Writes the summary files; the exit status. `summarizer` replaces the one the settings name."""
    from shared.bootstrap import build_summarizer
    from shared.config import ConfigurationError, Settings
    from shared.secrets import SecretResolver
    from shared.summaries import Summary, to_json, to_markdown
    from shared.timefmt import now

    try:
        settings = Settings()
    except ConfigurationError as error:
        print(f"error: {error}", file=stream)
        return EXIT_BAD_INPUT
    secrets = SecretResolver(settings.key_vault_url)
    summarizer = summarizer or build_summarizer(settings, secrets)
    print(f"summarizing {len(transcript.segments)} segments with {summarizer.name}", file=stream)
    try:
        made = await summarizer.summarize(transcript, title=title)
    except SummarizerRejected as error:
        print(f"error: {summarizer.name} could not summarize it: {error}", file=stream)
        return EXIT_PROVIDER_REFUSED
    except SummarizerError as error:
        print(f"error: {summarizer.name} is unavailable: {error}", file=stream)
        return EXIT_PROVIDER_UNAVAILABLE
    finally:
        await summarizer.aclose()
        await secrets.aclose()
    summary = Summary(**made.content.model_dump(), model=summarizer.name, generated_at=now())
    await asyncio.to_thread(
        _write, out, {"summary.json": to_json(summary), "summary.md": to_markdown(summary, title=title)}
    )
    usage = made.usage
    print(
        f"{len(summary.decisions)} decisions, {len(summary.action_items)} action items, "
        f"{len(summary.chapters)} chapters ({usage.requests} requests, {usage.input_tokens} tokens in, "
        f"{usage.output_tokens} out) -> {out}/summary.{{json,md}}",
        file=stream,
    )
    return 0


def _write(out: Path, files: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
