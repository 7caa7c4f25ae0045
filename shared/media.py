"""Streamed media preparation for speech-to-text.

Decodes a recording of any length frame by frame with PyAV, resamples it to 16 kHz mono 16-bit PCM (the
whole mix, or each channel of an unmixed recording on its own), drops silence and cuts what is left at
pauses into WAV pieces small enough for one speech-to-text request. Packed (`pack=True`), the speech of a
channel is joined across its pauses (and so across the other speakers' turns) into pieces as long as the
limits allow, each with the map from its time to the recording's (`Piece.spans`). Memory stays bounded by
about one piece per channel, whatever the recording's length.

Everything here blocks (decoding is CPU work): async callers run it through `asyncio.to_thread`.
PyAV is imported inside the functions so that importing this module costs nothing at cold start.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream
    from av.container import InputContainer

__all__ = [
    "SAMPLE_RATE",
    "MediaError",
    "MediaErrorKind",
    "MediaInfo",
    "MediaSource",
    "Piece",
    "Span",
    "iter_pieces",
    "probe",
]

SAMPLE_RATE = 16_000  # what speech-to-text models are trained on; more only costs upload bytes
_SAMPLE_BYTES = 2  # s16
_WINDOW_SAMPLES = SAMPLE_RATE * 30 // 1000  # 30 ms: short enough to find pauses between words
_WINDOW_BYTES = _WINDOW_SAMPLES * _SAMPLE_BYTES
# Kept around speech so that soft onsets and decays (below the threshold) still reach the recogniser.
_PAD_WINDOWS = 2
_WAV_HEADER_BYTES = 44
_RESAMPLE_CHUNK_SECONDS = 1.0  # decoded audio resampled per call (see _pcm_planes)
# Declared and decoded durations of intact files differ by codec padding (a few frames); more than this
# means the end of the file is missing.
_TRUNCATION_TOLERANCE_SECONDS = 1.0

MediaErrorKind = Literal["empty", "not_audio", "no_audio_stream", "truncated", "corrupt"]
MediaSource = str | os.PathLike[str] | IO[bytes]


class MediaError(Exception):
    """A recording that cannot be turned into audio: permanent, retrying will not help."""

    def __init__(self, kind: MediaErrorKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: MediaErrorKind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration_seconds: float | None  # None when the container does not say (e.g. some streamed formats)
    channels: int
    sample_rate: int
    codec: str


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a piece's audio that is a stretch of the recording: `duration` seconds at
    `piece_offset` in the piece are the same seconds at `recording_offset` in the recording."""

    piece_offset: float
    recording_offset: float
    duration: float


@dataclass(frozen=True, slots=True)
class Piece:
    channel: int | None  # 0-based channel of an unmixed recording; None for the mixed-down audio
    start_seconds: float  # offsets in the original recording: where the first span starts, the last ends
    end_seconds: float
    wav: bytes  # 16 kHz mono s16 WAV
    # Where the piece's audio comes from, in order; the audio between two spans is inserted silence.
    spans: tuple[Span, ...] = ()

    @property
    def duration_seconds(self) -> float:
        """The stretch of the recording the piece covers (more than its audio when it is packed)."""
        return self.end_seconds - self.start_seconds

    @property
    def audio_seconds(self) -> float:
        """The audio sent: what a transcriber bills and takes time over."""
        return max(0, len(self.wav) - _WAV_HEADER_BYTES) / _SAMPLE_BYTES / SAMPLE_RATE

    def shifted(self, seconds: float) -> Piece:
        """The same piece of a recording that starts `seconds` later (a part after others)."""
        return Piece(
            self.channel,
            self.start_seconds + seconds,
            self.end_seconds + seconds,
            self.wav,
            tuple(Span(s.piece_offset, s.recording_offset + seconds, s.duration) for s in self.spans),
        )


