"""How good the offline notes are: decisions and action items found by the offline summarizer, against each
meeting's ground truth, from a perfect transcript and from the offline transcript.

The meetings are the scripts in `bench/meetings/` (the team corpus's scripts: speakers with espeak-ng voices,
turns, and the decisions and action items a person would write down). For each meeting, side by side in one
run:

- **perfect**: the script's own words as the transcript (one segment per turn, the speakers' display names
  set), which measures the summarizer alone;
- **unpunctuated**: the same words lower-cased with no punctuation, as some recognisers give them, which
  measures how the summarizer copes with run-ons;
- **offline**: the script rendered with espeak-ng into an unmixed recording (one channel per speaker, as
  ACS delivers it) and transcribed by `python -m devhost process` with the local transcriber (pocketsphinx),
  which measures what a user of the offline providers gets.

Matching rule: a found item matches a truth item when they share at least two content words (lower-cased,
stop words out, a plural or verb ending stripped) and those are at least half of the shorter item's (the
truth is written by a person, often longer than what was said: "Ship the retries behind a feature flag so
they can be switched off without a deploy" for "Let's go with a feature flag for the webhook retries");
each truth item and each found item is matched at most once, best overlap first. An action item's owner is
right when it names the truth owner (their id, display name, or first or last name). Recall = matched truth
items / truth items; precision = matched found items / found items; "owners right" counts matched action
items whose owner is right.

Goal (issue 17): from the offline transcript, at least half of the decisions and of the action items, owners
right. The word error rate of the offline transcript is printed beside, because no summarizer finds a
decision whose words the recogniser lost. It prints; it does not gate.

    python -m bench.notes_quality [--keep DIR]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.offline_wer import word_errors, words
from shared.adapters.local_summarizer import LocalSummarizer
from shared.summaries import SummaryContent
from shared.transcripts import Segment, Speaker, Transcript

ROOT = Path(__file__).resolve().parents[1]
MEETINGS = Path(__file__).resolve().parent / "meetings"
RATE = 16_000
GAP_SECONDS = 0.6
GOAL = 0.5
MATCH = 0.5  # share of the truth item's content words the found item must hold

_STOP = frozenset(
    """a an the and or but to of in on for by with at from as is are be was were will would can could should
    this that these those it its we our you your i my me he she they them his her their so then than there
    here do does did have has had not no yes just only about into over up down out off all any some more most
    very also let lets let's us""".split()  # noqa: SIM905 - a word list reads better as prose
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Score:
    truth: int
    found: int
    matched: int
    owners_right: int = 0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else (1.0 if not self.truth else 0.0)


@dataclass(frozen=True)
class Result:
    meeting: str
    source: str  # "perfect" or "offline"
    decisions: Score
    actions: Score
    wer: float | None = None


def stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if len(word) > len(ending) + 2 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(word) for word in _WORD.findall(text.lower()) if word not in _STOP}


def overlap(truth: str, found: str) -> float:
    wanted, got = content_words(truth), content_words(found)
    shared = len(wanted & got)
    return shared / min(len(wanted), len(got)) if shared >= 2 else 0.0


