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

- The words come out as sentences: cut at pauses (word times from pocketsphinx's segmentation; a speaker
  turn is a pause in mixed audio, and a channel is one speaker), the first word capitalised, a full stop or,
  after a question's opening word, a question mark.
- The meeting's context (participants' names, title, description) becomes vocabulary: each word the LM
  gives little chance to is added as a new LM word with more weight (`Tuning.name_weight`, `term_weight`),
  pronounced as the dictionary says, or as two dictionary words joined, or by letter rules (pocketsphinx
  has no grapheme-to-phoneme model; g2p_en needs NLTK data from the network). It comes out spelled as the
  meeting spells it.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from shared.ports import (
    TranscribedSegment,
    TranscriberLimits,
    TranscriberRejected,
    TranscriberUnavailable,
    Transcription,
    TranscriptionContext,
)

__all__ = [
    "MAX_PIECE_BYTES",
    "MAX_PIECE_SECONDS",
    "NAME",
    "TUNED",
    "UNTUNED",
    "Hint",
    "LocalTranscriber",
    "Tuning",
    "hints_of",
    "segments_of",
]

NAME = "local:pocketsphinx"
MAX_PIECE_BYTES = 24 * 1024 * 1024
# Measured on synthetic speech: accuracy is the same for 10, 30, 60 and 120 s pieces (word error rate
# 0.34-0.38) and decoding runs at 0.19-0.23 of real time, but memory grows with the utterance (about
# 25 MB a minute) and a retried piece is decoded again: 60 s bounds both at about 12 s of CPU per piece.
MAX_PIECE_SECONDS = 60.0

_SAMPLE_RATE = 16_000
_FRAMES_PER_SECOND = 100  # pocketsphinx's default frame rate: word times come in frames
_LANGUAGE = "en"

# A new segment (a sentence) starts at a pause of this length, or when one would grow past these bounds:
# spans that a reader can follow and a subtitle can show. Speakers pause about 0.35 s after a sentence and
# 0.12-0.2 s at a comma or a stop consonant (measured on espeak-ng's voices at 160 words a minute); at
# 0.5 s two sentences of one turn ran into one, which the offline summarizer took for one long statement.
_PAUSE_SECONDS = 0.3
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

