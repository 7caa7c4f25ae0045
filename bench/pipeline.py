"""The speech pipeline on long recordings, against ffmpeg doing the same decode + resample + encode.

Two recordings are synthesized at bench time (seeded, in bounded memory, not timed): a two-hour MIXED mp3
(what ACS delivers for mixed audio) and a one-hour FOUR-CHANNEL UNMIXED wav (what ACS delivers for unmixed
audio: one participant per channel). Four speakers take turns in bursts of 1-20 s with pauses of 0.3-3 s,
now and then interrupted by someone else, now and then falling quiet for longer, over a faint noise floor.

For each recording, every step runs in a fresh process, so that its peak RSS is its own:
- the real transcription job (`TranscriptionJob` on the embedded blob and queue stores and the in-memory
  store, the source streamed into the `recordings` container beforehand) with a transcriber that answers
  at once but has OpenAI's limits (24 MB and 600 s a piece, 4 at a time): the job's time, its peak RSS,
  how many pieces the transcriber received and the largest;
- `shared.speech.transcribe_source` alone on the file path (media prep, pieces and transcriber only);
- PyAV decoding the file and nothing else: the floor under both;
- ffmpeg decoding, resampling and writing the same audio as 16 kHz mono WAV (per channel for the unmixed).
The steps run in rounds whose order rotates, so all of them see the same machine load; each figure is the
median over the rounds.

Goals: job / ffmpeg wall time at most 1.5, peak RSS at most 300 MB, no piece over 24 MB. The bench prints;
it does not gate: the exit code is 0 whether a goal passes or fails, and non-zero only when the bench
itself cannot run (a child crashes, the job does not finish). Without ffmpeg on PATH the comparison is
skipped and said so; everything else runs.

    python -m bench.pipeline [--minutes-mixed 120] [--minutes-unmixed 60] [--rounds 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shared.ports import TranscriberLimits, Transcription, TranscriptionContext
    from tests.fakes import FakeTranscriber

DESCRIPTION = "The speech pipeline on two long recordings, against ffmpeg's decode + resample + encode."
ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024  # the "24 MB" is the transcriber's 24 * 1024 * 1024: one unit for all sizes

GOAL_RATIO = 1.5  # pipeline wall time / ffmpeg's
GOAL_RSS_MB = 300
GOAL_PIECE_MB = 24

# The transcriber's limits, as OpenAI's adapter declares them.
MAX_PIECE_BYTES = 24 * MB
MAX_PIECE_SECONDS = 600.0
CONCURRENCY = 4

# Mixed: ACS mixes a call into one channel; WebRTC audio runs at 48 kHz, the most resampling work of the
# rates a mix may come at. Unmixed: PCM WAV, a participant per channel, at call-audio 16 kHz.
MIXED_RATE, MIXED_CHANNELS, MP3_BITRATE_PER_CHANNEL = 48_000, 1, 64_000
UNMIXED_RATE, UNMIXED_CHANNELS = 16_000, 4
SPEAKERS = 4

CHILD_TIMEOUT_S = 30 * 60  # a generous bound per child: a stuck child must not hang the bench for ever
OUTPUT_RATE = 16_000


class BenchError(RuntimeError):
    """A child crashed or the job did not transcribe: its numbers would mean nothing."""


def _progress(message: str) -> None:
    # A full run takes minutes: say what is going on, on stderr, so the report on stdout stays clean.
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------- the recordings


Kind = Literal["mixed", "unmixed"]


@dataclass(frozen=True)
class Recipe:
    """How one recording is synthesized; both the parent and the generating child read it."""

    kind: Kind
    minutes: float
    rate: int
    channels: int  # of the file
    seed: int

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def ext(self) -> str:
        return "mp3" if self.kind == "mixed" else "wav"

    @property
    def content_type(self) -> str:
        return "audio/mpeg" if self.kind == "mixed" else "audio/wav"

    @property
    def per_channel(self) -> bool:
        return self.kind == "unmixed"

    def describe(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels}-channel")
        if self.kind == "mixed":
            kbps = MP3_BITRATE_PER_CHANNEL * self.channels // 1000
            return f"mp3, {layout} {self.rate / 1000:g} kHz {kbps} kbps CBR"
        return f"wav, {layout} {self.rate / 1000:g} kHz s16 PCM, a speaker per channel"


@dataclass(frozen=True)
class Turn:
    speaker: int
    start: float  # seconds
    end: float


def conversation(seconds: float, speakers: int, seed: int) -> list[Turn]:
    """Who speaks when: bursts of 1-20 s, pauses of 0.3-3 s, seeded.

    Speakers mostly take turns (70% of bursts go to someone else); a sixth of bursts get a short
    interjection by another speaker on top, and one pause in fifty is a quiet spell of 10-60 s. Those are
    what decide where pieces end: pauses around the 0.6 s and 2 s marks, and overlapping speech.
    """
    rng = random.Random(seed)
    turns: list[Turn] = []
    at = rng.uniform(0.5, 3.0)
    speaker = rng.randrange(speakers)
    while True:
        burst = rng.uniform(1.0, 20.0)
        if at + burst > seconds - 0.5:
            return turns
        turns.append(Turn(speaker, at, at + burst))
        others = [s for s in range(speakers) if s != speaker]
        if burst > 2.5 and rng.random() < 1 / 6:
            length = rng.uniform(0.3, 1.2)
            begins = rng.uniform(at + 0.5, at + burst - length - 0.5)
            # Inside the burst, so the interjector's own next burst (after the pause) never overlaps it.
            turns.append(Turn(rng.choice(others), begins, begins + length))
        at += burst + rng.uniform(0.3, 3.0)
        if rng.random() < 0.02:
            at += rng.uniform(10.0, 60.0)
        if rng.random() < 0.7:
            speaker = rng.choice(others)


Span = tuple[int, int, tuple[int, ...]]  # [start, end) in samples, and who is audible in it


def spans(turns: Sequence[Turn], rate: int) -> list[Span]:
    """The stretches where the set of audible speakers is constant and not empty, in time order."""
    events: list[tuple[int, int, int]] = []  # (sample, +1 starts / -1 ends, speaker)
    for turn in turns:
        events += [(round(turn.start * rate), 1, turn.speaker), (round(turn.end * rate), -1, turn.speaker)]
    events.sort()
    out: list[Span] = []
    active: dict[int, int] = {}
    last = 0
    for sample, change, speaker in events:
        key = tuple(sorted(active))
        if key and sample > last:
            if out and out[-1][1] == last and out[-1][2] == key:
                out[-1] = (out[-1][0], sample, key)
            else:
                out.append((last, sample, key))
        active[speaker] = active.get(speaker, 0) + change
        if not active[speaker]:
            del active[speaker]
        last = sample
    return out


class Voices:
    """One second of each sound, computed once in Python and tiled: hours of audio cost no more.

    A voice is a buzz at its own pitch (harmonics falling off as 1/k) whose loudness swings at a syllable
    rate, plus a little breath noise; every speaker has their own loudness. Silence is a noise floor at
    about -60 dBFS (a room, a microphone), well under the -40 dBFS the pipeline calls speech. A second
    of each repeats exactly (whole-hertz pitches and swing rates), so the tiling has no seams.
    """

    PITCHES = (110, 185, 140, 220, 160)
    SWING_HZ = (3, 4, 5, 4, 3)
    LOUDNESS = (0.30, 0.22, 0.26, 0.18, 0.24)  # peak, as a share of full scale
    FLOOR = 0.001  # RMS, as a share of full scale: -60 dBFS

    def __init__(self, rate: int, channels: int, seed: int) -> None:
        self._rate = rate
        self._channels = channels
        self._seed = seed
        self._voices: dict[int, list[float]] = {}
        self._units: dict[tuple[tuple[int, ...], int], bytes] = {}

    def _voice(self, speaker: int) -> list[float]:
        if speaker not in self._voices:
            rng = random.Random(self._seed * 1000 + speaker)
            index = speaker % len(self.PITCHES)
            pitch, swing, loud = self.PITCHES[index], self.SWING_HZ[index], self.LOUDNESS[index]
            norm = sum(1 / k for k in range(1, 7))
            step = 2 * math.pi / self._rate
            self._voices[speaker] = [
                loud
                * (0.6 + 0.4 * math.sin(step * swing * i))
                * (
                    sum(math.sin(step * pitch * k * i) / k for k in range(1, 7)) / norm
                    + rng.uniform(-0.05, 0.05)
                )
                for i in range(self._rate)
            ]
        return self._voices[speaker]

    def unit(self, key: tuple[int, ...], channel: int) -> bytes:
        """One second of output `channel` with the speakers in `key` audible (none: the floor alone)."""
        if (key, channel) not in self._units:
            rng = random.Random(self._seed * 1000 + 100 + channel)
            samples = [rng.gauss(0.0, self.FLOOR) for _ in range(self._rate)]
            for speaker in key:
                gain = self._pan(speaker, channel)
                voice = self._voice(speaker)
                samples = [s + gain * v for s, v in zip(samples, voice, strict=True)]
            self._units[key, channel] = array.array(
                "h", (max(-32768, min(32767, round(s * 32767))) for s in samples)
            ).tobytes()
        return self._units[key, channel]

    def _pan(self, speaker: int, channel: int) -> float:
        # A stereo mix places the speakers left to right; mono and unmixed channels carry each at full level.
        if self._channels != 2:
            return 1.0
        position = speaker / max(1, SPEAKERS - 1)  # 0 = left, 1 = right
        return 1.0 - 0.5 * position if channel == 0 else 0.5 + 0.5 * position

    def render(self, key: tuple[int, ...], channel: int, start: int, count: int) -> bytes:
        """`count` samples of the unit from absolute sample `start`: the phase carries across blocks."""
        unit = self.unit(key, channel)
        out = bytearray()
        position = start % self._rate
        while count > 0:
            take = min(count, self._rate - position)
            out += unit[position * 2 : (position + take) * 2]
            count -= take
            position = 0
        return bytes(out)


def channel_spans(recipe: Recipe) -> list[list[Span]]:
    """Each output channel's spans: the mix for every channel of a mixed file, a speaker per unmixed one."""
    turns = conversation(recipe.seconds, SPEAKERS, recipe.seed)
    if recipe.kind == "mixed":
        mix = spans(turns, recipe.rate)
        return [mix] * recipe.channels
    return [spans([t for t in turns if t.speaker == c], recipe.rate) for c in range(recipe.channels)]