def probe(source: MediaSource) -> MediaInfo:
    """Describe the first audio stream; raise `MediaError` when there is no decodable audio.

    Reads the header and decodes only the first audio frame, so it is cheap for any length. Truncation
    is found here only for WAV (from the RIFF size); other formats show it while decoding.
    """
    with _open_audio(source) as (container, stream):
        _first_frame(container, stream)
        info = MediaInfo(
            duration_seconds=_declared_seconds(container, stream),
            channels=stream.codec_context.layout.nb_channels,
            sample_rate=stream.codec_context.sample_rate,
            codec=stream.codec_context.codec.canonical_name,
        )
    missing = _riff_missing_bytes(source)
    if missing:
        raise MediaError("truncated", f"the WAV header announces {missing} more bytes than the file holds")
    return info


def iter_pieces(
    source: MediaSource,
    *,
    per_channel: bool,
    max_piece_seconds: float = 600,
    max_piece_bytes: int = 24 * 1024 * 1024,
    min_silence_seconds: float = 0.6,
    silence_threshold_dbfs: float = -40,
    target_piece_seconds: float = 0.0,
    long_silence_seconds: float = 2.0,
    on_decoded: Callable[[float], None] | None = None,
    pack: bool = False,
    gap_seconds: float = 0.5,
    first_piece_seconds: float | None = None,
    on_speech: Callable[[float], None] | None = None,
) -> Iterator[Piece]:
    """Yield the non-silent parts of a recording as 16 kHz mono WAV pieces.

    Pieces are cut at pauses of at least `min_silence_seconds`, or at the size limits when a speaker
    does not pause. With `per_channel`, every channel is split on its own (`Piece.channel` is its
    0-based index); each channel's pieces come in time order, and the channels' pieces interleave in
    the order they end. A file that turns out truncated or corrupt part way raises `MediaError` after
    the pieces decoded before the damage have been yielded, so a caller may keep them.

    With `target_piece_seconds`, a piece shorter than that is not closed at a short pause, only at a
    silence of `long_silence_seconds` or more (silence is still never sent for long): fewer, longer
    pieces mean fewer requests and more context for the recogniser. `on_decoded` is told the seconds of
    input decoded so far as decoding goes on, and the total at the end (the recording's duration).

    With `pack`, the stretches of speech between pauses are not sent one by one: a channel's stretches
    are put one after the other, `gap_seconds` of silence between two (a recogniser then sees a boundary,
    and does not run the words of two turns together), until the next would break a limit. A stretch is
    split only when it alone breaks one. `Piece.spans` says where each stretch comes from. A channel's
    first piece is packed only up to `first_piece_seconds` (when given, and below the maximum): the
    transcriber gets work early in the decoding instead of once a whole maximal piece has filled, and a
    short recording is more than one request at a time. `on_speech` is
    told the seconds of audio found for pieces so far (closed or still filling), after each `on_decoded`:
    packed pieces close late, and progress wants to know how much there is to transcribe before.
    """
    max_pcm_bytes = _max_pcm_bytes(max_piece_seconds, max_piece_bytes)
    threshold = 32768 * 10 ** (silence_threshold_dbfs / 20)  # RMS amplitude of s16 samples
    min_silence_bytes = max(1, round(min_silence_seconds * SAMPLE_RATE)) * _SAMPLE_BYTES
    long_silence_bytes = max(min_silence_bytes, round(long_silence_seconds * SAMPLE_RATE) * _SAMPLE_BYTES)
    target_bytes = min(max_pcm_bytes, round(target_piece_seconds * SAMPLE_RATE) * _SAMPLE_BYTES)
    if pack:  # every pause ends a stretch: the packer, not the splitter, decides where pieces end
        pauses = _Pauses(min_silence_bytes, min_silence_bytes, 0)
    else:
        pauses = _Pauses(min_silence_bytes, long_silence_bytes, target_bytes)
    gap_bytes = round(gap_seconds * SAMPLE_RATE) * _SAMPLE_BYTES
    first_bytes = max_pcm_bytes
    if first_piece_seconds is not None:
        first_bytes = min(max_pcm_bytes, round(first_piece_seconds * SAMPLE_RATE) * _SAMPLE_BYTES)
    with _open_audio(source) as (container, stream):
        channels = stream.codec_context.layout.nb_channels if per_channel else 1
        cutters: list[_Splitter | _Packer] = []
        for ch in range(channels):
            splitter = _Splitter(ch if per_channel else None, threshold, pauses, max_pcm_bytes)
            cutters.append(_Packer(splitter, max_pcm_bytes, gap_bytes, first_bytes) if pack else splitter)
        decoded_seconds = 0.0
        for planes, seconds in _pcm_planes(container, stream, per_channel=per_channel):
            decoded_seconds += seconds
            if on_decoded is not None and seconds:
                on_decoded(decoded_seconds)
            for cutter, pcm in zip(cutters, planes, strict=True):
                yield from cutter.feed(pcm)
            if on_speech is not None and seconds:
                on_speech(sum(cutter.found_bytes for cutter in cutters) / _SAMPLE_BYTES / SAMPLE_RATE)
        for cutter in cutters:
            yield from cutter.finish()
        declared = _declared_seconds(container, stream)
    _check_complete(source, declared, decoded_seconds)
    if on_decoded is not None:
        on_decoded(decoded_seconds)