# A sentence whose first word is one of these is a question: crude, and right for meeting talk ("Should we
# ship it?", "Can you send it?"); a statement that opens with one ("Will do.") is the price.
_QUESTION_OPENERS = frozenset({
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "should", "shall", "can",
    "could", "would", "will", "do", "does", "did", "is", "are", "was", "were", "have", "has", "may",
    "might", "any",
})  # fmt: skip
_PRONOUN_I = re.compile(r"^i(?='|$)")  # "i", "i'm", "i'll": the recogniser writes everything lower case
# Written with a capital wherever they are (not "may" or "march": words as well as months).
_PROPER = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "april", "june", "july", "august", "september", "october", "november", "december",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tuning:
    """How pieces are decoded: pocketsphinx's options, the audio it is fed, the weight of the meeting's words.

    Chosen by measurement (bench/offline_wer.py, on espeak-ng meetings in nine voices): see TUNED.
    """

    decoder: Mapping[str, bool | int | float | str] = field(default_factory=dict)  # Decoder(**options)
    normalise: bool = False  # each piece scaled to a fixed peak level before decoding
    name_weight: float = 0.0  # a participant's name word in the LM, times the uniform probability; 0: unused
    term_weight: float = 0.0  # a word of the title or description, likewise

    def to_json(self) -> str:
        return json.dumps(
            {
                "decoder": dict(self.decoder),
                "normalise": self.normalise,
                "name_weight": self.name_weight,
                "term_weight": self.term_weight,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Tuning:
        return cls(**json.loads(text))


# Pocketsphinx as it comes: what the bench's "before" runs.
UNTUNED = Tuning()
# Measured on the bench's four espeak-ng meetings (155 s, 9 voices; word error rate 66.7% as it comes, each
# meeting one utterance): the decoder's settings and the audio barely move it, so they stay as they are.
# lw 10: 77.1%; lw 5: 67.2%; remove_noise off, varnorm on, each piece's level normalised: 66.7% (no word
# changed); a fixed VTLN warp (1.15 or 0.87): 65.8%, one voice better and another worse, as a fixed warp
# suits some speakers and not others. What moves it is what the meeting knows: its names and terms.
TUNED = Tuning(decoder={}, normalise=False, name_weight=500.0, term_weight=50.0)


class Hint(NamedTuple):
    """A word the meeting knows: as the decoder gets it (`token`, lower case), as a transcript writes it."""

    token: str
    form: str
    weight: float


_HINT_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
_MIN_HINT_LETTERS = 3  # "al", "ed": too short to be told from common words by their sound
_MAX_HINTS = 100  # a description is short; bounds the decoder's rebuild (about 5 ms a word)
# Marks the decoder's copy of a hint word: a new LM entry with its own weight, as pocketsphinx cannot
# re-weight a word its LM has already. Stripped (and the meeting's spelling restored) on the way out.
_HINT_MARK = "_"
_COMMON_LOG10 = -4.0  # a word the LM already gives more than 1 in 10,000 gets no boost: it is expected


def hints_of(context: TranscriptionContext | None, tuning: Tuning = TUNED) -> tuple[Hint, ...]:
    """The meeting's words for the decoder: names (from user ids and display names), then the title's and the
    description's words, each once, with its weight; none when the tuning gives them no weight."""
    if context is None:
        return ()
    found: dict[str, Hint] = {}

    def add(text: str, weight: float, *, names: bool) -> None:
        if weight <= 0:
            return
        for index, match in enumerate(_HINT_WORD.finditer(text)):
            word = match.group()
            token = word.lower()
            if len(token) < _MIN_HINT_LETTERS or token in found or len(found) >= _MAX_HINTS:
                continue
            # Names keep their capitals ("Kowalski"); a title's first word is capitalised as a title's is.
            form = word if names or (index > 0 and word[0].isupper()) or word.isupper() else token
            found[token] = Hint(token, form, weight)

    for name in context.names:
        add(name.replace(".", " ").replace("_", " ").split("@")[0], tuning.name_weight, names=True)
    for text in (context.title, context.description):
        if text:
            add(text, tuning.term_weight, names=False)
    return tuple(found.values())


class LocalTranscriber:
    """The `Transcriber` port on PocketSphinx, in at most `concurrency` worker processes (one event loop)."""

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        max_piece_seconds: float = MAX_PIECE_SECONDS,
        tuning: Tuning = TUNED,
    ) -> None:
        workers = concurrency if concurrency is not None else (os.cpu_count() or 1)
        if workers < 1:
            raise ValueError("concurrency must be at least 1")
        self._limits = TranscriberLimits(
            max_piece_bytes=MAX_PIECE_BYTES, max_piece_seconds=max_piece_seconds, concurrency=workers
        )
        self._tuning = tuning
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

    async def transcribe(
        self, wav: bytes, *, language: str | None, context: TranscriptionContext | None = None
    ) -> Transcription:
        _check_language(language)
        pcm = _pcm_of(wav, self._limits)
        hints = hints_of(context, self._tuning)
        words = await self._recognise(pcm, hints) if _has_sound(pcm) else []
        forms = {hint.token: hint.form for hint in hints}
        return Transcription(
            segments=segments_of(words, len(pcm) / 2 / _SAMPLE_RATE, forms), language=_LANGUAGE
        )

    async def aclose(self) -> None:
        self._closed = True  # a piece still in flight must not start a worker no one would stop
        workers, self._workers, self._idle = self._workers, set(), []
        await asyncio.gather(*(worker.stop() for worker in workers))

    async def _recognise(self, pcm: bytes, hints: Sequence[Hint]) -> list[_Word]:
        async with self._slots:
            try:
                return await self._recognise_on_a_worker(pcm, hints)
            except _WorkerDied:
                # Once more on a new worker: an idle one may have been killed from outside (the OOM
                # killer picks the biggest process). A piece that kills two in a row is the cause.
                return await self._recognise_on_a_worker(pcm, hints)

    async def _recognise_on_a_worker(self, pcm: bytes, hints: Sequence[Hint]) -> list[_Word]:
        worker = self._idle.pop() if self._idle else await self._start_worker()
        try:
            words = await worker.recognise(pcm, hints)
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
            worker = await _Worker.start(self._tuning)
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


def segments_of(
    words: Sequence[_Word], duration: float, forms: Mapping[str, str] | None = None
) -> list[TranscribedSegment]:
    """Sentences from pocketsphinx's word segmentation, without fillers and silences: a new one at each
    pause (or when one grows too long), its first word capitalised, a full stop or, after a question's
    opening word, a question mark at its end. `forms` spells the meeting's words (hint tokens) as it does."""
    spelling = forms or {}
    groups: list[list[_Word]] = []
    for word, first, last in words:
        if not _is_spoken(word):
            continue
        spoken = (_written(_ALTERNATE_PRONUNCIATION.sub("", word), spelling), first, last)
        if groups and _continues(groups[-1], spoken):
            groups[-1].append(spoken)
        else:
            groups.append([spoken])
    return [_segment(group, duration) for group in groups]


def _is_spoken(word: str) -> bool:
    # `<s>`, `</s>`, `<sil>` mark the utterance and its silences; `[NOISE]`, `[SPEECH]` are fillers.
    return not word.startswith(("<", "["))


def _written(word: str, forms: Mapping[str, str]) -> str:
    if word.endswith(_HINT_MARK):  # the decoder's copy of a meeting's word
        word = word.removesuffix(_HINT_MARK)
        return forms.get(word, word.capitalize())
    return word


def _continues(group: list[_Word], word: _Word) -> bool:
    pause = (word[1] - group[-1][2] - 1) / _FRAMES_PER_SECOND
    length = (word[2] + 1 - group[0][1]) / _FRAMES_PER_SECOND
    return pause < _PAUSE_SECONDS and length <= _MAX_SEGMENT_SECONDS and len(group) < _MAX_SEGMENT_WORDS


def _segment(group: list[_Word], duration: float) -> TranscribedSegment:
    # The last frame's analysis window reaches past the audio's end: times are kept within the piece.
    start = min(group[0][1] / _FRAMES_PER_SECOND, duration)
    end = min((group[-1][2] + 1) / _FRAMES_PER_SECOND, duration)
    return TranscribedSegment(start=start, end=end, text=sentence(word for word, _, _ in group))


def sentence(words: Iterable[str]) -> str:
    """Words as a sentence: the first capitalised, a question mark after a question's opener, else a stop;
    "I" and the days and months with a capital too."""
    text = " ".join(word.capitalize() if word in _PROPER else _PRONOUN_I.sub("I", word) for word in words)
    if not text:
        return text
    opener = text.split(" ", 1)[0].lower()
    return text[0].upper() + text[1:] + ("?" if opener in _QUESTION_OPENERS else ".")


# --- a worker process, seen from the app ----------------------------------------------------------


class _WorkerDied(TranscriberUnavailable):
    pass


class _Worker:
    """One child process decoding one piece at a time: the hints (JSON) and the PCM in on stdin, each after
    its length, and a JSON line out on stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid

    @classmethod
    async def start(cls, tuning: Tuning) -> _Worker:
        # The child imports what this process imports: its sys.path holds the app and its packages
        # (Azure adds .python_packages there), whatever the working directory.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                f"import sys; from {__name__} import serve; serve(sys.argv[1])",
                tuning.to_json(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                limit=_REPLY_LIMIT,
            )
        except OSError as exc:
            raise TranscriberUnavailable(f"could not start a speech recogniser process: {exc}") from None
        return cls(process)

    async def recognise(self, pcm: bytes, hints: Sequence[Hint]) -> list[_Word]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        header = json.dumps([[hint.token, hint.weight] for hint in hints]).encode()
        try:
            for part in (header, pcm):
                stdin.write(len(part).to_bytes(_LENGTH_BYTES, "little"))
                stdin.write(part)
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


def serve(tuning: str = UNTUNED.to_json()) -> None:
    """A worker's loop: a piece in, its words out, until stdin ends (the app closed it, or died)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the app, which then closes the pipe
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the libraries print goes to stderr: stdout carries only replies
    settings = Tuning.from_json(tuning)
    pieces = sys.stdin.buffer
    while (header := _read_part(pieces)) is not None and (pcm := _read_part(pieces)) is not None:
        try:
            hints = tuple((str(token), float(weight)) for token, weight in json.loads(header))
            reply: dict[str, object] = {"words": _recognise(pcm, settings, hints)}
        except Exception as exc:  # the app learns of it and replaces this worker
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


def _read_part(pieces: IO[bytes]) -> bytes | None:
    header = pieces.read(_LENGTH_BYTES)
    if len(header) < _LENGTH_BYTES:
        return None
    size = int.from_bytes(header, "little")
    part = pieces.read(size)
    return part if len(part) == size else None


def _recognise(pcm: bytes, tuning: Tuning, hints: tuple[tuple[str, float], ...]) -> list[_Word]:
    decoder = _decoder(tuning.to_json(), hints)
    decoder.start_utt()
    decoder.process_raw(_dither(_level(pcm) if tuning.normalise else pcm), full_utt=True)
    decoder.end_utt()
    return [(seg.word, seg.start_frame, seg.end_frame) for seg in decoder.seg() or ()]


# One decoder at a time, for the hints of the pieces now coming (one recording's, usually): another
# recording's hints build a new one (about 0.3 s), as a decoder cannot forget words it was given, and a
# piece's words must not depend on which recording the worker decoded before.
@functools.lru_cache(maxsize=1)
def _decoder(tuning: str, hints: tuple[tuple[str, float], ...]) -> Any:  # pocketsphinx ships no types
    from pocketsphinx import Decoder  # type: ignore[import-untyped]  # noqa: PLC0415 - heavy; workers only

    # The bundled en-us model; FATAL keeps its chatter off stderr.
    decoder = Decoder(loglevel="FATAL", **Tuning.from_json(tuning).decoder)
    lm = decoder.get_lm()
    words: list[tuple[str, str]] = []
    for token, weight in hints:
        known = decoder.lookup_word(token)
        if known is not None and lm.prob([token]) * _LOG10_PER_UNIT > _COMMON_LOG10:
            continue  # a common word: the LM expects it already, and more weight would put it everywhere
        phones = known or _phones_of(token, decoder.lookup_word)
        if phones:
            # A new LM word first (a weight only takes for a new one), then its pronunciation.
            lm.add_word(token + _HINT_MARK, weight)
            words.append((token + _HINT_MARK, phones))
    for index, (word, phones) in enumerate(words):
        # The search is rebuilt once, with the last word (set_lm with the changed LM crashes pocketsphinx).
        decoder.add_word(word, phones, update=index == len(words) - 1)
    return decoder


_LOG10_PER_UNIT = 4.3427276862669e-05  # pocketsphinx's log base is 1.0001: log10(1.0001)


# A vowel that ends a word sounds as its name or as a schwa ("Okonkwo", "Chiara").
_FINAL_VOWELS = {"o": "OW", "a": "AH", "i": "IY", "y": "IY"}

# Spelling to ARPABET for a word the dictionary lacks (pocketsphinx has no letter-to-sound model): two
# dictionary words joined ("runbook"), else letter rules, longest first. Rough, but a name's consonants
# are what the acoustic model matches best, and the rules get those.
_LETTERS: dict[str, str] = {
    "tch": "CH", "sch": "S K", "igh": "AY", "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ck": "K",
    "ng": "NG", "qu": "K W", "wh": "W", "kn": "N", "gh": "G", "ee": "IY", "ea": "IY", "oo": "UW",
    "ou": "AW", "ow": "OW", "oi": "OY", "oy": "OY", "ai": "EY", "ay": "EY", "ei": "EY", "ey": "EY",
    "ie": "IY", "au": "AO", "aw": "AO", "ue": "UW", "ew": "UW", "ar": "AA R", "er": "ER", "ir": "ER",
    "ur": "ER", "or": "AO R", "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G",
    "h": "HH", "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S", "y": "IY",
    "z": "Z", "'": "",
}  # fmt: skip
_LONGEST_LETTERS = max(map(len, _LETTERS))
_MIN_PART_LETTERS = 3


def _phones_of(word: str, lookup: Callable[[str], str | None]) -> str | None:
    for cut in range(len(word) - _MIN_PART_LETTERS, _MIN_PART_LETTERS - 1, -1):
        head, tail = lookup(word[:cut]), lookup(word[cut:])
        if head and tail:
            return f"{head} {tail}"
    return letters_to_phones(word)


def letters_to_phones(word: str) -> str | None:
    """ARPABET by letter rules: doubled letters once, a final silent e, y as a consonant first."""
    text = re.sub(r"(.)\1", r"\1", word.lower())
    if len(text) > _MIN_PART_LETTERS and text.endswith("e") and text[-2] not in "aeiouy":
        text = text[:-1]
    phones: list[str] = []
    if text.startswith("y"):
        phones.append("Y")
        text = text[1:]
    index = 0
    while index < len(text):
        if index == len(text) - 1 and index and text[index] in _FINAL_VOWELS:
            phones.append(_FINAL_VOWELS[text[index]])
            break
        for size in range(min(_LONGEST_LETTERS, len(text) - index), 0, -1):
            sound = _LETTERS.get(text[index : index + size])
            if sound is not None:
                phones += sound.split()
                index += size
                break
        else:  # not a letter the rules know (the hint pattern admits none)
            return None
    return " ".join(phones) or None


# Level: each piece is scaled so that its peak sits here (about -3 dBFS): a quiet speaker's frames reach
# the model at the level the loud ones do.
_PEAK_LEVEL = 0.7 * 32767


def _level(pcm: bytes) -> bytes:
    functions = _audioop()
    if functions is None:  # pragma: no cover - Python 3.13+
        samples = array.array("h", pcm)
        peak = max(map(abs, samples), default=0)
        factor = _PEAK_LEVEL / peak if peak else 1.0
        return array.array("h", (max(-32768, min(32767, round(v * factor))) for v in samples)).tobytes()
    peak = functions.max(pcm, 2)
    return functions.mul(pcm, 2, _PEAK_LEVEL / peak) if peak else pcm


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
    mul: Callable[[bytes, int, float], bytes]  # saturating


@functools.cache
def _audioop() -> _Audioop | None:
    # audioop works in C; it is gone in Python 3.13, where slower pure-Python code takes over.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop  # noqa: PLC0415
    except ImportError:  # pragma: no cover - Python 3.13+
        return None
    return _Audioop(add=audioop.add, max=audioop.max, mul=audioop.mul)
