"""The local ACS stand-in's real-time transcription: a recording file played as the call's audio.

What ACS does once connected with transcription, offline: the file is decoded as the call goes on (in
real time, or `speed` times faster), each stretch of speech goes through the offline transcriber when the
call has "reached" its end, and the results reach the transport URL as ACS sends them (a WebSocket with
the signed token in its Authorization header, `TranscriptionMetadata` first, then `TranscriptionData`:
an `Intermediate` result with the first words, then the `Final` one). When the file ends, the call ends:
Call Automation's `CallDisconnected` event goes to the callback URL. A dropped WebSocket is reconnected
and the result that could not be sent is sent again, as ACS does (so the service sees duplicates).

The transcriber gives segments, not words: a segment's words are spread evenly over it, so word offsets
are approximate (ACS's come from the recognizer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.live_captions import transcription_data, transcription_metadata
from shared.ports import Transcriber

log = logging.getLogger(__name__)

RECONNECTS = 5
_END = object()


@dataclass(frozen=True, slots=True)
class CallStream:
    call_connection_id: str
    transport_url: str
    callback_url: str
    locale: str
    token: Callable[[], str]  # a fresh signed token for each connection and callback


def spread_words(text: str, start: float, end: float) -> list[tuple[str, float, float]]:
    words = text.split()
    if not words:
        return []
    step = max(end - start, 0.0) / len(words)
    return [(w, round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i, w in enumerate(words)]


async def play(
    stream: CallStream,
    source: Path,
    speakers: Sequence[str],
    transcriber: Transcriber,
    *,
    speed: float = 1.0,
    sent: Callable[[str], None] | None = None,
) -> None:
    """Plays `source` into the call: channel i is spoken by `speakers[i]` (ACS raw ids); a mono file by
    the first. `sent` hears every message as it goes out (benchmarks time them)."""
    import aiohttp  # noqa: PLC0415

    from shared.media import iter_pieces  # noqa: PLC0415 - PyAV loads only when a call is played

    if speed <= 0:
        raise ValueError("speed must be positive")
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[Any] = asyncio.Queue(maxsize=8)
    stop = threading.Event()

    def decode() -> None:
        try:
            for piece in iter_pieces(source, per_channel=len(speakers) > 1, max_piece_seconds=15):
                if stop.is_set():
                    return
                asyncio.run_coroutine_threadsafe(pieces.put(piece), loop).result()
        except Exception as exc:
            log.warning("the call's audio could not be decoded further: %s", exc)
        finally:
            if not stop.is_set():
                asyncio.run_coroutine_threadsafe(pieces.put(_END), loop).result()

    decoder = loop.run_in_executor(None, decode)
    language = stream.locale.split("-", maxsplit=1)[0].lower() or None
    started = loop.time()
    async with aiohttp.ClientSession() as session:
        socket = _Socket(session, stream)
        try:
            await socket.send(
                transcription_metadata(
                    str(uuid.uuid4()), stream.locale, stream.call_connection_id, str(uuid.uuid4())
                )
            )
            while (piece := await pieces.get()) is not _END:
                # The stretch is "heard" once the call has reached its end.
                await asyncio.sleep(max(0.0, started + piece.end_seconds / speed - loop.time()))
                speaker = speakers[piece.channel or 0] if speakers else ""
                await _send_results(socket, piece, speaker, transcriber, language, sent)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    pieces.get_nowait()
            await socket.close()
            with contextlib.suppress(Exception):
                await decoder
        await call_disconnected(session, stream)


async def _send_results(  # noqa: PLR0917 - the loop's state, handed over
    socket: _Socket,
    piece: Any,
    speaker: str,
    transcriber: Transcriber,
    language: str | None,
    sent: Callable[[str], None] | None,
) -> None:
    """A heard stretch of speech through the transcriber, as ACS's results: a first-words intermediate,
    then the final one, for each segment."""
    result = await transcriber.transcribe(piece.wav, language=language)
    for segment in result.segments:
        words = spread_words(
            segment.text, piece.start_seconds + segment.start, piece.start_seconds + segment.end
        )
        if not words:
            continue
        messages = []
        if len(words) > 1:
            half = words[: len(words) // 2]
            messages.append(transcription_data(" ".join(w for w, _, _ in half), half, speaker, final=False))
        messages.append(transcription_data(segment.text.strip(), words, speaker, final=True))
        for message in messages:
            await socket.send(message)
            if sent:
                sent(message)


async def call_disconnected(session: Any, stream: CallStream) -> None:
    """Call Automation's CallDisconnected event to the callback URL (a CloudEvent, as ACS posts them)."""
    import aiohttp  # noqa: PLC0415

    event = {
        "id": str(uuid.uuid4()),
        "source": f"calling/callConnections/{stream.call_connection_id}",
        "type": "Microsoft.Communication.CallDisconnected",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "data": {"callConnectionId": stream.call_connection_id, "resultInformation": {"code": 200}},
    }
    try:
        async with session.post(
            stream.callback_url,
            data=json.dumps([event]),
            headers={"Authorization": f"Bearer {stream.token()}", "Content-Type": "application/json"},
        ) as response:
            if response.status >= 300:
                log.warning("the captions service answered %s to CallDisconnected", response.status)
    except aiohttp.ClientError as exc:
        log.warning("CallDisconnected could not be delivered: %s", exc)


class _Socket:
    """The WebSocket to the transport URL, opened on first use and again after a drop."""

    def __init__(self, session: Any, stream: CallStream) -> None:
        self._session = session
        self._stream = stream
        self._socket: Any = None
        self._first: str | None = None  # the metadata, sent again on every new connection

    async def send(self, message: str) -> None:
        import aiohttp  # noqa: PLC0415

        if self._first is None:
            self._first = message
        for attempt in range(RECONNECTS + 1):
            try:
                if self._socket is None or self._socket.closed:
                    self._socket = await self._session.ws_connect(
                        self._stream.transport_url,
                        headers={
                            "Authorization": f"Bearer {self._stream.token()}",
                            "x-ms-call-connection-id": self._stream.call_connection_id,
                            "x-ms-call-correlation-id": self._stream.call_connection_id,
                        },
                    )
                    if message is not self._first:
                        await self._socket.send_str(self._first)
                await self._socket.send_str(message)
                return
            except (aiohttp.ClientError, ConnectionError) as exc:
                self._socket = None
                if attempt == RECONNECTS:
                    raise
                log.info("the transcription WebSocket dropped (%s): reconnecting", exc)
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))

    async def close(self) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