def voiced_seconds(recipe: Recipe) -> float:
    """Seconds with someone speaking, summed over the channels the pipeline splits on its own."""
    tracks = channel_spans(recipe)
    counted = tracks if recipe.per_channel else tracks[:1]
    return sum(end - start for track in counted for start, end, _ in track) / recipe.rate


def blocks(recipe: Recipe, block_samples: int) -> Iterator[bytes]:
    """The recording as interleaved s16 PCM, a block at a time (memory: a block and the units)."""
    voices = Voices(recipe.rate, recipe.channels, recipe.seed)
    tracks = channel_spans(recipe)
    cursors = [0] * recipe.channels
    total = round(recipe.seconds * recipe.rate)
    for block_start in range(0, total, block_samples):
        block_end = min(total, block_start + block_samples)
        planes = []
        for channel, track in enumerate(tracks):
            parts = []
            at = block_start
            while at < block_end:
                while cursors[channel] < len(track) and track[cursors[channel]][1] <= at:
                    cursors[channel] += 1
                current = track[cursors[channel]] if cursors[channel] < len(track) else None
                if current is not None and current[0] <= at:
                    key, until = current[2], min(block_end, current[1])
                else:
                    key, until = (), min(block_end, current[0] if current is not None else block_end)
                parts.append(voices.render(key, channel, at, until - at))
                at = until
            planes.append(b"".join(parts))
        yield _interleave(planes)


