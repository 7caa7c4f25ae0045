"""`python -m devhost deliver-recording MEETING RECORDING FILE`: what ACS does when a call recording ends.

With the local communication stand-in (COMMUNICATION=local), nothing records the call: after a
recording was started and stopped through the API, this hands the stand-in the file it "recorded",
which makes ACS's `Microsoft.Communication.RecordingFileStatusUpdated` event for it, and delivers that
event to the running devhost (`--url`) as Event Grid would: `POST /runtime/webhooks/EventGrid?
functionName=call_recording_ready`. The app then fetches the file and transcribes and summarizes it.

It finds the running devhost and its data as `make run` does: `PORT` (default 7071) and `DATA_DIR`
(default .local); `--url` overrides the address. The recording counts as delivered only once devhost has
taken the event: when nothing answers, or devhost refuses it, run the command again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from devhost.commands import (
    DEFAULT_PORT,
    EXIT_BAD_INPUT,
    EXIT_PROVIDER_REFUSED,
    EXIT_PROVIDER_UNAVAILABLE,
    sub_command,
)
from devhost.process_command import parse_channels

if TYPE_CHECKING:
    from devhost.commands import SubCommands
    from shared.adapters.local_call_recording import LocalCallRecorder
    from shared.config import Settings

FUNCTION = "call_recording_ready"
# _post's outcomes besides the exit statuses: taken, or perhaps taken (the answer was lost).
EXIT_POSTED = 0
EXIT_MAYBE_POSTED = -1


def add_parser(commands: SubCommands) -> None:
    parser = sub_command(
        commands,
        "deliver-recording",
        "deliver a file as the local ACS stand-in's recording of a call, with ACS's Event Grid event",
        __doc__,
    )
    parser.add_argument("meeting", help="the meeting id")
    parser.add_argument("recording", help="the recording id the start answered")
    parser.add_argument("file", type=Path, help="what the call recording holds (its format: mp3, wav, mp4)")
    parser.add_argument(
        "--channels",
        type=parse_channels,
        default={},
        help="an unmixed recording's participants, e.g. 0=alice,1=bob (they must have joined the call)",
    )
    parser.add_argument(
        "--chunk-bytes", type=int, default=None, help="cut it into chunks, as ACS cuts long ones"
    )
    parser.add_argument(
        "--url",
        default=None,
        help=f"the running devhost (default: http://127.0.0.1:$PORT, PORT defaulting to {DEFAULT_PORT})",
    )
    parser.set_defaults(handler=deliver_command)


def default_url(environ: Mapping[str, str] = os.environ) -> str:
    """Where `make run` serves: its PORT, with its default."""
    return f"http://127.0.0.1:{environ.get('PORT') or DEFAULT_PORT}"


def deliver_command(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return EXIT_BAD_INPUT
    return asyncio.run(
        deliver(args.meeting, args.recording, args.file, channels=args.channels, chunk_bytes=args.chunk_bytes,
                url=args.url or default_url())
    )  # fmt: skip


async def deliver(
    meeting_id: str,
    recording_id: str,
    file: Path,
    *,
    channels: dict[int, str],
    chunk_bytes: int | None,
    url: str,
    stream: TextIO = sys.stderr,
) -> int:
    from shared.config import ConfigurationError, Settings

    try:
        settings = Settings()
    except ConfigurationError as error:
        print(f"error: {error}", file=stream)
        return EXIT_BAD_INPUT
    if settings.communication != "local":
        print("error: COMMUNICATION is not local: ACS itself delivers the recording's event", file=stream)
        return EXIT_BAD_INPUT
    from shared.adapters.local_call_recording import LocalCallRecorder
    from shared.ports import CallRecordingConflict

    recorder = LocalCallRecorder(settings.data_dir)
    try:
        try:
            acs_recording_id, event = await _recorded_event(
                settings, recorder, meeting_id, recording_id, file, channels=channels, chunk_bytes=chunk_bytes
            )
        except (LookupError, ValueError) as error:
            print(f"error: {error} (DATA_DIR={settings.data_dir})", file=stream)
            return EXIT_BAD_INPUT
        status = await _post(url, event, stream)
        if status == EXIT_POSTED:
            # Conflict: another run delivered it meanwhile, and the app takes the duplicate as a redelivery.
            with contextlib.suppress(CallRecordingConflict):
                await recorder.mark_delivered(acs_recording_id, event)
            return 0
        if status != EXIT_MAYBE_POSTED:
            # Not taken: the files go, and the recording stays undelivered for the next try.
            await recorder.discard_files(event)
        return EXIT_PROVIDER_UNAVAILABLE if status == EXIT_MAYBE_POSTED else status
    finally:
        await recorder.aclose()


async def _recorded_event(
    settings: Settings,
    recorder: LocalCallRecorder,
    meeting_id: str,
    recording_id: str,
    file: Path,
    *,
    channels: dict[int, str],
    chunk_bytes: int | None,
) -> tuple[str, dict[str, Any]]:
    """ACS's id of the recording and the stand-in's event for the file, not yet marked delivered."""
    from shared.bootstrap import build_store
    from shared.ports import CommunicationError

    store = build_store(settings)
    try:
        stored = await store.get_recording(meeting_id, recording_id)
        call = stored.value.call if stored is not None else None
        if call is None or call.acs_recording_id is None:
            raise LookupError(
                f"recording {recording_id} of meeting {meeting_id} is no started call recording"
            )
        participants: list[tuple[str, int]] = []
        for channel, user in sorted(channels.items()):
            identity = await store.get_identity(user)
            if identity is None:
                raise LookupError(
                    f"{user} has not joined the call (no ACS identity): join first, or leave them out"
                )
            participants.append((identity.acs_user_id, channel))
        try:
            event = await recorder.prepare_file(
                call.acs_recording_id, file, participants=participants, chunk_bytes=chunk_bytes
            )
        except CommunicationError as error:
            raise ValueError(str(error)) from error
        return call.acs_recording_id, event
    finally:
        await store.aclose()


async def _post(url: str, event: dict[str, Any], stream: TextIO) -> int:
    """EXIT_POSTED once devhost took the event; EXIT_MAYBE_POSTED when the answer was lost on the way."""
    import aiohttp

    webhook = f"{url.rstrip('/')}/runtime/webhooks/EventGrid?functionName={FUNCTION}"
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/json"}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook, data=json.dumps([event]), headers=headers) as reply,
        ):
            body = await reply.text()
    except aiohttp.ClientConnectorError as error:
        print(
            f"error: devhost is not answering at {url} ({error}): is `make run` running, on this PORT? "
            "Nothing was delivered: run this again (with its PORT=, or --url)",
            file=stream,
        )
        return EXIT_PROVIDER_UNAVAILABLE
    except aiohttp.ClientError as error:
        print(f"error: devhost's answer was lost ({error}): run this again to deliver for sure", file=stream)
        return EXIT_MAYBE_POSTED
    if reply.status >= 300:
        print(f"error: the event was not taken ({reply.status}): {body}", file=stream)
        return EXIT_PROVIDER_REFUSED
    chunks = event["data"]["recordingStorageInfo"]["recordingChunks"]
    print(f"delivered ACS's recording event ({len(chunks)} chunk(s)) to {FUNCTION} at {url}", file=stream)
    return EXIT_POSTED
