// The scenario's recording, made by the test: two synthetic voices (espeak-ng) in one 2-channel 16 kHz
// WAV, alice on channel 1 and bob on channel 2, each channel silent while the other speaks, as ACS's
// unmixed audio puts each participant on a channel of their own.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface Turn {
  speaker: "alice" | "bob";
  /** Where the turn starts and ends in the recording, in seconds. */
  start: number;
  end: number;
  text: string;
}

export interface TwoVoiceRecording {
  path: string;
  turns: Turn[];
  durationSeconds: number;
}

const VOICES = { alice: "en-us+f3", bob: "en-us+m3" } as const;
const CHANNEL = { alice: 0, bob: 1 } as const;
const RATE = 16_000;
const GAP_SECONDS = 0.8;

const SCRIPT: { speaker: "alice" | "bob"; text: string }[] = [
  { speaker: "alice", text: "Good morning everyone. Let us review the budget for the next quarter." },
  { speaker: "bob", text: "Thanks Alice. I think we should approve the budget today." },
  { speaker: "alice", text: "Agreed. We will meet again next Tuesday to decide on hiring." },
  { speaker: "bob", text: "I will send the updated numbers before Friday." },
];

function duration(path: string): number {
  const out = execFileSync("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "format=duration",
    "-of",
    "csv=p=0",
    path,
  ]);
  return Number(out.toString().trim());
}

export function makeTwoVoiceRecording(dir: string, name = "standup.wav"): TwoVoiceRecording {
  const turns: Turn[] = [];
  const inputs: string[] = [];
  let at = 0.3;
  SCRIPT.forEach((line, index) => {
    const wav = join(dir, `turn-${index}-${line.speaker}.wav`);
    execFileSync("espeak-ng", ["-v", VOICES[line.speaker], "-s", "150", "-w", wav, line.text]);
    const seconds = duration(wav);
    turns.push({ speaker: line.speaker, start: at, end: at + seconds, text: line.text });
    inputs.push("-i", wav);
    at += seconds + GAP_SECONDS;
  });
  const total = at;

  // Each turn resampled, delayed to its start, and mixed into its speaker's channel (the other channel
  // has only silence there); the two channels joined into one stereo file of exactly `total` seconds.
  const filters: string[] = [];
  const byChannel: string[][] = [[], []];
  turns.forEach((turn, index) => {
    const delay = Math.round(turn.start * 1000);
    filters.push(`[${index}:a]aresample=${RATE},adelay=${delay}:all=1,apad=whole_dur=${total}[t${index}]`);
    byChannel[CHANNEL[turn.speaker]]?.push(`[t${index}]`);
  });
  byChannel.forEach((labels, channel) => {
    filters.push(`${labels.join("")}amix=inputs=${labels.length}:normalize=0:duration=longest[c${channel}]`);
  });
  filters.push(`[c0][c1]join=inputs=2:channel_layout=stereo:map=0.0-FL|1.0-FR[out]`);

  const path = join(dir, name);
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y"],
    ...inputs,
    ...["-filter_complex", filters.join(";"), "-map", "[out]"],
    ...["-ar", String(RATE), "-ac", "2", "-c:a", "pcm_s16le", "-t", total.toFixed(3), path],
  ]);
  return { path, turns, durationSeconds: duration(path) };
}
