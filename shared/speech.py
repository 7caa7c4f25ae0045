"""A recording's audio through a transcriber: decoded and cut on a worker thread, pieces transcribed
concurrently with a bound, finished pieces reported one by one so a caller can keep them and resume.

No storage here: the transcription job and `devhost process` both run this, each with its own source
(a blob, a local file) and its own way of keeping finished pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from shared.media import MediaSource, Piece, iter_pieces
from shared.ports import Transcriber, TranscriptionContext
from shared.transcripts import PieceResult, PieceSegment

# Pieces are closed at a short pause only once they hold this share of the transcriber's maximum (else
# at a long silence): a long piece gives the recogniser context and saves requests, and cutting at a
# pause rather than at the limit keeps words whole.
TARGET_SHARE_OF_MAX = 0.25
T = TypeVar("T")
# Pieces decoded ahead of the transcriber. Decoding is far faster than any transcriber, so one waiting
# piece keeps the workers busy; each more is up to 24 MB held (a noisy channel makes maximal pieces).
QUEUED_PIECES = 1

# Decoding gets threads of its own. A decoder reading a blob waits for the event loop, and the loop's
# reads may need the default executor's threads (the local blob store reads files there): decoders
# holding every default thread would wait forever for one. Jobs beyond this many wait for a thread.
DECODER_THREADS = max(4, 2 * (os.cpu_count() or 1))
_decoders: ThreadPoolExecutor | None = None


def in_decoder_thread(work: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Runs blocking media work (PyAV decoding, probing) on a decoder thread."""
    global _decoders  # noqa: PLW0603 - one pool per process, made at first use
    if _decoders is None:
        _decoders = ThreadPoolExecutor(max_workers=DECODER_THREADS, thread_name_prefix="decoder")
    return asyncio.get_running_loop().run_in_executor(_decoders, work, *args)


Source = Callable[[], MediaSource]  # opens the recording (a path, a file); called on the decoding thread
OnPiece = Callable[[str, PieceResult], Awaitable[None]]
OnDecoded = Callable[[float], None]


# Before any piece has come back, a piece is expected to take this long per second of its audio (the
# offline recogniser's pace on a loaded machine); afterwards, the pace measured on the finished ones.
EXPECTED_SECONDS_PER_AUDIO_SECOND = 0.5
# The share of the work that is decoding and cutting (fast), the rest being the transcriber's.
DECODING_SHARE = 0.1


