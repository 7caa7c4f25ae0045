"""`python -m devhost process FILE`: the transcription pipeline on a local file, with a progress bar.

The same media preparation, transcriber (TRANSCRIBER and its settings, `local` by default) and rendering
as the transcription job, without storage or queues: it writes transcript.json, .vtt, .srt and .txt to
`--out`, then summarizes it (SUMMARIZER, `local` by default) into summary.json and summary.md.
Finished pieces are kept in `--out`/.pieces until the transcript is written, so a run that was
interrupted (Ctrl-C, a provider outage) resumes where it stopped when started again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from devhost.commands import (
    EXIT_BAD_INPUT,
    EXIT_PROVIDER_REFUSED,
    EXIT_PROVIDER_UNAVAILABLE,
    sub_command,
)
from devhost.summarize_command import summarize
from shared.media import MediaError, probe
from shared.ports import (
    Summarizer,
    Transcriber,
    TranscriberError,
    TranscriberRejected,
    TranscriptionContext,
)
from shared.transcripts import PieceResult, merge, to_json, to_srt, to_txt, to_vtt

if TYPE_CHECKING:
    from devhost.commands import SubCommands


def add_parser(commands: SubCommands) -> None:
    parser = sub_command(
        commands,
        "process",
        "transcribe a local recording with the app's pipeline (TRANSCRIBER picks the provider)",
        __doc__,
    )
    parser.add_argument("file", type=Path, help="a recording: wav, mp3, mp4, m4a, webm, ogg, flac")
    parser.add_argument(
        "--channels",
        type=parse_channels,
        default={},
        help="an unmixed recording's speakers, e.g. 0=alice,1=bob (each channel is transcribed on its own)",
    )
    parser.add_argument("--language", default=None, help="ISO 639-1, e.g. en; default: detected")
    parser.add_argument("--out", type=Path, default=None, help="default: FILE's name + .transcript")
    parser.add_argument(
        "--title", default=None, help="the meeting's title: words the recogniser should expect"
    )
    parser.add_argument("--description", default=None, help="the meeting's description, likewise")
    parser.add_argument(
        "--names",
        type=lambda text: tuple(filter(None, (name.strip() for name in text.split(",")))),
        default=(),
        help="people who speak, e.g. 'Ana Lima,Bob Stone' (with --channels' user ids, the names expected)",
    )
    parser.set_defaults(handler=process_command)


def parse_channels(text: str) -> dict[int, str]:
    channels: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        channel, sep, user = part.partition("=")
        if not sep or not channel.strip().isdigit() or not user.strip():
            raise argparse.ArgumentTypeError(f"{part!r} is not CHANNEL=USER (e.g. 0=alice)")
        if int(channel) in channels:
            raise argparse.ArgumentTypeError(f"channel {int(channel)} is given twice")
        channels[int(channel)] = user.strip()
    return channels


def context_of(
    channels: Mapping[int, str], names: Sequence[str], title: str | None, description: str | None
) -> TranscriptionContext | None:
    """What the meeting knows, as the transcription job gives it (shared.services.transcription)."""
    known = tuple(dict.fromkeys([*channels.values(), *names]))
    if not known and not title and not description:
        return None
    return TranscriptionContext(names=known, title=title, description=description)


def process_command(args: argparse.Namespace) -> int:
    out: Path = args.out or args.file.with_name(args.file.name + ".transcript")
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        context = context_of(args.channels, args.names, args.title, args.description)
        return asyncio.run(
            process(args.file, out, channels=args.channels, language=args.language, context=context)
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted: run the same command again to resume ({out}/.pieces)", file=sys.stderr)
        return 130


async def process(
    file: Path,
    out: Path,
    *,
    channels: Mapping[int, str],
    language: str | None,
    context: TranscriptionContext | None = None,
    stream: TextIO = sys.stderr,
    transcriber: Transcriber | None = None,
    summarizer: Summarizer | None = None,
) -> int:
    """Returns the exit status. `transcriber` and `summarizer` replace those the settings name (tests)."""
    from shared.bootstrap import build_transcriber
    from shared.config import ConfigurationError, Settings
    from shared.secrets import SecretResolver
    from shared.speech import in_decoder_thread, transcribe_source

    try:
        settings = Settings()
    except ConfigurationError as error:
        print(f"error: {error}", file=stream)
        return EXIT_BAD_INPUT
    pieces_dir = out / ".pieces"
    pieces_dir.mkdir(parents=True, exist_ok=True)
    finished = _load_pieces(pieces_dir)
    secrets = SecretResolver(settings.key_vault_url)
    transcriber = transcriber or build_transcriber(settings, secrets)
    bar = ProgressBar(stream)
    try:
        declared = (await in_decoder_thread(probe, file)).duration_seconds
        bar.start(declared, resumed=len(finished), provider=transcriber.name)

        async def keep(key: str, result: PieceResult) -> None:
            (pieces_dir / f"{key}.json").write_text(result.model_dump_json(by_alias=True))
            bar.piece_done()

        speech = await transcribe_source(
            lambda: file,
            transcriber,
            per_channel=bool(channels),
            language=language,
            context=context,
            finished=finished,
            on_piece=keep,
            on_decoded=bar.decoded,
        )
    except MediaError as error:
        bar.finish()
        print(f"error: {file} cannot be transcribed: {error.detail} ({error.kind})", file=stream)
        return EXIT_BAD_INPUT
    except TranscriberRejected as error:
        bar.finish()
        print(f"error: {transcriber.name} refused the audio: {error}", file=stream)
        return EXIT_PROVIDER_REFUSED
    except TranscriberError as error:
        bar.finish()
        print(f"error: {transcriber.name} is unavailable: {error}; run again to resume", file=stream)
        return EXIT_PROVIDER_UNAVAILABLE
    finally:
        await transcriber.aclose()
        await secrets.aclose()
    bar.finish()
    transcript = merge(
        file.stem, language or speech.language or "und", speech.duration_seconds, speech.pieces, channels
    )
    for name, render in (("json", to_json), ("vtt", to_vtt), ("srt", to_srt), ("txt", to_txt)):
        (out / f"transcript.{name}").write_text(render(transcript), encoding="utf-8")
    for piece in pieces_dir.glob("*.json"):
        piece.unlink()
    pieces_dir.rmdir()
    print(
        f"{len(transcript.segments)} segments from {speech.duration_seconds:.1f} s of audio "
        f"({speech.transcribed} pieces transcribed now) -> {out}/transcript.{{json,vtt,srt,txt}}",
        file=stream,
    )
    return await summarize(
        transcript,
        out,
        title=context.title if context is not None and context.title else file.stem,
        stream=stream,
        summarizer=summarizer,
    )


def _load_pieces(directory: Path) -> dict[str, PieceResult]:
    return {path.stem: PieceResult.model_validate_json(path.read_text()) for path in directory.glob("*.json")}


class ProgressBar:
    """One line, redrawn at most ten times a second: share of the audio decoded, pieces, elapsed time."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._total: float | None = None
        self._decoded = 0.0
        self._pieces = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._interactive = stream.isatty()

    def start(self, total_seconds: float | None, *, resumed: int, provider: str) -> None:
        self._total = total_seconds
        length = f"{total_seconds:.0f} s of audio" if total_seconds else "audio of unknown length"
        note = f", resuming with {resumed} pieces done" if resumed else ""
        print(f"transcribing {length} with {provider}{note}", file=self._stream)

    def decoded(self, seconds: float) -> None:  # called on the decoding thread
        self._decoded = seconds
        self._draw()

    def piece_done(self) -> None:
        self._pieces += 1
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        if self._interactive:
            print(file=self._stream)

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < (0.1 if self._interactive else 5.0):
            return
        self._drawn = now
        share = min(1.0, self._decoded / self._total) if self._total else 0.0
        filled = round(share * self.WIDTH)
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} "
            f"{self._decoded:7.0f} s decoded, {self._pieces} pieces, {now - self._started:5.0f} s"
        )
        print(("\r" + line) if self._interactive else line, end="" if self._interactive else "\n",
              file=self._stream, flush=True)  # fmt: skip