def _interleave(planes: Sequence[bytes]) -> bytes:
    if len(planes) == 1:
        return planes[0]
    count = len(planes)
    out = array.array("h", bytes(len(planes[0]) * count))
    for index, plane in enumerate(planes):
        out[index::count] = array.array("h", plane)  # a strided copy in C, not a Python loop
    return out.tobytes()


def write_recording(recipe: Recipe, path: Path) -> None:
    """Streams the recording to `path`: a second at a time, so hours cost a second's memory."""
    if recipe.kind == "unmixed":
        # The `wave` module writes a plain PCM header with no channel mask, as simple writers do: the
        # pipeline and ffmpeg must both cope with a layout that is only a channel count.
        with wave.open(str(path), "wb") as writer:
            writer.setnchannels(recipe.channels)
            writer.setsampwidth(2)
            writer.setframerate(recipe.rate)
            for block in blocks(recipe, recipe.rate):
                writer.writeframes(block)
        return
    import av

    layout = {1: "mono", 2: "stereo"}[recipe.channels]
    with av.open(str(path), mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=recipe.rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        stream.bit_rate = MP3_BITRATE_PER_CHANNEL * recipe.channels
        # LAME's fastest setting: generation is not measured, and decoding costs the same whatever the
        # encoder's effort. Generating two hours is the slowest step of the bench otherwise.
        stream.codec_context.options = {"compression_level": "9"}
        pts = 0
        for block in blocks(recipe, recipe.rate):
            samples = len(block) // (2 * recipe.channels)
            frame = av.AudioFrame(format="s16", layout=layout, samples=samples)
            frame.planes[0].update(block)
            frame.sample_rate = recipe.rate
            frame.pts = pts
            frame.time_base = Fraction(1, recipe.rate)
            container.mux(stream.encode(frame))
            pts += samples
        container.mux(stream.encode(None))


# ---------------------------------------------------------------------------------------- the children


class CountingTranscriber:
    """The instant fake transcriber, counting what it receives: the pieces and the largest one's bytes."""

    def __init__(self, inner: FakeTranscriber) -> None:
        self._inner = inner
        self.pieces = 0
        self.largest = 0
        self.total_bytes = 0

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def limits(self) -> TranscriberLimits:
        return self._inner.limits

    async def transcribe(
        self, wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        self.pieces += 1
        self.largest = max(self.largest, len(wav))
        self.total_bytes += len(wav)
        return await self._inner.transcribe(wav, language=language, context=context)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _transcriber() -> CountingTranscriber:
    from tests.fakes import FakeTranscriber

    fake = FakeTranscriber(
        max_piece_seconds=MAX_PIECE_SECONDS, max_piece_bytes=MAX_PIECE_BYTES, concurrency=CONCURRENCY
    )
    return CountingTranscriber(fake)


def _pieces(transcriber: CountingTranscriber) -> dict[str, Any]:
    # A piece is a 44-byte header and 16 kHz s16 mono samples: its seconds follow from its bytes.
    return {
        "pieces": transcriber.pieces,
        "largest_bytes": transcriber.largest,
        "sent_seconds": (transcriber.total_bytes - 44 * transcriber.pieces) / (2 * OUTPUT_RATE),
    }


class _Clock:
    """Wall and CPU time of the measured call only: not the interpreter's start or the imports."""

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu  # every thread's: decoding runs on a worker thread


def _import_pyav() -> None:
    # Before the clock: media imports PyAV on first use, and loading FFmpeg's libraries is start-up
    # cost (paid once per worker), not work on the recording; ffmpeg's own start-up is ~20 ms.
    import av  # noqa: F401


async def _job_child(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The transcription job, as the queue trigger runs it, on a source already in blob storage."""
    from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
    from shared.adapters.local_queues import LocalQueueStore
    from shared.domain.recording_paths import ARTIFACTS, RecordingRef
    from shared.domain.recordings import Recording, RecordingChannel, RecordingStatus
    from shared.services.transcription import Job, Outcome, TranscriptionJob
    from shared.signing import Signer
    from shared.timefmt import now
    from shared.transcripts import Transcript
    from tests.fakes import InMemoryStore

    blobs = LocalBlobStore(
        Path(spec["blob_root"]), Signer(b"b" * 32, purpose=UPLOAD_SIGNING_PURPOSE), "http://127.0.0.1"
    )
    queues = LocalQueueStore(Path(spec["queue_db"]))
    store = InMemoryStore()
    transcriber = _transcriber()
    at = now()
    recording = Recording(
        id=spec["recording_id"],
        meeting_id=spec["meeting_id"],
        created_by="alice",
        file_name=Path(spec["source_blob"]).name,
        content_type=spec["content_type"],
        size_bytes=spec["size_bytes"],
        channels=[RecordingChannel(channel=c, user_id=f"user-{c}") for c in range(spec["channels"])],
        status=RecordingStatus.QUEUED,
        source_blob=spec["source_blob"],
        created_at=at,
        updated_at=at,
    )
    await store.create_recording(recording)
    ref = RecordingRef(recording.meeting_id, recording.id)
    # A budget the job cannot reach: one invocation does the whole recording, which is what is measured
    # (the report says whether a real one, with its 8-minute budget, would have had to continue).
    job = TranscriptionJob(store, blobs, queues, transcriber, time_budget_seconds=24 * 3600.0)
    _import_pyav()
    before = _status_mb("VmRSS")  # the interpreter, the imports: what the run itself starts from
    with _Clock() as clock:
        outcome = await job.run(Job(ref, message_id="bench-message", dequeue_count=1))
    stored = await store.get_recording(ref.meeting_id, ref.recording_id)
    # Named by what it is not: the success member's name is the job module's business (it has changed).
    done = outcome not in (Outcome.FAILED, Outcome.SKIPPED, Outcome.CONTINUED)
    result: dict[str, Any] = {
        "outcome": str(outcome),
        "done": done,
        "rss_before_mb": before,
        "wall_s": clock.wall_s,
        "cpu_s": clock.cpu_s,
        **_pieces(transcriber),
    }
    if stored is not None:
        result["duration_s"] = stored.value.duration_seconds
        result["error"] = stored.value.error.detail if stored.value.error else None
    if done:
        body = await blobs.get(ARTIFACTS, f"{ref.meeting_id}/{ref.recording_id}/transcript.json")
        result["segments"] = len(Transcript.model_validate_json(body).segments)
    await queues.aclose()
    await blobs.aclose()
    return result


async def _speech_child(spec: Mapping[str, Any]) -> dict[str, Any]:
    """`transcribe_source` alone on the file: media preparation, pieces, transcriber; no storage."""
    from shared.speech import transcribe_source

    transcriber = _transcriber()
    path = str(spec["path"])
    _import_pyav()
    before = _status_mb("VmRSS")
    with _Clock() as clock:
        speech = await transcribe_source(
            lambda: path, transcriber, per_channel=bool(spec["per_channel"]), language=None
        )
    return {
        "rss_before_mb": before,
        "wall_s": clock.wall_s,
        "cpu_s": clock.cpu_s,
        "duration_s": speech.duration_seconds,
        **_pieces(transcriber),
    }


def _decode_child(spec: Mapping[str, Any]) -> dict[str, Any]:
    """PyAV decoding the file and nothing else: the floor under the pipeline's media work."""
    import av

    samples, rate = 0, 1
    with _Clock() as clock, av.open(str(spec["path"])) as container:
        for frame in container.decode(container.streams.audio[0]):
            samples += frame.samples
            rate = frame.sample_rate or rate
    return {"wall_s": clock.wall_s, "cpu_s": clock.cpu_s, "duration_s": samples / rate}


def _status_mb(field: str) -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def _own_peak_rss_mb() -> float | None:
    """This process's peak RSS, read just before it exits: exact, where the parent's 20 ms sampling
    could miss a last spike. Without /proc (macOS), ru_maxrss: a spawned process's own there."""
    peak = _status_mb("VmHWM")
    if peak is None and sys.platform == "darwin":
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB  # bytes on macOS
    return peak


def child_main(spec: Mapping[str, Any]) -> int:
    """One step in this (fresh) process; its result is the last line of stdout, as JSON."""
    task = spec["task"]
    if task == "generate":
        with _Clock() as clock:
            write_recording(Recipe(**spec["recipe"]), Path(spec["path"]))
        result: dict[str, Any] = {"wall_s": clock.wall_s, "cpu_s": clock.cpu_s}
    elif task == "job":
        result = asyncio.run(_job_child(spec))
    elif task == "speech":
        result = asyncio.run(_speech_child(spec))
    elif task == "decode":
        result = _decode_child(spec)
    else:
        raise ValueError(f"unknown child task {task!r}")
    result["peak_rss_mb"] = _own_peak_rss_mb()
    print(json.dumps(result), flush=True)
    return 0


# -------------------------------------------------------------------------------------- running things


@dataclass
class Run:
    """One process, measured from outside: wall time, CPU time (wait4: its own) and peak RSS."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float | None
    returncode: int
    stdout: str
    stderr: str


def _vm_hwm_mb(status: str) -> float | None:
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


class _PeakWatcher(threading.Thread):
    """Reads a process's VmHWM every 20 ms until it exits; the last reading is its peak RSS.

    Not wait4's ru_maxrss: a child starts as a copy of this process (vfork or fork, then exec) and the
    kernel carries the copy's high-water mark into ru_maxrss, so every child would seem at least as big
    as the bench itself. VmHWM belongs to the exec'd program's own memory. It only grows, and the file
    is gone once the process has exited, so the last value read is the peak (to within the final 20 ms).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._path = Path(f"/proc/{pid}/status")
        self._done = threading.Event()
        self.peak_mb: float | None = None

    def run(self) -> None:
        while not self._done.is_set():
            try:
                reading = _vm_hwm_mb(self._path.read_text())
            except OSError:
                return  # no /proc (not Linux), or the process has exited
            if reading is None:
                return  # a zombie: exited, not yet reaped
            self.peak_mb = reading
            self._done.wait(0.02)

    def stop(self) -> float | None:
        self._done.set()
        self.join()
        return self.peak_mb


def run_process(argv: Sequence[str], logs: Path, name: str, *, env: Mapping[str, str] | None = None) -> Run:
    """Runs `argv` to the end, its output to files (never a full pipe), measuring only that process.

    `os.wait4` gives this one child's CPU time; RUSAGE_CHILDREN would add up every child so far.
    """
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=dict(env or os.environ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        watcher = _PeakWatcher(process.pid)
        watcher.start()
        timer = threading.Timer(CHILD_TIMEOUT_S, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            peak = watcher.stop()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak,
        returncode=process.returncode,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def start_child(spec: Mapping[str, Any], logs: Path, name: str) -> tuple[Run, dict[str, Any]]:
    """`python -m bench.pipeline --child SPEC`: the process's usage and the step's own result."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("APPLICATIONINSIGHTS_CONNECTION_STRING", None)  # local defaults: no telemetry exporter
    argv = [sys.executable, "-m", "bench.pipeline", "--child", json.dumps(spec)]
    run = run_process(argv, logs, name, env=env)
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        tail = "\n".join(run.stderr.splitlines()[-30:])
        raise BenchError(f"{name} exited with {run.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return run, result


def ffmpeg_argv(ffmpeg: str, recipe: Recipe, source: Path, out_dir: Path) -> list[str]:
    """The command-line equivalent of the pipeline's media work, to 16 kHz mono s16 WAV files."""
    encode = ["-ar", str(OUTPUT_RATE), "-c:a", "pcm_s16le", "-f", "wav", "-y"]
    if not recipe.per_channel:
        return [ffmpeg, "-v", "error", "-i", str(source), "-ac", "1", *encode, str(out_dir / "mix.wav")]
    # Each channel on its own, as the pipeline splits it. `pan` picks a channel by index, so this works
    # for a file whose header gives only a channel count (channelsplit needs a named layout).
    labels = [f"c{c}" for c in range(recipe.channels)]
    graph = f"[0:a]asplit={recipe.channels}" + "".join(f"[s{c}]" for c in range(recipe.channels))
    graph += "".join(f";[s{c}]pan=mono|c0=c{c}[{label}]" for c, label in enumerate(labels))
    argv = [ffmpeg, "-v", "error", "-i", str(source), "-filter_complex", graph]
    for label in labels:
        argv += ["-map", f"[{label}]", *encode, str(out_dir / f"{label}.wav")]
    return argv


def run_ffmpeg(ffmpeg: str, recipe: Recipe, source: Path, work: Path, name: str) -> Run:
    out_dir = work / name
    out_dir.mkdir()
    run = run_process(ffmpeg_argv(ffmpeg, recipe, source, out_dir), work, name)
    if run.returncode != 0:
        raise BenchError(f"{name} exited with {run.returncode}:\n{run.stderr[-3000:]}")
    expected = recipe.channels if recipe.per_channel else 1
    written = sorted(out_dir.glob("*.wav"))
    if len(written) != expected or any(p.stat().st_size <= 44 for p in written):
        raise BenchError(f"{name} wrote {[p.name for p in written]}, expected {expected} non-empty WAVs")
    shutil.rmtree(out_dir)  # 460 MB for an hour of four channels: free the disk at once
    return run


async def upload(source: Path, blob_root: Path, name: str, content_type: str) -> int:
    """Puts the recording into `recordings` with a streaming upload, as the devhost's PUT route does."""
    from shared.adapters.local_blobs import UPLOAD_SIGNING_PURPOSE, LocalBlobStore
    from shared.domain.recording_paths import RECORDINGS
    from shared.signing import Signer

    blobs = LocalBlobStore(blob_root, Signer(b"b" * 32, purpose=UPLOAD_SIGNING_PURPOSE), "http://127.0.0.1")

    async def chunks() -> AsyncIterator[bytes]:
        with source.open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, 4 * MB):
                yield chunk

    info = await blobs.upload(RECORDINGS, name, chunks(), content_type=content_type)
    await blobs.aclose()
    return info.size


# ----------------------------------------------------------------------------------------- the bench

FFMPEG, DECODE, SPEECH, JOB = "ffmpeg", "decode", "speech", "job"
STEP_LABELS = {
    FFMPEG: "ffmpeg (the goal's yardstick)",
    DECODE: "PyAV decode alone (floor)",
    SPEECH: "transcribe_source alone",
    JOB: "TranscriptionJob.run (pipeline)",
}


@dataclass(frozen=True)
class Sample:
    """One step of one round: wall and CPU time of the step itself, the peak RSS of its process."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float | None  # None where neither /proc nor the child could tell
    result: Mapping[str, Any]


@dataclass
class Measured:
    recipe: Recipe
    file_bytes: int
    generate_s: float
    voiced_s: float
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    orders: list[list[str]] = field(default_factory=list)

    def median(self, step: str) -> float:
        return statistics.median(s.wall_s for s in self.samples[step])

    def cpu(self, step: str) -> float:
        return statistics.median(s.cpu_s for s in self.samples[step])

    def peak_rss(self, step: str) -> float | None:
        peaks = [s.peak_rss_mb for s in self.samples[step]]
        return None if None in peaks else max(p for p in peaks if p is not None)


def measure(
    recipe: Recipe, source: Path, blob_root: Path, work: Path, ffmpeg: str | None, rounds: int
) -> Measured:
    """`rounds` rounds of every step, the order rotating each round so all see the same machine load."""
    meeting_id = "bench-meeting"
    source_blob = f"{meeting_id}/bench-{recipe.kind}/source.{recipe.ext}"
    size = asyncio.run(upload(source, blob_root, source_blob, recipe.content_type))
    measured = Measured(recipe, size, 0.0, voiced_seconds(recipe))
    steps = ([FFMPEG] if ffmpeg else []) + [DECODE, SPEECH, JOB]
    measured.samples = {step: [] for step in steps}
    for number in range(rounds):
        shift = number % len(steps)
        order = steps[shift:] + steps[:shift]
        measured.orders.append(order)
        for step in order:
            name = f"{step}-{recipe.kind}-{number + 1}"
            _progress(f"{recipe.kind}, round {number + 1} of {rounds}: {STEP_LABELS[step]}")
            if step == FFMPEG:
                assert ffmpeg is not None
                run = run_ffmpeg(ffmpeg, recipe, source, work, name)
                measured.samples[step].append(Sample(run.wall_s, run.cpu_s, run.peak_rss_mb, {}))
                continue
            spec: dict[str, Any] = {"task": step, "path": str(source), "per_channel": recipe.per_channel}
            if step == JOB:
                spec.update(
                    blob_root=str(blob_root),
                    queue_db=str(work / f"{name}.sqlite3"),
                    meeting_id=meeting_id,
                    recording_id=f"bench-{recipe.kind}-{number + 1}",  # a fresh recording each round
                    source_blob=source_blob,
                    content_type=recipe.content_type,
                    size_bytes=size,
                    channels=recipe.channels if recipe.per_channel else 0,
                )
            run, result = start_child(spec, work, name)
            if step == JOB and not result["done"]:
                raise BenchError(f"the {recipe.kind} job ended {result['outcome']}: {result.get('error')}")
            peaks = [p for p in (result["peak_rss_mb"], run.peak_rss_mb) if p is not None]
            peak = max(peaks) if peaks else None
            measured.samples[step].append(Sample(result["wall_s"], result["cpu_s"], peak, result))
    return measured


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _mb(value: float | None) -> str:
    return "    - MB" if value is None else f"{value:5.0f} MB"


def _goal(label: str, value: str, goal: str, verdict: str, note: str) -> None:
    print(f"    {label:<21} {value}  goal: at most {goal:<7} {verdict:<7}  ({note})")


def _same(values: Sequence[Any]) -> str:
    return str(values[0]) if len(set(values)) == 1 else f"{values} (differ between rounds!)"


def report(results: Sequence[Measured], ffmpeg: str | None, ffmpeg_version: str, rounds: int) -> None:
    import av

    print(
        f"Speech pipeline vs ffmpeg on long recordings: median of {rounds} round(s), steps interleaved "
        f"(Python {platform.python_version()}, PyAV {av.__version__}, {os.cpu_count()} CPUs)"
    )
    print(
        f"  transcriber: instant fake with OpenAI's limits ({MAX_PIECE_BYTES // MB} MB, "
        f"{MAX_PIECE_SECONDS:g} s a piece, {CONCURRENCY} at a time); MB = 2^20 bytes"
    )
    if ffmpeg:
        print(f"  ffmpeg: {ffmpeg} ({ffmpeg_version}), decode + resample + encode to 16 kHz mono WAV")
    else:
        print("  ffmpeg: not found on PATH, so the ffmpeg comparison and its goal are skipped")
    for m in results:
        recipe = m.recipe
        jobs = [s.result for s in m.samples[JOB]]
        job = jobs[0]
        print()
        print(
            f"  {recipe.kind}: {_minutes(recipe.seconds)}, {recipe.describe()}, {m.file_bytes / MB:.1f} MB, "
            f"{SPEAKERS} speakers, seed {recipe.seed} (generated in {m.generate_s:.0f} s, not measured)"
        )
        decoded = job.get("duration_s") or 0.0
        print(f"    audio duration        {_minutes(recipe.seconds)} (the job decoded {decoded:.1f} s)")
        print(
            f"    speech                {_minutes(m.voiced_s)} generated; sent "
            f"{_minutes(job['sent_seconds'])} in {_same([j['pieces'] for j in jobs])} pieces "
            "(short pauses stay inside pieces)"
        )
        print(f"    {'step':<34} {'wall':>8}  {'rounds':<22} {'CPU':>7}  {'peak RSS':>8}")
        for step, samples in m.samples.items():
            each = ", ".join(f"{s.wall_s:.2f}" for s in samples)
            print(
                f"    {STEP_LABELS[step]:<34} {m.median(step):6.2f} s  {each:<22} {m.cpu(step):6.2f} s  "
                f"{_mb(m.peak_rss(step))}"
            )
        if ffmpeg:
            yardstick = m.median(FFMPEG)
            ratio = m.median(JOB) / yardstick
            others = ", ".join(
                f"{STEP_LABELS[s].split(' (')[0]} {m.median(s) / yardstick:.2f}" for s in (SPEECH, DECODE)
            )
            note = f"{others}; CPU time {m.cpu(JOB) / m.cpu(FFMPEG):.2f}"
            _goal(
                "pipeline / ffmpeg", f"{ratio:5.2f}   ", f"{GOAL_RATIO}", _verdict(ratio <= GOAL_RATIO), note
            )
        else:
            _goal("pipeline / ffmpeg", "    -   ", f"{GOAL_RATIO}", "SKIPPED", "no ffmpeg on PATH")
        rss = m.peak_rss(JOB)
        before = max(j.get("rss_before_mb") or 0.0 for j in jobs)
        if rss is None:
            _goal("peak RSS", "    -   ", f"{GOAL_RSS_MB} MB", "SKIPPED", "no /proc to read it from")
        else:
            note = f"the job's process, highest round; {before:.0f} MB of it before the job started"
            _goal("peak RSS", _mb(rss), f"{GOAL_RSS_MB} MB", _verdict(rss <= GOAL_RSS_MB), note)
        largest = max(j["largest_bytes"] for j in jobs)
        verdict = _verdict(largest <= GOAL_PIECE_MB * MB)
        seconds = max(0, largest - 44) / (2 * OUTPUT_RATE)
        _goal("largest piece", f"{largest / MB:5.2f} MB", f"{GOAL_PIECE_MB} MB", verdict, f"{seconds:.0f} s")
        if m.median(JOB) > 8 * 60:
            print(
                "    note: over the job's 8-minute budget: a real invocation would stop and queue a "
                "continuation, which decodes the recording again from the start"
            )


def _ffmpeg_version(ffmpeg: str) -> str:
    try:
        done = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    first = done.stdout.splitlines()[0] if done.stdout else ""
    return " ".join(first.split()[:3]) or "version unknown"


def _generate(recipes: Sequence[Recipe], sources: Mapping[Kind, Path], work: Path) -> dict[Kind, float]:
    """Writes the recordings in parallel children (the mp3 encoder is the slow part): their wall times."""
    outcomes: dict[Kind, float | BaseException] = {}

    def generate(recipe: Recipe) -> None:
        spec = {"task": "generate", "recipe": asdict(recipe), "path": str(sources[recipe.kind])}
        try:
            outcomes[recipe.kind] = start_child(spec, work, f"generate-{recipe.kind}")[0].wall_s
        except BaseException as error:  # re-raised on the main thread below
            outcomes[recipe.kind] = error

    threads = [threading.Thread(target=generate, args=(recipe,)) for recipe in recipes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    walls: dict[Kind, float] = {}
    for kind, outcome in outcomes.items():
        if isinstance(outcome, BaseException):
            raise outcome
        walls[kind] = outcome
    return walls


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=DESCRIPTION)
    parser.add_argument("--minutes-mixed", type=float, default=120, help="mixed mp3 length (default 120)")
    parser.add_argument("--minutes-unmixed", type=float, default=60, help="unmixed wav length (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every step (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seeds who speaks when (default 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: one step in a fresh process
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(json.loads(args.child))
    if args.minutes_mixed <= 0 or args.minutes_unmixed <= 0 or args.rounds < 1:
        parser.error("--minutes-mixed and --minutes-unmixed must be positive, --rounds at least 1")

    recipes = [
        Recipe("mixed", args.minutes_mixed, MIXED_RATE, MIXED_CHANNELS, args.seed),
        Recipe("unmixed", args.minutes_unmixed, UNMIXED_RATE, UNMIXED_CHANNELS, args.seed + 1),
    ]
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        _progress("ffmpeg is not on PATH: the ffmpeg comparison is skipped, the rest runs")
    results: list[Measured] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            work = Path(tmp)
            sources = {r.kind: work / f"source-{r.kind}.{r.ext}" for r in recipes}
            _progress("generating the recordings, both at once (not measured)")
            generated = _generate(recipes, sources, work)
            for recipe in recipes:
                measured = measure(recipe, sources[recipe.kind], work / "blobs", work, ffmpeg, args.rounds)
                measured.generate_s = generated[recipe.kind]
                results.append(measured)
    except BenchError as error:
        print(f"pipeline bench failed: {error}", file=sys.stderr)
        return 1
    report(results, ffmpeg, _ffmpeg_version(ffmpeg) if ffmpeg else "", args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
