"""Offline speech to text with PocketSphinx and its bundled US English model: no network, no key.

- Decoding runs in worker processes, not threads: pocketsphinx holds the GIL for the whole of a piece
  (measured: a 10 s piece froze the event loop for 1.8 s, and two pieces on two threads took as long as
  one after the other). A process per concurrent piece keeps the event loop, the jobs' heartbeats and
  media decoding running, and uses the CPUs. A crash in the C library costs a worker, not the app.
- The workers are plain child processes of this module, talking over pipes, not a multiprocessing
  pool: `spawn` re-runs the parent's main script in every child (an entry script without a
  `__main__` guard starts over), and `fork` is unsafe in a process that runs threads.
- A worker starts for a piece when none is idle, up to `concurrency`, and is reused for the next ones:
  starting one takes about 0.3 s (mostly loading the model), and each holds about 120 MB. A worker
  that failed in any way is killed.
- A piece is decoded as one utterance (batch cepstral mean normalisation). That is what makes a result
  independent of what the decoder decoded before, so every worker gives the same words for a piece.
- Exact digital silence (a muted track, synthetic audio) throws the model off: it turned 5 s of zeros
  into one long word, and on 20 synthetic sentences with silent gaps the word error rate was 0.52, as
  against 0.32 once a fixed pattern of low-level noise is added. So every piece gets that noise first;
  a piece with no sample above the noise floor is not decoded at all.

Importing this module loads nothing heavy: pocketsphinx loads in the workers only.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import functools
import io
import json
import os
import random
import re
import signal
import sys
import warnings
import wave
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from shared.ports import (
    TranscribedSegment,
    TranscriberLimits,
    TranscriberRejected,
    TranscriberUnavailable,
    Transcription,
)

__all__ = ["MAX_PIECE_BYTES", "MAX_PIECE_SECONDS", "NAME", "LocalTranscriber"]

NAME = "local:pocketsphinx"
MAX_PIECE_BYTES = 24 * 1024 * 1024
# Measured on synthetic speech: accuracy is the same for 10, 30, 60 and 120 s pieces (word error rate
# 0.34-0.38) and decoding runs at 0.19-0.23 of real time, but memory grows with the utterance (about
# 25 MB a minute) and a retried piece is decoded again: 60 s bounds both at about 12 s of CPU per piece.
MAX_PIECE_SECONDS = 60.0

_SAMPLE_RATE = 16_000
_FRAMES_PER_SECOND = 100  # pocketsphinx's default frame rate: word times come in frames
_LANGUAGE = "en"

# A new segment starts at a pause of this length, or when one would grow past these bounds: sentence-
# like spans that a reader can follow and a subtitle can show.
_PAUSE_SECONDS = 0.5
_MAX_SEGMENT_SECONDS = 15.0
_MAX_SEGMENT_WORDS = 30

# Added noise: standard deviation in s16 units (about -78 dBFS). Any noise removes the digital-silence
# problem; this little stays far below a real microphone's own noise floor, so real speech is unaffected.
_DITHER_SD = 4.0
_DITHER_SEED = 20_240_601  # fixed: the same piece always gets the same noise, hence the same words
# Peak amplitude (s16) under which a piece is silence: about -50 dBFS, well below any speech that media
# preparation keeps (it cuts at -40 dBFS RMS). Decoding low noise is the slowest case there is: 60 s of
# it took 37 s, three times as long as speech.
_SILENCE_PEAK = 100

_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")  # `word(2)`: the dictionary's second pronunciation
_LENGTH_BYTES = 8  # the little-endian size that precedes each piece's PCM on a worker's stdin
_REPLY_LIMIT = 16 * 1024 * 1024  # a reply is one JSON line: a word list, far below this
_STOP_SECONDS = 5.0  # a worker gets this long to exit after its stdin closes, then it is killed

# (word, first frame, last frame) as pocketsphinx reports it
_Word = tuple[str, int, int]


class LocalTranscriber:
    """The `Transcriber` port on PocketSphinx, in at most `concurrency` worker processes (one event loop)."""

    def __init__(
        self, *, concurrency: int | None = None, max_piece_seconds: float = MAX_PIECE_SECONDS
    ) -> None:
        workers = concurrency if concurrency is not None else (os.cpu_count() or 1)
        if workers < 1:
            raise ValueError("concurrency must be at least 1")
        self._limits = TranscriberLimits(
            max_piece_bytes=MAX_PIECE_BYTES, max_piece_seconds=max_piece_seconds, concurrency=workers
        )
        self._slots = asyncio.Semaphore(workers)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()  # idle and busy, so that aclose reaches every process
        self._closed = False

    @property
    def name(self) -> str:
        return NAME

    @property
    def limits(self) -> TranscriberLimits:
        return self._limits

    @property
    def worker_pids(self) -> list[int]:
        """The worker processes now running (operators and tests see what the pool holds)."""
        return sorted(worker.pid for worker in self._workers)

    async def transcribe(self, wav: bytes, *, language: str | None) -> Transcription:
        _check_language(language)
        pcm = _pcm_of(wav, self._limits)
        words = await self._recognise(pcm) if _has_sound(pcm) else []
        return Transcription(segments=segments_of(words, len(pcm) / 2 / _SAMPLE_RATE), language=_LANGUAGE)

    async def aclose(self) -> None:
        self._closed = True  # a piece still in flight must not start a worker no one would stop
        workers, self._workers, self._idle = self._workers, set(), []
        await asyncio.gather(*(worker.stop() for worker in workers))

    async def _recognise(self, pcm: bytes) -> list[_Word]:
        async with self._slots:
            try:
                return await self._recognise_on_a_worker(pcm)
            except _WorkerDied:
                # Once more on a new worker: an idle one may have been killed from outside (the OOM
                # killer picks the biggest process). A piece that kills two in a row is the cause.
                return await self._recognise_on_a_worker(pcm)

    async def _recognise_on_a_worker(self, pcm: bytes) -> list[_Word]:
        worker = self._idle.pop() if self._idle else await self._start_worker()
        try:
            words = await worker.recognise(pcm)
        except BaseException:
            # Failed, died, or cancelled part way (its reply would answer the next piece): replaced.
            self._workers.discard(worker)
            worker.kill()
            raise
        if worker in self._workers:  # not stopped by aclose meanwhile
            self._idle.append(worker)
        return words

    async def _start_worker(self) -> _Worker:
        if not self._closed:
            worker = await _Worker.start()
            if not self._closed:
                self._workers.add(worker)
                return worker
            await worker.stop()  # closed while it started
        raise TranscriberUnavailable("the local transcriber is closed")


# --- checks, in the app's process -----------------------------------------------------------------


def _check_language(language: str | None) -> None:
    if language is None:
        return
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    if primary != _LANGUAGE:
        raise TranscriberRejected(
            f"the local transcriber only recognises English, not {language!r}: "
            "use TRANSCRIBER=openai for other languages"
        )


def _pcm_of(wav: bytes, limits: TranscriberLimits) -> bytes:
    """The PCM samples of a 16 kHz mono s16 WAV within the limits; TranscriberRejected otherwise."""
    if len(wav) > limits.max_piece_bytes:
        raise TranscriberRejected(
            f"the piece has {len(wav)} bytes, over the limit of {limits.max_piece_bytes}"
        )
    try:
        with wave.open(io.BytesIO(wav), "rb") as reader:
            params = reader.getparams()
            pcm = reader.readframes(params.nframes)
    except (wave.Error, EOFError) as exc:
        raise TranscriberRejected(f"the piece is not a PCM WAV file ({exc})") from None
    if (params.framerate, params.nchannels, params.sampwidth) != (_SAMPLE_RATE, 1, 2):
        raise TranscriberRejected(
            f"the piece must be 16 kHz mono 16-bit PCM; it is {params.framerate} Hz, "
            f"{params.nchannels} channel(s), {8 * params.sampwidth}-bit"
        )
    if len(pcm) < params.nframes * 2:
        raise TranscriberRejected(
            f"the WAV header announces {params.nframes} samples but the piece holds {len(pcm) // 2}"
        )
    seconds = params.nframes / _SAMPLE_RATE
    if seconds > limits.max_piece_seconds:
        raise TranscriberRejected(
            f"the piece lasts {seconds:.1f} s, over the limit of {limits.max_piece_seconds:g} s"
        )
    return pcm


def _has_sound(pcm: bytes) -> bool:
    if not pcm:
        return False
    functions = _audioop()
    if functions is not None:
        return functions.max(pcm, 2) >= _SILENCE_PEAK
    samples = array.array("h", pcm)  # 20 times slower: 45 ms for 60 s, on the event loop
    return max(samples) >= _SILENCE_PEAK or min(samples) <= -_SILENCE_PEAK


# --- words to segments ----------------------------------------------------------------------------


def segments_of(words: Sequence[_Word], duration: float) -> list[TranscribedSegment]:
    """Sentence-like segments from pocketsphinx's word segmentation, without fillers and silences."""
    groups: list[list[_Word]] = []
    for word, first, last in words:
        if not _is_spoken(word):
            continue
        spoken = (_ALTERNATE_PRONUNCIATION.sub("", word), first, last)
        if groups and _continues(groups[-1], spoken):
            groups[-1].append(spoken)
        else:
            groups.append([spoken])
    return [_segment(group, duration) for group in groups]


