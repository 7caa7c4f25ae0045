// Recording the meeting's call with ACS (POST .../recording/start|pause|resume|stop): the state the API
// reports, read from the meeting's recordings, and which controls that state allows.
import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";

export type Recording = components["schemas"]["RecordingOut"];
export type CallAction = "start" | "pause" | "resume" | "stop";

/** "none": nothing records the call; "starting": ACS is being asked; then "active" or "paused". */
export type CallRecordingState = "none" | "starting" | "active" | "paused";

export interface CallRecordingView {
  state: CallRecordingState;
  /** The recording being made, for pause/resume/stop. */
  recording: Recording | null;
}

/** The call recording in progress among a meeting's recordings (the newest, should there be two). */
export function currentCallRecording(recordings: Recording[]): CallRecordingView {
  const running = recordings
    .filter((r) => r.call !== null && r.status === "recording")
    .filter((r) => ["starting", "active", "paused"].includes(r.call?.state ?? ""))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const recording = running[0] ?? null;
  if (recording === null) return { state: "none", recording: null };
  return { state: recording.call?.state as CallRecordingState, recording };
}

/** Which buttons the state allows. */
export function allowedActions(state: CallRecordingState): Record<CallAction, boolean> {
  return {
    start: state === "none",
    pause: state === "active",
    resume: state === "paused",
    stop: state === "active" || state === "paused",
  };
}

export const STATE_TEXT: Record<CallRecordingState, string> = {
  none: "Not recording",
  starting: "Starting…",
  active: "Recording",
  paused: "Paused",
};

export async function listRecordings(meetingId: string): Promise<Recording[]> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings", { params: { path: { meetingId } } }),
  );
  return data.items;
}

export async function controlCallRecording(
  meetingId: string,
  action: CallAction,
  recordingId: string | null,
): Promise<Recording> {
  const path = { meetingId };
  const query = recordingId === null ? {} : { recordingId };
  switch (action) {
    case "start":
      return (
        await call(
          api.POST("/meetings/{meetingId}/recording/start", {
            params: { path },
            // Every field has a default: audio, mixed, the first format ACS allows for them.
            body: {} as components["schemas"]["StartCallRecording"],
          }),
        )
      ).data;
    case "pause":
      return (await call(api.POST("/meetings/{meetingId}/recording/pause", { params: { path, query } })))
        .data;
    case "resume":
      return (await call(api.POST("/meetings/{meetingId}/recording/resume", { params: { path, query } })))
        .data;
    case "stop":
      return (await call(api.POST("/meetings/{meetingId}/recording/stop", { params: { path, query } }))).data;
  }
}
