"""Offline accuracy: the word error rate of the local transcriber (PocketSphinx) on corpus-like meetings,
before and after what issue 17 gives it, side by side in one run.

- **before**: the recogniser as it was: pocketsphinx's defaults, the audio as it comes (dithered only),
  no meeting context;
- **after**: the adapter's tuning (`TUNED`: the decoder settings and audio preparation measured kept the
  defaults, see shared/adapters/local_transcriber.py) and the meeting's context (participants' user ids
  and display names, title, description) as extra vocabulary and LM weight.

The meetings are spoken at bench time by espeak-ng (needs `espeak-ng` on PATH; nothing is read from a
corpus folder): the issue's two-voice clip (bench.turnaround's lines and its two Klatt voices: twelve lines,
108 words in 48 s, where the issue's clip was the first 40 s, 97 words) and three meetings like the
shared corpus's (2-3 speakers each, on the corpus's kind of voices: en-gb, en-us, en-029, en-gb-x-rp,
en-gb-scotland at various pitches). Each meeting's turns are joined
into one mixed 16 kHz mono WAV with a pause between turns and go through `shared.speech.transcribe_source`
and `shared.transcripts.merge`, as the transcription job does. The word error rate is computed on
lower-case words without punctuation (Levenshtein over words / words said). `--corpus DIR` also prints
the figures for the shared corpus's meetings (`DIR/meetings/*/mixed.wav` or `unmixed.wav` with
`truth.json`), when it exists.

Goal (issue 17, goal 5): after <= half of before. The bench prints; it does not gate.

    python -m bench.offline_wer [--corpus /work/shared/corpus] [--only two-voice]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import shutil
import subprocess
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.ports import TranscriptionContext

DESCRIPTION = "Offline word error rate on corpus-like meetings: before (defaults), after (tuning + context)."
RATE = 16_000
TURN_PAUSE_SECONDS = 0.7
GOAL_RATIO = 0.5  # after / before
# The measurements before this work: the two-voice clip and the worst of the other voices.
BASELINE = "49% on the two-voice clip, up to 87% on other voices"


@dataclass(frozen=True)
class Voice:
    user_id: str
    display_name: str
    voice: str  # espeak-ng voice (+ variant)
    speed: int = 160  # words a minute
    pitch: int = 50


@dataclass(frozen=True)
class Meeting:
    name: str
    title: str
    description: str | None
    speakers: tuple[Voice, ...]
    turns: tuple[tuple[str, str], ...]  # (user id, text)

    def speaker(self, user_id: str) -> Voice:
        return next(voice for voice in self.speakers if voice.user_id == user_id)


def _two_voice() -> Meeting:
    # bench.turnaround's clip: its lines in turn by two Klatt voices until 40 s (here whole lines: 97
    # words, the clip).
    from bench.turnaround import LINES, VOICES, WORDS_PER_MINUTE

    alice = Voice("alice", "Alice", VOICES[0], WORDS_PER_MINUTE)
    bob = Voice("bob", "Bob", VOICES[1], WORDS_PER_MINUTE)
    turns = tuple(((alice, bob)[turn % 2].user_id, LINES[turn % len(LINES)]) for turn in range(12))
    return Meeting("two-voice", "Release plan", None, (alice, bob), turns)


MEETINGS: tuple[Meeting, ...] = (
    _two_voice(),
    Meeting(
        "design-review",
        "Checkout redesign review",
        "Review the new checkout page, the coupon field and the Stripe error messages before launch.",
        (
            Voice("nadia", "Nadia Kowalski", "en-gb+f3", 168, 55),
            Voice("owen", "Owen Price", "en-us+m3", 165, 40),
            Voice("lucia", "Lucia Romero", "en-029+f2", 160, 60),
        ),
        (
            ("nadia", "Good afternoon. We review the checkout redesign. Owen, can you show the new page?"),
            ("owen", "Sure. The coupon field moved under the basket, and the pay button is bigger."),
            ("lucia", "The Stripe error messages are still hard to read on small screens."),
            ("nadia", "Agreed. We will rewrite the error messages before the launch."),
            ("owen", "Should we keep the old checkout page for a week?"),
            ("nadia", "Yes, we keep it behind a switch until Friday. Lucia, please test the coupon field."),
            ("lucia", "I will test it on three phones and send the results by Wednesday."),
            ("owen", "And I will update the design notes tomorrow morning."),
        ),
    ),
    Meeting(
        "budget-sync",
        "Quarterly budget sync",
        "Marketing budget for the spring campaign and the cloud hosting costs.",
        (
            Voice("hannah", "Hannah Moreau", "en-us+f4", 160, 60),
            Voice("callum", "Callum Reid", "en-gb-scotland+m1", 158, 45),
        ),
        (
            ("hannah", "Thanks for joining, Callum. The hosting costs went up again this quarter."),
            ("callum", "Most of it is storage. We keep every backup for a whole year."),
            ("hannah", "Can we keep them for three months instead?"),
            ("callum", "Yes, that would save about a third of the bill."),
            ("hannah", "Then we decided it. Backups are kept for three months from now on."),
            ("callum", "I will change the backup policy on Monday and tell the finance team."),
            ("hannah", "Good. I will move the savings to the spring campaign."),
        ),
    ),
    Meeting(
        "incident-retro",
        "Login outage retrospective",
        "What happened during the login outage on Tuesday and how we stop it happening again.",
        (
            Voice("kenji", "Kenji Watanabe", "en-gb-x-rp+m2", 162, 45),
            Voice("fatima", "Fatima Haddad", "en-us+f3", 165, 55),
        ),
        (
            ("kenji", "Let us go through the login outage. It started at nine in the morning."),
            ("fatima", "The certificate on the identity server expired, and nobody got an alert."),
            ("kenji", "How long did it take to fix it?"),
            ("fatima", "About forty minutes. Most of the time went into finding the cause."),
            ("kenji", "We will add an alert two weeks before any certificate expires."),
            ("fatima", "I can write that alert this week. Kenji, could you update the runbook?"),
            ("kenji", "Yes, I will update the runbook by Friday."),
        ),
    ),
)


# --- audio ------------------------------------------------------------------------------------------------


def _espeak(text: str, voice: Voice) -> bytes:
    import av

    wav = subprocess.run(
        ["espeak-ng", "-v", voice.voice, "-s", str(voice.speed), "-p", str(voice.pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    pcm = bytearray()
    with av.open(io.BytesIO(wav), mode="r") as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pcm += bytes(out.planes[0])[: out.samples * 2]
        for out in resampler.resample(None):
            pcm += bytes(out.planes[0])[: out.samples * 2]
    return bytes(pcm)


def render(meeting: Meeting) -> bytes:
    """The meeting as one mixed 16 kHz mono WAV: the turns one after the other, a pause between two."""
    pause = bytes(round(TURN_PAUSE_SECONDS * RATE) * 2)
    pcm = bytearray(pause)
    for user_id, text in meeting.turns:
        pcm += _espeak(text, meeting.speaker(user_id)) + pause
    return _wav(bytes(pcm))


def _wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm)
    return out.getvalue()


# --- scoring ----------------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; digits and hyphens split as a recogniser spells them."""
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " ")).split()


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis."""
    row = list(range(len(hypothesis) + 1))
    for i, said in enumerate(reference, 1):
        previous, row = row, [i] + [0] * len(hypothesis)
        for j, heard in enumerate(hypothesis, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (said != heard))
    return row[-1]


@dataclass(frozen=True)
class Score:
    errors: int
    said: int
    seconds: float  # transcription wall time
    text: str

    @property
    def rate(self) -> float:
        return self.errors / self.said if self.said else 0.0


# --- transcription ----------------------------------------------------------------------------------------


async def transcribe(wav: bytes, *, tuned: bool, context: TranscriptionContext | None) -> tuple[str, float]:
    """The transcript text of a mixed WAV through the job's path, and the time it took."""
    from shared.adapters.local_transcriber import TUNED, UNTUNED, LocalTranscriber
    from shared.speech import transcribe_source
    from shared.transcripts import merge

    transcriber = LocalTranscriber(concurrency=2, tuning=TUNED if tuned else UNTUNED)
    started = time.perf_counter()
    try:
        speech = await transcribe_source(
            lambda: io.BytesIO(wav),
            transcriber,
            per_channel=False,
            language="en",
            context=context,
        )
    finally:
        await transcriber.aclose()
    elapsed = time.perf_counter() - started
    transcript = merge("bench", "en", speech.duration_seconds, speech.pieces, None)
    return " ".join(segment.text for segment in transcript.segments), elapsed