# --- opening and decoding ---------------------------------------------------------------------------


@contextmanager
def _open_audio(source: MediaSource) -> Iterator[tuple[InputContainer, AudioStream]]:
    import av  # noqa: PLC0415 - cold start: PyAV loads the FFmpeg libraries

    reader = None
    if not isinstance(source, str | os.PathLike) and not source.seekable():
        reader = _CountingReader(source)
    if reader is None and _is_empty(source):
        raise MediaError("empty", "the file is empty (0 bytes)")
    try:
        container = av.open(reader or source, mode="r")
    except av.error.FFmpegError as exc:
        if reader is not None and reader.count == 0:
            raise MediaError("empty", "the file is empty (0 bytes)") from None
        raise MediaError("not_audio", f"not a recognised audio or video file ({_reason(exc)})") from None
    try:
        if not container.streams.audio:
            raise MediaError("no_audio_stream", _no_audio_detail(container))
        yield container, container.streams.audio[0]
    finally:
        container.close()


def _first_frame(container: InputContainer, stream: AudioStream) -> None:
    frames = _decode(container, stream)
    if next(frames, None) is None:
        raise _nothing_decoded(container, stream)


def _decode(container: InputContainer, stream: AudioStream) -> Iterator[AudioFrame]:
    """Decoded frames; FFmpeg's errors become `MediaError`s that say where the damage is."""
    import av  # noqa: PLC0415

    frames = container.decode(stream)
    seconds = 0.0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            if seconds == 0:
                detail = f"no audio could be decoded from this {container.format.name} file ({_reason(exc)})"
                raise MediaError("not_audio", detail) from None
            detail = f"decoding failed after {seconds:.1f} s of audio ({_reason(exc)})"
            raise MediaError("corrupt", detail) from None
        seconds += frame.samples / (frame.sample_rate or 1)
        yield frame


