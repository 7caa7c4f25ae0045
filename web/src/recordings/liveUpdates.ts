// What a live event (README, "Live events") changes in a recording the page shows. Events carry ids and
// the new state, never the whole recording: what they carry is applied at once, the rest is read.
import type { LiveEvent } from "../live/hub";
import type { Recording } from "./recordingApi";

export type RecordingChange =
  /** Apply to the recording with this id (if shown); `version` orders status changes. */
  | { kind: "patch"; recordingId: string; version: number | null; apply: (r: Recording) => Recording }
  /** The event does not carry enough: read the recording. */
  | { kind: "read"; recordingId: string };

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;

function withArtifacts(recording: Recording, names: string[]): string[] {
  return [...recording.artifacts, ...names.filter((n) => !recording.artifacts.includes(n))];
}

function errorOf(value: unknown): Recording["error"] {
  if (typeof value !== "object" || value === null) return null;
  const { code, detail } = value as { code?: unknown; detail?: unknown };
  return typeof code === "string" ? { code, detail: typeof detail === "string" ? detail : "" } : null;
}

/** The change an event makes to one of the meeting's recordings; null for events about something else. */
export function recordingChange(event: LiveEvent): RecordingChange | null {
  const recordingId = str(event.data.recordingId);
  if (recordingId === null) return null;
  const d = event.data;
  switch (event.type) {
    case "recording.status": {
      const status = str(d.status);
      if (status === null) return { kind: "read", recordingId };
      return {
        kind: "patch",
        recordingId,
        version: num(d.version),
        apply: (r) => ({
          ...r,
          status: status as Recording["status"],
          stage: (str(d.stage) ?? r.stage) as Recording["stage"],
          progress: num(d.progress) ?? r.progress,
          error: errorOf(d.error),
        }),
      };
    }
    case "transcript.ready":
      return {
        kind: "patch",
        recordingId,
        version: null,
        apply: (r) => ({
          ...r,
          language: str(d.language) ?? r.language,
          durationSeconds: num(d.durationSeconds) ?? r.durationSeconds,
          artifacts: withArtifacts(r, ["transcript.json"]),
        }),
      };
    case "summary.ready":
      return {
        kind: "patch",
        recordingId,
        version: null,
        apply: (r) => ({ ...r, artifacts: withArtifacts(r, ["summary.json", "summary.md"]) }),
      };
    case "recording.created":
    case "callRecording.state":
      // Created: its size, dates and channels are not in the event. A call's state: its `call` part.
      return { kind: "read", recordingId };
    default:
      return null;
  }
}

/**
 * Keeps status changes in order: a change older than one applied already (an at-least-once redelivery
 * that dedup could not catch, events crossing a read) is dropped. Returns whether to apply it.
 */
export function newerVersion(
  applied: Map<string, number>,
  recordingId: string,
  version: number | null,
): boolean {
  if (version === null) return true;
  const last = applied.get(recordingId);
  if (last !== undefined && version <= last) return false;
  applied.set(recordingId, version);
  return true;
}
