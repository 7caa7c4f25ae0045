// The recording routes the pages use, typed from the generated client, plus the downloads (fetched with
// the bearer header and saved through an object URL, since a plain link cannot carry the header).
import { api, apiBaseUrl, authorizationHeader } from "../api/client";
import { ApiError, call, type Problem } from "../api/errors";
import type { components } from "../api/schema";

export type Recording = components["schemas"]["RecordingOut"];
export type CreatedRecording = components["schemas"]["CreatedRecording"];
export type UploadTarget = components["schemas"]["UploadOut"];
export type CreateRecordingBody = components["schemas"]["CreateRecording"];

// TODO(recordings helper): the generated TranscriptOut / SummaryOut / MediaOut once api2 is merged.
export interface Speaker {
  id: string;
  userId?: string | null;
  displayName?: string | null;
}
export interface Segment {
  start: number;
  end: number;
  speaker?: string | null;
  text: string;
}
export interface Transcript {
  recordingId: string;
  language: string;
  durationSeconds: number;
  speakers: Speaker[];
  segments: Segment[];
}
export interface ActionItem {
  owner?: string | null;
  task: string;
  due?: string | null;
}
export interface Chapter {
  title: string;
  start: number;
  end: number;
  summary: string;
}
export interface Summary {
  overview: string;
  keyPoints: string[];
  decisions: { text: string }[];
  actionItems: ActionItem[];
  chapters: Chapter[];
  openQuestions: string[];
  model: string;
  generatedAt: string;
}
export interface Media {
  url: string;
  expiresOn: string;
}

export type Meeting = components["schemas"]["MeetingOut"];

/** The meeting: who organizes it (may regenerate) and the names its participants go by. */
export async function getMeeting(meetingId: string): Promise<Meeting> {
  const { data } = await call(api.GET("/meetings/{meetingId}", { params: { path: { meetingId } } }));
  return data;
}

const path = (meetingId: string, recordingId: string) => ({ params: { path: { meetingId, recordingId } } });

export async function listRecordings(meetingId: string): Promise<Recording[]> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings", { params: { path: { meetingId } } }),
  );
  return data.items;
}

export async function getRecording(meetingId: string, recordingId: string): Promise<Recording> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}", path(meetingId, recordingId)),
  );
  return data;
}

export async function createRecording(
  meetingId: string,
  body: CreateRecordingBody,
): Promise<CreatedRecording> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/recordings", { params: { path: { meetingId } }, body }),
  );
  return data;
}

export async function deleteRecording(meetingId: string, recordingId: string): Promise<void> {
  await call(api.DELETE("/meetings/{meetingId}/recordings/{recordingId}", path(meetingId, recordingId)));
}

/** The transcript JSON; ApiError 409 while it is not ready. */
export async function getTranscript(meetingId: string, recordingId: string): Promise<Transcript> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/transcript", {
      params: { path: { meetingId, recordingId }, query: { format: "json" } },
    }),
  );
  return data as unknown as Transcript;
}

/** The summary JSON; ApiError 409 while it is not ready. */
export async function getSummary(meetingId: string, recordingId: string): Promise<Summary> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/summary", {
      params: { path: { meetingId, recordingId }, query: { format: "json" } },
    }),
  );
  return data as unknown as Summary;
}

/** Summarize again (organizer): 202 with the recording, now summarizing. */
export async function regenerateSummary(meetingId: string, recordingId: string): Promise<Recording> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/recordings/{recordingId}/summary", path(meetingId, recordingId)),
  );
  return data;
}

// TODO(recordings helper): api.POST / api.GET with the generated types once api2 (upload, media) is merged.
async function rawJson<T>(method: string, route: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}${route}`, { method, headers: await authorizationHeader() });
  } catch {
    throw new ApiError(0, null, true);
  }
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) throw new ApiError(response.status, (body as Problem | null) ?? null);
  return body as T;
}

const recordingRoute = (meetingId: string, recordingId: string) =>
  `/meetings/${encodeURIComponent(meetingId)}/recordings/${encodeURIComponent(recordingId)}`;

/** A fresh upload URL for a recording awaiting its upload or failed. */
export function renewUpload(meetingId: string, recordingId: string): Promise<CreatedRecording> {
  return rawJson("POST", `${recordingRoute(meetingId, recordingId)}/upload`);
}

/** A short-lived read URL of the recording's file, for the player. */
export function getMedia(meetingId: string, recordingId: string): Promise<Media> {
  return rawJson("GET", `${recordingRoute(meetingId, recordingId)}/media`);
}

export type ArtifactFormat =
  { kind: "transcript"; format: "json" | "vtt" | "srt" | "txt" } | { kind: "summary"; format: "json" | "md" };

/** "standup.wav" -> "standup.transcript.vtt": the name a download is saved as. */
export function downloadName(fileName: string, artifact: ArtifactFormat): string {
  const dot = fileName.lastIndexOf(".");
  const stem = (dot > 0 ? fileName.slice(0, dot) : fileName).trim() || "recording";
  return `${stem}.${artifact.kind}.${artifact.format}`;
}

/** Fetches an artifact with the bearer header and hands it to the browser as a file download. */
export async function downloadArtifact(
  meetingId: string,
  recordingId: string,
  fileName: string,
  artifact: ArtifactFormat,
): Promise<void> {
  const url = `${apiBaseUrl}${recordingRoute(meetingId, recordingId)}/${artifact.kind}?format=${artifact.format}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: await authorizationHeader() });
  } catch {
    throw new ApiError(0, null, true);
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as Problem | null;
    throw new ApiError(response.status, problem);
  }
  const blob = await response.blob();
  const objectUrl = URL.createObjectURL(blob);
  try {
    const link = document.createElement("a");
    link.href = objectUrl;
    link.download = downloadName(fileName, artifact);
    link.style.display = "none";
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // After the click has handed the blob to the download; revoking at once can cancel it in some browsers.
    setTimeout(() => {
      URL.revokeObjectURL(objectUrl);
    }, 10_000);
  }
}