def context_of(meeting: Meeting) -> TranscriptionContext:
    from shared.ports import TranscriptionContext

    return TranscriptionContext(
        names=tuple(name for voice in meeting.speakers for name in (voice.user_id, voice.display_name)),
        title=meeting.title,
        description=meeting.description,
    )


async def score(wav: bytes, reference: str, *, tuned: bool, context: TranscriptionContext | None) -> Score:
    text, seconds = await transcribe(wav, tuned=tuned, context=context)
    said = words(reference)
    return Score(word_errors(said, words(text)), len(said), seconds, text)


def _corpus_meetings(folder: Path) -> list[tuple[str, bytes, str, TranscriptionContext]]:
    """(name, mixed WAV, reference, context) for each corpus meeting with its truth."""
    from shared.ports import TranscriptionContext

    found: list[tuple[str, bytes, str, TranscriptionContext]] = []
    for truth_path in sorted((folder / "meetings").glob("*/truth.json")):
        truth = json.loads(truth_path.read_text())
        mixed = truth_path.parent / "mixed.wav"
        wav = mixed.read_bytes() if mixed.exists() else _mix(truth_path.parent / "unmixed.wav")
        reference = " ".join(segment["text"] for segment in truth["segments"])
        context = TranscriptionContext(
            names=tuple(n for s in truth["speakers"] for n in (s["id"], s["name"])), title=truth["title"]
        )
        found.append((truth_path.parent.name, wav, reference, context))
    return found


