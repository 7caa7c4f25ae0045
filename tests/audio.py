"""Synthetic test audio: tones and noise bursts separated by silences, encoded with PyAV or `wave`.

Tests build their recordings here instead of reading sample files, so the expected pause positions are
known exactly.
"""

from __future__ import annotations

import array
import functools
import io
import math
import random
import wave
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

Kind = Literal["silence", "tone", "noise"]
Layout = Sequence[tuple[Kind, float]]  # (what, seconds), played one after the other

AMPLITUDE = 0.3  # about -10 dBFS RMS for a tone: clearly above the -40 dBFS silence threshold


def pcm(layout: Layout, *, rate: int = 16_000, seed: int = 1) -> bytes:
    """Mono s16 PCM for the layout."""
    return b"".join(_render(kind, seconds, rate, seed) for kind, seconds in layout)


def _render(kind: Kind, seconds: float, rate: int, seed: int) -> bytes:
    # One second is computed in Python and tiled: a 440 Hz tone repeats exactly every second at the
    # usual rates, and repeated noise is still noise to a silence detector. Keeps minutes of audio cheap.
    count = round(seconds * rate)
    unit = _unit(kind, rate, seed)
    whole, rest = divmod(count, rate)
    return unit * whole + unit[: rest * 2]


@functools.cache
def _unit(kind: Kind, rate: int, seed: int) -> bytes:
    if kind == "silence":
        return bytes(2 * rate)
    if kind == "tone":
        step = 2 * math.pi * 440 / rate
        return array.array("h", (int(32767 * AMPLITUDE * math.sin(step * i)) for i in range(rate))).tobytes()
    rng = random.Random(seed)
    return array.array("h", (int(32767 * AMPLITUDE * rng.uniform(-1, 1)) for _ in range(rate))).tobytes()


def bursts(layout: Layout) -> list[tuple[float, float]]:
    """(start, end) seconds of the non-silent parts of a layout."""
    spans: list[tuple[float, float]] = []
    at = 0.0
    for kind, seconds in layout:
        if kind != "silence":
            spans.append((at, at + seconds))
        at += seconds
    return spans


def interleave(channels: Sequence[bytes]) -> bytes:
    """Interleaved s16 PCM from one mono s16 buffer per channel (all of the same length)."""
    count = len(channels)
    out = array.array("h", bytes(len(channels[0]) * count))
    for index, channel in enumerate(channels):
        out[index::count] = array.array("h", channel)
    return out.tobytes()


def wav(channels: Sequence[bytes], *, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(len(channels))
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(interleave(channels))
    return buffer.getvalue()


# (container format, codec) of the encodings tests try besides WAV
ENCODINGS: dict[str, tuple[str, str]] = {
    "mp3": ("mp3", "libmp3lame"),
    "mp4": ("mp4", "aac"),
    "flac": ("flac", "flac"),
    "ogg": ("ogg", "libopus"),
}


def encode(mono: bytes, fmt: str, *, rate: int = 16_000) -> bytes:
    """Mono s16 PCM encoded as `fmt` (a key of ENCODINGS, or "wav")."""
    if fmt == "wav":
        return wav([mono], rate=rate)
    import av

    container_format, codec = ENCODINGS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        # Opus only runs at 48 kHz; PyAV resamples frames to what the encoder takes.
        stream = container.add_stream(codec, rate=48_000 if codec == "libopus" else rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        chunk = 1024
        samples = len(mono) // 2
        for offset in range(0, samples, chunk):
            data = mono[offset * 2 : (offset + chunk) * 2]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(data) // 2)
            frame.planes[0].update(data)
            frame.sample_rate = rate
            frame.pts = offset
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def video_only_mp4() -> bytes:
    """A few frames of video and no audio stream."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 40]) * plane.buffer_size)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def write_long_wav(path: Path, *, minutes: int, pattern: Layout) -> float:
    """Write a mono 16 kHz WAV of `minutes` by repeating `pattern` a second at a time; return seconds.

    Writing hours this way costs no more memory than a second of audio.
    """
    pattern_seconds = sum(seconds for _, seconds in pattern)
    repeats = math.ceil(minutes * 60 / pattern_seconds)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        for _ in range(repeats):
            for kind, seconds in pattern:
                whole, rest = divmod(seconds, 1.0)
                for _ in range(int(whole)):
                    writer.writeframes(pcm([(kind, 1.0)]))
                if rest:
                    writer.writeframes(pcm([(kind, rest)]))
    return repeats * pattern_seconds


def decode(path: Path, *, rate: int = 16_000) -> bytes:
    """A recording (e.g. a committed speech fixture) as mono s16 PCM at `rate`."""
    import av

    out = bytearray()
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                out += bytes(resampled.planes[0])[: resampled.samples * 2]
        for resampled in resampler.resample(None):
            out += bytes(resampled.planes[0])[: resampled.samples * 2]
    return bytes(out)


def silence(seconds: float, *, rate: int = 16_000) -> bytes:
    return bytes(round(seconds * rate) * 2)
