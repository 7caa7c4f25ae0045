"""`python -m devhost deliver-recording MEETING RECORDING FILE`: what ACS does when a call recording ends.

With the local communication stand-in (COMMUNICATION=local), nothing records the call: after a
recording was started and stopped through the API, this hands the stand-in the file it "recorded",
which makes ACS's `Microsoft.Communication.RecordingFileStatusUpdated` event for it, and delivers that
event to the running devhost (`--url`) as Event Grid would: `POST /runtime/webhooks/EventGrid?
functionName=call_recording_ready`. The app then fetches the file and transcribes and summarizes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from devhost.commands import (
    EXIT_BAD_INPUT,
    EXIT_PROVIDER_REFUSED,
    EXIT_PROVIDER_UNAVAILABLE,
    sub_command,
)
from devhost.process_command import parse_channels

if TYPE_CHECKING:
    from devhost.commands import SubCommands
    from shared.config import Settings

FUNCTION = "call_recording_ready"


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
    port = os.environ.get("PORT") or "7071"
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="the running devhost")
    parser.set_defaults(handler=deliver_command)


def deliver_command(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return EXIT_BAD_INPUT
    return asyncio.run(
        deliver(args.meeting, args.recording, args.file, channels=args.channels, chunk_bytes=args.chunk_bytes,
                url=args.url)
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
    try:
        event = await _recorded_event(
            settings, meeting_id, recording_id, file, channels=channels, chunk_bytes=chunk_bytes
        )
    except (LookupError, ValueError) as error:
        print(f"error: {error}", file=stream)
        return EXIT_BAD_INPUT
    return await _post(url, event, stream)


async def _recorded_event(
    settings: Settings,
    meeting_id: str,
    recording_id: str,
    file: Path,
    *,
    channels: dict[int, str],
    chunk_bytes: int | None,
) -> dict[str, Any]:
    from shared.adapters.local_call_recording import LocalCallRecorder
    from shared.bootstrap import build_store
    from shared.ports import CommunicationError

    store = build_store(settings)
    recorder = LocalCallRecorder(settings.data_dir)
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
            return await recorder.deliver_file(
                call.acs_recording_id, file, participants=participants, chunk_bytes=chunk_bytes
            )
        except CommunicationError as error:
            raise ValueError(str(error)) from error
    finally:
        await recorder.aclose()
        await store.aclose()


async def _post(url: str, event: dict[str, Any], stream: TextIO) -> int:
    import aiohttp

    webhook = f"{url.rstrip('/')}/runtime/webhooks/EventGrid?functionName={FUNCTION}"
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/json"}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook, data=json.dumps([event]), headers=headers) as reply,
        ):
            body = await reply.text()
    except aiohttp.ClientError as error:
        print(f"error: devhost is not answering at {url} ({error}): is `make run` running?", file=stream)
        return EXIT_PROVIDER_UNAVAILABLE
    if reply.status >= 300:
        print(f"error: the event was not taken ({reply.status}): {body}", file=stream)
        return EXIT_PROVIDER_REFUSED
    chunks = event["data"]["recordingStorageInfo"]["recordingChunks"]
    print(f"delivered ACS's recording event ({len(chunks)} chunk(s)) to {FUNCTION}", file=stream)
    return 0