def _pcm_planes(
    container: InputContainer, stream: AudioStream, *, per_channel: bool
) -> Iterator[tuple[list[bytes], float]]:
    """16 kHz s16 PCM, one plane per channel (or one mixed-down plane), with the input seconds it covers.

    Unmixed audio is resampled as planar audio in its own layout, which converts every channel on its
    own and never mixes them; mixed audio is downmixed to mono by the same resampler.
    """
    import av  # noqa: PLC0415

    resampler: av.AudioResampler | None = None
    # Decoded frames are gathered and resampled a second at a time: an mp3 frame holds 24 ms, and each
    # resample call has a fixed cost (~12 us) that, paid 150 times a second, was the largest part of the
    # pipeline's time. The FIFO holds at most a second of decoded audio.
    fifo = av.AudioFifo()
    chunk = 0

    def resampled(frame: AudioFrame | None) -> Iterator[tuple[list[bytes], float]]:
        assert resampler is not None
        seconds = frame.samples / (frame.sample_rate or 1) if frame is not None else 0.0
        for out in resampler.resample(frame):
            yield _planes_of(out), seconds
            seconds = 0.0

    def flush() -> Iterator[tuple[list[bytes], float]]:
        rest = fifo.read()  # what is left, less than a chunk; None when nothing is
        if rest is not None:
            yield from resampled(rest)
        yield from resampled(None)  # the resampler's filter keeps a few samples back

    try:
        for frame in _decode(container, stream):
            if resampler is None:
                layout = frame.layout if per_channel else "mono"
                resampler = av.AudioResampler(format="s16p", layout=layout, rate=SAMPLE_RATE)
                chunk = max(1, round((frame.sample_rate or SAMPLE_RATE) * _RESAMPLE_CHUNK_SECONDS))
            frame.pts = None  # else the FIFO refuses a gap in the timestamps; seconds come from samples
            fifo.write(frame)
            for gathered in fifo.read_many(chunk):
                yield from resampled(gathered)
    except MediaError:
        if resampler is not None:
            yield from flush()  # what decoded before the damage still reaches the splitters
        raise
    if resampler is None:
        raise _nothing_decoded(container, stream)
    yield from flush()


def _planes_of(frame: AudioFrame) -> list[bytes]:
    size = frame.samples * _SAMPLE_BYTES  # planes are padded for SIMD: keep only the samples
    return [bytes(plane)[:size] for plane in frame.planes]


# --- splitting at pauses ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pauses:
    """Which pauses end a piece: any of `short` bytes once the piece has `target` bytes, else `long`."""

    short: int
    long: int
    target: int

    def ends_piece(self, piece_bytes: int, silence_bytes: int) -> bool:
        if silence_bytes >= self.long:
            return True
        return silence_bytes >= self.short and piece_bytes - silence_bytes >= self.target


class _Splitter:
    """Cuts one channel's 16 kHz PCM into pieces of speech, holding at most one piece in memory."""

    def __init__(self, channel: int | None, threshold: float, pauses: _Pauses, max_bytes: int) -> None:
        self.channel = channel
        self._threshold = threshold
        self._pauses = pauses
        self._max_bytes = max_bytes
        self._pending = bytearray()  # input not yet a whole window
        self._window_start = 0  # sample index of the next window
        self._piece: bytearray | None = None
        self._piece_start = 0  # sample index
        self._voiced_end = 0  # bytes of the piece up to the end of its last voiced window
        self._lead_in = bytearray()  # the last silent windows, to give the next piece a soft start
        self._closed_bytes = 0  # PCM bytes in the pieces closed so far

    @property
    def found_bytes(self) -> int:
        """PCM bytes of speech found so far: in closed pieces and in the one filling."""
        return self._closed_bytes + self.open_bytes

    @property
    def open_bytes(self) -> int:
        """PCM bytes the piece still filling would have if it closed now (its trailing silence trimmed as
        a close trims it; none between pieces): it only grows from here."""
        if self._piece is None:
            return 0
        return min(len(self._piece), self._voiced_end + _PAD_WINDOWS * _WINDOW_BYTES)

    def feed(self, pcm: bytes) -> Iterator[Piece]:
        self._pending += pcm
        offset = 0
        while len(self._pending) - offset >= _WINDOW_BYTES:
            yield from self._window(self._pending[offset : offset + _WINDOW_BYTES])
            offset += _WINDOW_BYTES
        del self._pending[:offset]

    def finish(self) -> Iterator[Piece]:
        if self._pending:
            yield from self._window(bytes(self._pending))
            self._pending.clear()
        if self._piece is not None:
            yield self._close()

    def _window(self, window: bytes | bytearray) -> Iterator[Piece]:
        voiced = _rms(window) > self._threshold
        if self._piece is not None and len(self._piece) + len(window) > self._max_bytes:
            yield self._close()  # no pause before the limit: cut here, speech goes on in the next piece
        if self._piece is None:
            if voiced:
                self._open(window)
            else:
                self._lead_in += window
                del self._lead_in[: -_PAD_WINDOWS * _WINDOW_BYTES]
        else:
            self._piece += window
            if voiced:
                self._voiced_end = len(self._piece)
            elif self._pauses.ends_piece(len(self._piece), len(self._piece) - self._voiced_end):
                yield self._close()
        self._window_start += len(window) // _SAMPLE_BYTES

    def _open(self, window: bytes | bytearray) -> None:
        lead_in = self._lead_in[-max(0, self._max_bytes - len(window)) :] if self._lead_in else b""
        self._piece = bytearray(lead_in)
        self._piece += window
        self._piece_start = self._window_start - len(lead_in) // _SAMPLE_BYTES
        self._voiced_end = len(self._piece)
        self._lead_in = bytearray()

    def _close(self) -> Piece:
        assert self._piece is not None
        end = min(len(self._piece), self._voiced_end + _PAD_WINDOWS * _WINDOW_BYTES)
        wav = b"".join((_wav_header(end), memoryview(self._piece)[:end]))
        self._piece = None  # release the buffer before the caller gets the WAV
        self._closed_bytes += end
        start = self._piece_start / SAMPLE_RATE
        seconds = end / _SAMPLE_BYTES / SAMPLE_RATE
        return Piece(self.channel, start, start + seconds, wav, (Span(0.0, start, seconds),))