class SpeechProgress:
    """How far a recording's transcription has got, as a share from 0 to 0.99, moving while the work does.

    Decoding tells the seconds decoded (a small share of the work); each piece's audio counts once it is
    transcribed, and while it is in flight, by the time it has been out against the time pieces take
    (measured on the finished ones): a piece is never waited on in silence. The speech still to come is
    estimated from the speech found so far. Called from the decoding thread and the event loop.
    """

    def __init__(
        self, declared_seconds: float | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._declared = declared_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._decoded = 0.0
        self._cut = 0.0  # seconds of audio in the pieces cut so far
        self._done = 0.0  # of those, transcribed (or found transcribed by an earlier attempt)
        self._in_flight: dict[str, tuple[float, float]] = {}  # key -> (audio seconds, sent at)
        self._timed_audio = 0.0  # audio seconds of the pieces timed so far, and their time
        self._timed_seconds = 0.0
        self._high = 0.0

    def decoded(self, seconds: float) -> None:
        self._decoded = seconds

    def cut(self, audio_seconds: float) -> None:
        with self._lock:
            self._cut += audio_seconds

    def started(self, key: str, audio_seconds: float) -> None:
        with self._lock:
            self._in_flight[key] = (audio_seconds, self._clock())

    def finished(self, key: str, audio_seconds: float) -> None:
        with self._lock:
            sent = self._in_flight.pop(key, None)
            if sent is not None and audio_seconds > 0:
                self._timed_audio += audio_seconds
                self._timed_seconds += self._clock() - sent[1]
            self._done += audio_seconds

    def fraction(self) -> float | None:
        if not self._declared:
            return None
        with self._lock:
            decoded = min(1.0, self._decoded / self._declared)
            pace = (
                self._timed_seconds / self._timed_audio
                if self._timed_audio
                else EXPECTED_SECONDS_PER_AUDIO_SECOND
            )
            now = self._clock()
            moving = sum(
                audio * eased((now - sent) / max(pace * audio, 1e-3))
                for audio, sent in self._in_flight.values()
            )
            # Speech still to be decoded, at the density found so far.
            expected = self._cut + (
                self._cut / self._decoded * (self._declared - self._decoded) if self._decoded else 0
            )
            transcribed = (self._done + moving) / expected if expected > 0 else decoded
            share = DECODING_SHARE * decoded + (1 - DECODING_SHARE) * min(1.0, transcribed)
            # Never 1 before the transcript is written (the final write says done), and never backwards.
            self._high = max(self._high, min(0.99, round(share, 3)))
            return self._high


def eased(elapsed_share: float) -> float:
    """The share of a piece counted done after `elapsed_share` of the time it is expected to take: in step
    up to 90%, then creeping towards (never reaching) the whole for a piece that takes longer: slowly
    enough that one taking several times as long as expected still shows it moving."""
    if elapsed_share <= 0.9:
        return max(0.0, elapsed_share)
    return 0.9 + 0.1 * (1 - math.exp(-(elapsed_share - 0.9) / 3))


@dataclass(frozen=True, slots=True)
class SpeechResult:
    pieces: list[PieceResult]
    duration_seconds: float
    language: str | None  # what the transcriber reported, if anything
    transcribed: int  # pieces sent to the transcriber this time (the others were already finished)
    audio_seconds: float  # the audio sent to the transcriber this time


def piece_key(piece: Piece) -> str:
    """A stable name for a piece: the same recording cut with the same limits gives the same keys."""
    channel = "mix" if piece.channel is None else f"ch{piece.channel}"
    return f"{channel}-{round(piece.start_seconds * 1000):010d}"


async def transcribe_source(
    source: Source | Sequence[Source],
    transcriber: Transcriber,
    *,
    per_channel: bool,
    language: str | None,
    context: TranscriptionContext | None = None,
    finished: Mapping[str, PieceResult] | None = None,
    on_piece: OnPiece | None = None,
    on_decoded: OnDecoded | None = None,
    progress: SpeechProgress | None = None,
    skip_channels: frozenset[int] = frozenset(),
) -> SpeechResult:
    """Transcribes every piece of speech in `source` (opened on the decoding thread), or in the parts of
    one recording, in order.

    Pieces whose key is in `finished` are not sent again. `on_piece` is awaited with each newly
    transcribed piece before it counts as done; `context` goes to the transcriber with every piece;
    `on_decoded` is called (on the decoding thread) with the seconds decoded so far. `progress` is told
    of the decoding and of every piece as it goes. A MediaError or a transcriber error stops everything
    and is raised. Pieces of `skip_channels` (participants who declined to be recorded) are decoded past
    but never sent: no provider hears them.
    """
    run = _Run(
        transcriber,
        skip_channels=skip_channels,
        per_channel=per_channel,
        language=language,
        context=context,
        done=dict(finished or {}),
        on_piece=on_piece,
        on_decoded=on_decoded,
        progress=progress,
    )
    return await run.execute([source] if callable(source) else source)


class _Run:
    """One pass over a recording: a decoding thread feeding a bounded queue, and transcribing workers."""

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        skip_channels: frozenset[int] = frozenset(),
        per_channel: bool,
        language: str | None,
        context: TranscriptionContext | None,
        done: dict[str, PieceResult],
        on_piece: OnPiece | None,
        on_decoded: OnDecoded | None,
        progress: SpeechProgress | None = None,
    ) -> None:
        self._transcriber = transcriber
        self._skip = skip_channels
        self._progress = progress
        self._limits = transcriber.limits
        self._per_channel = per_channel
        self._language = language
        self._context = context
        self._done = done
        self._on_piece = on_piece
        self._on_decoded = on_decoded
        self._queue: asyncio.Queue[Piece | None] = asyncio.Queue(maxsize=QUEUED_PIECES)
        self._stop = threading.Event()
        self._duration = 0.0
        self._transcribed = 0
        self._audio_seconds = 0.0
        self._languages: list[str] = []

    async def execute(self, sources: Sequence[Source]) -> SpeechResult:
        loop = asyncio.get_running_loop()
        producer = in_decoder_thread(self._produce, sources, loop)
        workers = [asyncio.ensure_future(self._work()) for _ in range(self._limits.concurrency)]
        try:
            gathered = await asyncio.gather(*workers)
            await producer  # raises the MediaError of a damaged file, after its good pieces were done
        except BaseException:
            self._stop.set()
            for worker in workers:
                worker.cancel()
            # Unblocks a producer waiting for room in the queue, so that its thread ends.
            while not producer.done():
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                await asyncio.sleep(0.01)
            raise
        languages = self._languages
        return SpeechResult(
            pieces=[result for results in gathered for result in results],
            duration_seconds=self._duration,
            language=max(set(languages), key=languages.count) if languages else None,
            transcribed=self._transcribed,
            audio_seconds=self._audio_seconds,
        )

    def _decoded(self, seconds: float) -> None:
        self._duration = seconds
        if self._on_decoded is not None:
            self._on_decoded(seconds)
        if self._progress is not None:
            self._progress.decoded(seconds)

    def _produce(self, sources: Sequence[Source], loop: asyncio.AbstractEventLoop) -> None:
        def put(item: Piece | None) -> None:
            asyncio.run_coroutine_threadsafe(self._queue.put(item), loop).result()

        try:
            # Parts (the chunks ACS splits a long call recording into) follow each other in time: each
            # one's pieces are shifted by the audio decoded from the parts before it.
            offset = 0.0
            for source in sources:
                for piece in self._pieces(source, offset):
                    if self._stop.is_set():
                        return
                    put(piece)
                offset = self._duration
        finally:
            # One end mark per worker; after a stop the workers are cancelled and need none.
            for _ in range(self._limits.concurrency):
                if self._stop.is_set():
                    break
                put(None)

    def _pieces(self, source: Source, offset: float) -> Iterator[Piece]:
        limits = self._limits
        pieces = iter_pieces(
            source(),
            per_channel=self._per_channel,
            max_piece_seconds=limits.max_piece_seconds,
            max_piece_bytes=limits.max_piece_bytes,
            target_piece_seconds=limits.max_piece_seconds * TARGET_SHARE_OF_MAX,
            on_decoded=lambda seconds: self._decoded(offset + seconds),
        )
        for piece in pieces:
            if piece.channel is not None and piece.channel in self._skip:
                continue
            if self._progress is not None:
                self._progress.cut(piece.duration_seconds)
            yield (
                piece
                if not offset
                else replace(
                    piece, start_seconds=piece.start_seconds + offset, end_seconds=piece.end_seconds + offset
                )
            )

    async def _work(self) -> list[PieceResult]:
        results: list[PieceResult] = []
        while (piece := await self._queue.get()) is not None:
            key = piece_key(piece)
            result = self._done.get(key)
            if result is None:
                if self._progress is not None:
                    self._progress.started(key, piece.duration_seconds)
                result = await self._transcribe(piece)
                if self._on_piece is not None:
                    await self._on_piece(key, result)
                self._done[key] = result
            if self._progress is not None:
                self._progress.finished(key, piece.duration_seconds)
            results.append(result)
            del piece  # an idle worker must not keep its last piece's audio alive while it waits
        return results

    async def _transcribe(self, piece: Piece) -> PieceResult:
        transcription = await self._transcriber.transcribe(
            piece.wav, language=self._language, context=self._context
        )
        if transcription.language:
            self._languages.append(transcription.language)
        self._transcribed += 1
        self._audio_seconds += piece.duration_seconds
        return PieceResult(
            start_seconds=piece.start_seconds,
            channel=piece.channel,
            duration_seconds=round(piece.duration_seconds, 3),
            segments=[
                PieceSegment(start=s.start, end=s.end, text=s.text, speaker_label=s.speaker_label)
                for s in transcription.segments
            ],
        )
