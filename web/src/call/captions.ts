// Live captions of the meeting's call (POST .../captions/start|stop, `caption` events on the live channel):
// the captions as a page shows them, and whether they are on.
//
// A `caption` event is one result of the recognizer: `captionId` names the utterance, so an intermediate
// result is replaced by the next one with the same id and, at last, by the final one. Events come at least
// once and not always in order: a final is never replaced by a late intermediate, and lines are kept in
// the order they were said (`start`), whatever order they arrived in.
import { api } from "../api/client";
import { call } from "../api/errors";
import type { Recording } from "./callRecording";

export interface CaptionLine {
  captionId: string;
  recordingId: string;
  userId: string | null;
  displayName: string | null;
  text: string;
  start: number;
  end: number;
  final: boolean;
}

/** The most lines a page keeps: an hour of talk is far fewer; past it the oldest go. */
export const MAX_LINES = 2000;

/** A caption event's data, or null for anything that is not one. */
export function asCaption(data: Record<string, unknown>): CaptionLine | null {
  const { captionId, recordingId, text, start, end, final, userId, displayName } = data;
  if (typeof captionId !== "string" || typeof recordingId !== "string" || typeof text !== "string")
    return null;
  if (typeof start !== "number" || typeof final !== "boolean") return null;
  return {
    captionId,
    recordingId,
    text,
    start,
    end: typeof end === "number" ? end : start,
    final,
    userId: typeof userId === "string" ? userId : null,
    displayName: typeof displayName === "string" ? displayName : null,
  };
}

/** The lines with `line` applied: a new utterance inserted by time, a revision replacing its utterance. */
export function applyCaption(lines: readonly CaptionLine[], line: CaptionLine): CaptionLine[] {
  const index = lines.findIndex((l) => l.captionId === line.captionId);
  const current = index >= 0 ? lines[index] : undefined;
  if (current !== undefined) {
    if (current.final && !line.final) return [...lines]; // late: the final stays
    const next = [...lines];
    next[index] = line;
    return next;
  }
  const next = [...lines];
  let at = next.length;
  while (at > 0 && (next[at - 1]?.start ?? 0) > line.start) at -= 1;
  next.splice(at, 0, line);
  return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
}

/** Who said it, as the meeting names them. */
export function speakerOf(line: CaptionLine): string {
  return line.displayName ?? line.userId ?? "Someone";
}

export type CaptionsState = "off" | "starting" | "on";

/** The captions in progress among a meeting's recordings (the newest, should there be two). */
export function currentCaptions(recordings: Recording[]): {
  state: CaptionsState;
  recording: Recording | null;
} {
  const running = recordings
    .filter((r) => r.live !== null && (r.live.state === "starting" || r.live.state === "active"))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const recording = running[0] ?? null;
  if (recording === null) return { state: "off", recording: null };
  return { state: recording.live?.state === "active" ? "on" : "starting", recording };
}

export async function startCaptions(meetingId: string): Promise<Recording> {
  const path = { meetingId };
  return (
    await call(
      api.POST("/meetings/{meetingId}/captions/start", { params: { path }, body: { language: null } }),
    )
  ).data;
}

export async function stopCaptions(meetingId: string): Promise<Recording> {
  const path = { meetingId };
  return (await call(api.POST("/meetings/{meetingId}/captions/stop", { params: { path } }))).data;
}