class _Packer:
    """Joins one channel's stretches of speech (the splitter's pieces, cut at every pause) into pieces as
    long as the limit allows, with `gap` bytes of silence between two stretches. Holds about one piece:
    its own, and the splitter's stretch while that still fits in it."""

    def __init__(self, splitter: _Splitter, max_bytes: int, gap: int, first_bytes: int) -> None:
        self._splitter = splitter
        self._max_bytes = first_bytes  # this piece's limit: the first one's, then the maximum
        self._full_bytes = max_bytes
        self._gap = gap
        self._pcm = bytearray()
        self._spans: list[Span] = []
        self._closed_bytes = 0
        self._taken = 0  # of the splitter's found bytes, those handed over to this packer

    @property
    def found_bytes(self) -> int:
        return self._closed_bytes + len(self._pcm) + self._splitter.found_bytes - self._taken

    def feed(self, pcm: bytes) -> Iterator[Piece]:
        for stretch in self._splitter.feed(pcm):
            yield from self._add(stretch)
        # The stretch still being spoken will not fit in this piece any more: send the piece now rather
        # than hold it (memory: one piece per channel, not two) and have the transcriber wait for it.
        if self._spans and len(self._pcm) + self._gap + self._splitter.open_bytes > self._max_bytes:
            yield self._close()

    def finish(self) -> Iterator[Piece]:
        for stretch in self._splitter.finish():
            yield from self._add(stretch)
        if self._spans:
            yield self._close()

    def _add(self, stretch: Piece) -> Iterator[Piece]:
        audio = memoryview(stretch.wav)[_WAV_HEADER_BYTES:]
        self._taken += len(audio)
        if self._spans and len(self._pcm) + self._gap + len(audio) > self._max_bytes:
            yield self._close()
        if self._spans:
            self._pcm += bytes(self._gap)
        offset = len(self._pcm) / _SAMPLE_BYTES / SAMPLE_RATE
        self._spans.append(Span(offset, stretch.start_seconds, len(audio) / _SAMPLE_BYTES / SAMPLE_RATE))
        self._pcm += audio

    def _close(self) -> Piece:
        pcm, spans = self._pcm, tuple(self._spans)
        self._pcm, self._spans = bytearray(), []
        self._max_bytes = self._full_bytes
        self._closed_bytes += len(pcm)
        wav = b"".join((_wav_header(len(pcm)), pcm))
        del pcm  # one copy of the audio at a time
        last = spans[-1]
        return Piece(
            self._splitter.channel,
            spans[0].recording_offset,
            last.recording_offset + last.duration,
            wav,
            spans,
        )