def pairs(truths: Sequence[str], founds: Sequence[str]) -> list[tuple[int, int]]:
    """One-to-one matches (truth index, found index), best overlap first."""
    candidates = sorted(
        (
            (overlap(truth, found), t, f)
            for t, truth in enumerate(truths)
            for f, found in enumerate(founds)
            if overlap(truth, found) >= MATCH
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_f: set[int] = set()
    matched: list[tuple[int, int]] = []
    for _, t, f in candidates:
        if t not in used_t and f not in used_f:
            used_t.add(t)
            used_f.add(f)
            matched.append((t, f))
    return matched


def names_of(script: dict[str, Any]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for speaker in script["speakers"]:
        words = speaker["name"].split()
        names[speaker["id"]] = {speaker["id"].casefold(), speaker["name"].casefold(), words[0].casefold()}
        names[speaker["id"]].add(words[-1].casefold())
    return names


def score(script: dict[str, Any], notes: SummaryContent) -> tuple[Score, Score]:
    decisions = [decision.text for decision in notes.decisions]
    truth_decisions = list(script["decisions"])
    decided = Score(len(truth_decisions), len(decisions), len(pairs(truth_decisions, decisions)))

    truth_items = script["actionItems"]
    items = notes.action_items
    matched = pairs([item["task"] for item in truth_items], [item.task for item in items])
    names = names_of(script)
    owners_right = sum(
        1
        for t, f in matched
        if (items[f].owner or "").casefold() in names.get(truth_items[t]["owner"], set())
        or any(
            word in names.get(truth_items[t]["owner"], set())
            for word in (items[f].owner or "").casefold().split()
        )
    )
    acted = Score(len(truth_items), len(items), len(matched), owners_right)
    return decided, acted


def speakers_of(script: dict[str, Any]) -> list[Speaker]:
    return [Speaker(id=s["id"], user_id=s["id"], display_name=s["name"]) for s in script["speakers"]]


def perfect_transcript(name: str, script: dict[str, Any]) -> Transcript:
    """The script's words, one segment per turn, timed at espeak-ng's pace (about 2.7 words a second)."""
    segments: list[Segment] = []
    at = 0.0
    for turn in script["turns"]:
        if "silence" in turn:
            at += float(turn["silence"])
            continue
        seconds = max(0.5, len(turn["text"].split()) / 2.7)
        segments.append(
            Segment(
                start=round(at, 3), end=round(at + seconds, 3), speaker=turn["speaker"], text=turn["text"]
            )
        )
        at += seconds + GAP_SECONDS
    return Transcript(
        recording_id=name,
        language="en",
        duration_seconds=round(at, 3),
        speakers=speakers_of(script),
        segments=segments,
    )


def unpunctuated(transcript: Transcript) -> Transcript:
    segments = [
        segment.model_copy(update={"text": " ".join(re.sub(r"[^\w' ]", " ", segment.text.lower()).split())})
        for segment in transcript.segments
    ]
    return transcript.model_copy(update={"segments": segments})


def _read_mono(path: Path) -> array.array[int]:
    with wave.open(str(path), "rb") as source:
        return array.array("h", source.readframes(source.getnframes()))


def render(script: dict[str, Any], out: Path, espeak: str, ffmpeg: str) -> Path:
    """The script as an unmixed 16 kHz wav: channel i holds speaker i's turns, silence elsewhere."""
    ids = [speaker["id"] for speaker in script["speakers"]]
    voices = {speaker["id"]: speaker for speaker in script["speakers"]}
    channels: list[array.array[int]] = [array.array("h") for _ in ids]
    at = 0
    for index, turn in enumerate(script["turns"]):
        if "silence" in turn:
            at += round(float(turn["silence"]) * RATE)
            continue
        voice = voices[turn["speaker"]]
        raw = out / f"turn{index}.raw.wav"
        wav16 = out / f"turn{index}.wav"
        subprocess.run(
            [
                espeak,
                "-v",
                voice["voice"],
                "-s",
                str(voice.get("speed", 165)),
                "-p",
                str(voice.get("pitch", 50)),
                "-w",
                str(raw),
                turn["text"],
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-i",
                str(raw),
                "-ar",
                str(RATE),
                "-ac",
                "1",
                "-sample_fmt",
                "s16",
                str(wav16),
            ],
            check=True,
            capture_output=True,
        )
        samples = _read_mono(wav16)
        channel = channels[ids.index(turn["speaker"])]
        for each in channels:
            each.extend([0] * (at - len(each)))
        channel.extend(samples)
        at += len(samples) + round(GAP_SECONDS * RATE)
    length = max(at, *(len(each) for each in channels))
    for each in channels:
        each.extend([0] * (length - len(each)))
    frames = array.array("h", bytes(2 * length * len(ids)))
    for number, each in enumerate(channels):
        frames[number :: len(ids)] = each
    path = out / "unmixed.wav"
    with wave.open(str(path), "wb") as target:
        target.setnchannels(len(ids))
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(frames.tobytes())
    return path


def offline_transcript(name: str, script: dict[str, Any], work: Path, espeak: str, ffmpeg: str) -> Transcript:
    audio = render(script, work, espeak, ffmpeg)
    channels = ",".join(f"{index}={speaker['id']}" for index, speaker in enumerate(script["speakers"]))
    out = work / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "devhost",
            "process",
            str(audio),
            "--channels",
            channels,
            "--language",
            script.get("language", "en"),
            "--out",
            str(out),
            # What the transcription job gives the recogniser: the participants' names and the title.
            "--names",
            ",".join(speaker["name"] for speaker in script["speakers"]),
            "--title",
            script.get("title", name),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    transcript = Transcript.model_validate_json((out / "transcript.json").read_text())
    # The pipeline sets the participants' display names on the speakers; `devhost process` their ids.
    names = {speaker["id"]: speaker["name"] for speaker in script["speakers"]}
    speakers = [
        speaker.model_copy(update={"display_name": names.get(speaker.user_id or "", speaker.display_name)})
        for speaker in transcript.speakers
    ]
    return transcript.model_copy(update={"speakers": speakers, "recording_id": name})


def word_error_rate(reference: Iterable[str], hypothesis: Iterable[str]) -> float:
    """As bench.offline_wer counts it: word errors over the words said."""
    said = [word for text in reference for word in words(text)]
    heard = [word for text in hypothesis for word in words(text)]
    return word_errors(said, heard) / len(said) if said else 0.0


async def notes_of(transcript: Transcript, title: str) -> SummaryContent:
    return (await LocalSummarizer().summarize(transcript, title=title)).content


def _percent(value: float) -> str:
    return f"{100 * value:5.1f}%"


def report(results: Sequence[Result]) -> None:
    print(
        f"{'meeting':<10} {'source':<12} {'decisions R/P':>16} {'actions R/P':>16} "
        f"{'owners right':>13} {'WER':>7}"
    )
    for result in results:
        d, a = result.decisions, result.actions
        print(
            f"{result.meeting:<10} {result.source:<12} "
            f"{d.matched}/{d.truth} {_percent(d.recall)} {_percent(d.precision):>6}  "
            f"{a.matched}/{a.truth} {_percent(a.recall)} {_percent(a.precision):>6}  "
            f"{a.owners_right:>6}/{a.truth:<6} "
            f"{'' if result.wer is None else _percent(result.wer)}"
        )
    for source in ("perfect", "unpunctuated", "offline"):
        chosen = [result for result in results if result.source == source]
        if not chosen:
            continue
        decisions = _total(result.decisions for result in chosen)
        actions = _total(result.actions for result in chosen)
        owned = actions.owners_right / actions.truth if actions.truth else 1.0
        verdict = "PASS" if min(decisions.recall, owned) >= GOAL else "FAIL"
        goal = (
            f"  goal (offline) recall >= {GOAL:.0%}, owners right: {verdict}" if source == "offline" else ""
        )
        print(
            f"all {source:<12} decisions recall {_percent(decisions.recall)} "
            f"precision {_percent(decisions.precision)}; "
            f"action items recall {_percent(actions.recall)} precision {_percent(actions.precision)}, "
            f"owners right {_percent(owned)}{goal}"
        )


def _total(scores: Iterable[Score]) -> Score:
    chosen = list(scores)
    return Score(
        truth=sum(s.truth for s in chosen),
        found=sum(s.found for s in chosen),
        matched=sum(s.matched for s in chosen),
        owners_right=sum(s.owners_right for s in chosen),
    )


async def run(keep: Path | None) -> list[Result]:
    espeak, ffmpeg = shutil.which("espeak-ng"), shutil.which("ffmpeg")
    results: list[Result] = []
    scripts = {path.stem: json.loads(path.read_text()) for path in sorted(MEETINGS.glob("*.json"))}
    with tempfile.TemporaryDirectory(prefix="notes-quality-") as temporary:
        base = keep or Path(temporary)
        for name, script in scripts.items():
            title = script.get("title", name)
            decided, acted = score(script, await notes_of(perfect_transcript(name, script), title))
            results.append(Result(name, "perfect", decided, acted))
            decided, acted = score(
                script, await notes_of(unpunctuated(perfect_transcript(name, script)), title)
            )
            results.append(Result(name, "unpunctuated", decided, acted))
            if espeak is None or ffmpeg is None:
                continue
            work = base / name
            work.mkdir(parents=True, exist_ok=True)
            transcript = offline_transcript(name, script, work, espeak, ffmpeg)
            decided, acted = score(script, await notes_of(transcript, title))
            reference = [turn["text"] for turn in script["turns"] if "text" in turn]
            wer = word_error_rate(reference, [segment.text for segment in transcript.segments])
            results.append(Result(name, "offline", decided, acted, wer))
    if espeak is None or ffmpeg is None:
        print(
            "espeak-ng or ffmpeg is not on PATH: the offline rows are skipped (make e2e-tools installs them)"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.notes_quality", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--keep", type=Path, help="keep the rendered audio and transcripts here")
    args = parser.parse_args(argv)
    print("bench.notes_quality: offline notes against ground truth (bench/meetings)")
    report(asyncio.run(run(args.keep)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