def _is_spoken(word: str) -> bool:
    # `<s>`, `</s>`, `<sil>` mark the utterance and its silences; `[NOISE]`, `[SPEECH]` are fillers.
    return not word.startswith(("<", "["))


def _continues(group: list[_Word], word: _Word) -> bool:
    pause = (word[1] - group[-1][2] - 1) / _FRAMES_PER_SECOND
    length = (word[2] + 1 - group[0][1]) / _FRAMES_PER_SECOND
    return pause < _PAUSE_SECONDS and length <= _MAX_SEGMENT_SECONDS and len(group) < _MAX_SEGMENT_WORDS


def _segment(group: list[_Word], duration: float) -> TranscribedSegment:
    # The last frame's analysis window reaches past the audio's end: times are kept within the piece.
    start = min(group[0][1] / _FRAMES_PER_SECOND, duration)
    end = min((group[-1][2] + 1) / _FRAMES_PER_SECOND, duration)
    return TranscribedSegment(start=start, end=end, text=" ".join(word for word, _, _ in group))


# --- a worker process, seen from the app ----------------------------------------------------------


class _WorkerDied(TranscriberUnavailable):
    pass


class _Worker:
    """One child process decoding one piece at a time: PCM in on stdin, a JSON line out on stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid

    @classmethod
    async def start(cls) -> _Worker:
        # The child imports what this process imports: its sys.path holds the app and its packages
        # (Azure adds .python_packages there), whatever the working directory.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                f"from {__name__} import serve; serve()",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                limit=_REPLY_LIMIT,
            )
        except OSError as exc:
            raise TranscriberUnavailable(f"could not start a speech recogniser process: {exc}") from None
        return cls(process)

    async def recognise(self, pcm: bytes) -> list[_Word]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(len(pcm).to_bytes(_LENGTH_BYTES, "little"))
            stdin.write(pcm)
            await stdin.drain()
            line = await stdout.readline()
        except (ConnectionError, OSError):
            line = b""
        if not line.endswith(b"\n"):
            code = await self._process.wait()
            raise _WorkerDied(f"the speech recogniser process exited (code {code})")
        try:
            reply = json.loads(line)
        except ValueError:  # something in the worker wrote to the replies' pipe
            raise TranscriberUnavailable("the speech recogniser process answered garbage") from None
        if "error" in reply:
            raise TranscriberUnavailable(f"pocketsphinx failed: {reply['error']}")
        return [(word, first, last) for word, first, last in reply["words"]]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    async def stop(self) -> None:
        """Ends the process (its decoder's memory returns to the system) and waits for it."""
        if self._process.stdin is not None:
            self._process.stdin.close()  # the worker's loop ends at the end of its input
        try:
            await asyncio.wait_for(self._process.wait(), _STOP_SECONDS)
        except TimeoutError:  # busy with a long piece: no one waits for its words any more
            self.kill()
            await self._process.wait()


# --- in a worker process --------------------------------------------------------------------------


def serve() -> None:
    """A worker's loop: a piece in, its words out, until stdin ends (the app closed it, or died)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the app, which then closes the pipe
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the libraries print goes to stderr: stdout carries only replies
    pieces = sys.stdin.buffer
    while len(header := pieces.read(_LENGTH_BYTES)) == _LENGTH_BYTES:
        size = int.from_bytes(header, "little")
        pcm = pieces.read(size)
        if len(pcm) < size:
            return
        try:
            reply: dict[str, object] = {"words": _recognise(pcm)}
        except Exception as exc:  # the app learns of it and replaces this worker
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


def _recognise(pcm: bytes) -> list[_Word]:
    decoder = _decoder()
    decoder.start_utt()
    decoder.process_raw(_dither(pcm), full_utt=True)
    decoder.end_utt()
    return [(seg.word, seg.start_frame, seg.end_frame) for seg in decoder.seg() or ()]


@functools.cache
def _decoder() -> Any:  # pocketsphinx ships no type information
    from pocketsphinx import Decoder  # type: ignore[import-untyped]  # noqa: PLC0415 - heavy; workers only

    return Decoder(loglevel="FATAL")  # the bundled en-us model; FATAL keeps its chatter off stderr


def _dither(pcm: bytes) -> bytes:
    noise = _noise(len(pcm))
    functions = _audioop()
    if functions is not None:
        return functions.add(pcm, noise, 2)
    samples = array.array("h", pcm)
    for index, value in enumerate(array.array("h", noise)):
        samples[index] = max(-32768, min(32767, samples[index] + value))
    return samples.tobytes()


def _noise(size: int) -> bytes:
    second = _noise_second()
    return (second * -(-size // len(second)))[:size]


@functools.cache
def _noise_second() -> bytes:
    rng = random.Random(_DITHER_SEED)  # noqa: S311 - dither, not security
    return array.array("h", (round(rng.gauss(0, _DITHER_SD)) for _ in range(_SAMPLE_RATE))).tobytes()


class _Audioop(NamedTuple):
    add: Callable[[bytes, bytes, int], bytes]  # saturating
    max: Callable[[bytes, int], int]  # the peak absolute sample


@functools.cache
def _audioop() -> _Audioop | None:
    # audioop works in C; it is gone in Python 3.13, where slower pure-Python code takes over.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop  # noqa: PLC0415
    except ImportError:  # pragma: no cover - Python 3.13+
        return None
    return _Audioop(add=audioop.add, max=audioop.max)