def _max_pcm_bytes(max_piece_seconds: float, max_piece_bytes: int) -> int:
    by_time = math.floor(max_piece_seconds * SAMPLE_RATE) * _SAMPLE_BYTES
    by_size = (max_piece_bytes - _WAV_HEADER_BYTES) // _SAMPLE_BYTES * _SAMPLE_BYTES
    limit = min(by_time, by_size)
    if limit < _WINDOW_BYTES:
        raise ValueError(f"pieces must hold at least {_WINDOW_SAMPLES / SAMPLE_RATE} s of audio")
    return limit


def _wav_header(data_bytes: int) -> bytes:
    byte_rate = SAMPLE_RATE * _SAMPLE_BYTES
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        *(b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE, byte_rate),
        *(_SAMPLE_BYTES, 8 * _SAMPLE_BYTES, b"data", data_bytes),
    )


def _load_rms() -> Callable[[bytes | bytearray], float]:
    # audioop measures in C (fast enough for hours of audio without numpy); it is gone in Python 3.13,
    # where the slower pure-Python fallback takes over.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop  # noqa: PLC0415
    except ImportError:  # pragma: no cover - Python 3.13+
        import array  # noqa: PLC0415

        def rms(window: bytes | bytearray) -> float:
            samples = array.array("h", window)
            return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0

        return rms

    def audioop_rms(window: bytes | bytearray) -> float:
        return float(audioop.rms(window, _SAMPLE_BYTES))

    return audioop_rms


_rms = _load_rms()


# --- sources and diagnostics ------------------------------------------------------------------------


class _CountingReader:
    """A forward-only stream, counting what FFmpeg read so that an empty one can be told from garbage."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data


def _is_unseekable_stream(source: MediaSource) -> bool:
    return not isinstance(source, str | os.PathLike) and not source.seekable()


def _is_empty(source: MediaSource) -> bool:
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source) == 0
    position = source.tell()
    size = source.seek(0, os.SEEK_END)
    source.seek(position)
    return size <= position


def _riff_missing_bytes(source: MediaSource) -> int:
    """Bytes a WAV file's RIFF header announces beyond the file's end (FFmpeg quietly stops there)."""
    if _is_unseekable_stream(source):
        return 0
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return _riff_missing_in(file)
    position = source.tell()
    try:
        source.seek(0)
        return _riff_missing_in(source)
    finally:
        source.seek(position)


def _riff_missing_in(file: IO[bytes]) -> int:
    head = file.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    riff_size = int.from_bytes(head[4:8], "little")
    if riff_size in (0, 0xFFFFFFFF):  # writers that stream use placeholders: no size to check
        return 0
    actual = file.seek(0, os.SEEK_END)
    return max(0, riff_size + 8 - actual)


def _declared_seconds(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _check_complete(source: MediaSource, declared: float | None, decoded: float) -> None:
    missing = _riff_missing_bytes(source)
    if missing:
        raise MediaError(
            "truncated",
            f"the WAV file ends after {decoded:.1f} s of audio; its header announces {missing} more bytes",
        )
    if declared is not None and declared - decoded > _TRUNCATION_TOLERANCE_SECONDS:
        raise MediaError(
            "truncated",
            f"the file ends after {decoded:.1f} s of audio; its header announces {declared:.1f} s",
        )


def _nothing_decoded(container: InputContainer, stream: AudioStream) -> MediaError:
    declared = _declared_seconds(container, stream)
    if declared:
        detail = f"the header announces {declared:.1f} s of audio but the file holds none"
        return MediaError("truncated", detail)
    return MediaError("empty", f"the {container.format.name} file has an audio stream but no audio samples")


def _no_audio_detail(container: InputContainer) -> str:
    kinds = [stream.type for stream in container.streams]
    found = ", ".join(f"{kinds.count(kind)} {kind}" for kind in sorted(set(kinds))) or "no streams"
    return f"the {container.format.name} file has no audio stream ({found})"


def _reason(exc: Exception) -> str:
    # FFmpeg's messages repeat the file name (or an object repr for file-likes): keep only the reason.
    reason = getattr(exc, "strerror", None)
    return reason if isinstance(reason, str) and reason else str(exc)