def _mix(path: Path) -> bytes:
    import array

    with wave.open(str(path), "rb") as reader:
        channels = reader.getnchannels()
        samples = array.array("h", reader.readframes(reader.getnframes()))
    mixed = array.array(
        "h",
        (max(-32768, min(32767, sum(samples[i : i + channels]))) for i in range(0, len(samples), channels)),
    )
    return _wav(mixed.tobytes())


def _line(name: str, before: Score, after: Score) -> str:
    ratio = after.rate / before.rate if before.rate else 0.0
    verdict = "ok" if ratio <= GOAL_RATIO else "MISSED"
    return (
        f"  {name:<16} {before.said:>4} words   before {before.rate:6.1%} ({before.seconds:4.1f} s)"
        f"   after {after.rate:6.1%} ({after.seconds:4.1f} s)   after/before {ratio:4.2f} {verdict}"
    )


async def run(only: str | None, corpus: Path | None, show: bool) -> None:
    meetings = [meeting for meeting in MEETINGS if only is None or meeting.name == only]
    totals = {True: [0, 0], False: [0, 0]}
    print(f"baseline (issue 17): {BASELINE}; goal: after <= {GOAL_RATIO:.0%} of before")
    for meeting in meetings:
        wav = render(meeting)
        reference = " ".join(text for _, text in meeting.turns)
        before = await score(wav, reference, tuned=False, context=None)
        after = await score(wav, reference, tuned=True, context=context_of(meeting))
        for tuned, result in ((False, before), (True, after)):
            totals[tuned][0] += result.errors
            totals[tuned][1] += result.said
        print(_line(meeting.name, before, after))
        if show:
            print(f"    before: {before.text}\n    after:  {after.text}")
    if len(meetings) > 1:
        before_rate = totals[False][0] / totals[False][1]
        after_rate = totals[True][0] / totals[True][1]
        verdict = "ok" if after_rate <= GOAL_RATIO * before_rate else "MISSED"
        print(
            f"  {'all':<16} {totals[False][1]:>4} words   before {before_rate:6.1%}"
            f"            after {after_rate:6.1%}            after/before "
            f"{after_rate / before_rate:4.2f} {verdict}"
        )
    if corpus is not None:
        if not (corpus / "meetings").is_dir():
            print(f"corpus: {corpus} has no meetings/ folder; skipped")
            return
        print(f"the shared corpus ({corpus}), mixed audio:")
        for name, wav, reference, context in _corpus_meetings(corpus):
            before = await score(wav, reference, tuned=False, context=None)
            after = await score(wav, reference, tuned=True, context=context)
            print(_line(name, before, after))
            if show:
                print(f"    before: {before.text}\n    after:  {after.text}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.offline_wer", description=DESCRIPTION)
    parser.add_argument("--only", choices=[meeting.name for meeting in MEETINGS])
    parser.add_argument("--corpus", type=Path, help="also the shared corpus's meetings, if the folder exists")
    parser.add_argument("--show", action="store_true", help="print what was heard")
    args = parser.parse_args(argv)
    print(f"bench.offline_wer: {DESCRIPTION}")
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng): nothing to measure")
        return
    asyncio.run(run(args.only, args.corpus, args.show))


if __name__ == "__main__":
    main()
