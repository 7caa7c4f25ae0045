// The recording routes the pages use, typed from the generated client, plus the downloads (fetched with
// the bearer header and saved through an object URL, since a plain link cannot carry the header).
import { api, apiBaseUrl, authorizationHeader } from "../api/client";
import { ApiError, call, type Problem } from "../api/errors";
import type { components } from "../api/schema";

export type Recording = components["schemas"]["RecordingOut"];
export type CreatedRecording = components["schemas"]["CreatedRecording"];
export type UploadTarget = components["schemas"]["UploadOut"];
export type CreateRecordingBody = components["schemas"]["CreateRecording"];

export type Transcript = components["schemas"]["TranscriptOut"];
export type Speaker = components["schemas"]["Speaker"];
export type Segment = components["schemas"]["Segment"];
export type Summary = components["schemas"]["SummaryOut"];
export type Media = components["schemas"]["MediaOut"];

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
  // Typed by the JSON media type: openapi-fetch parses it as such.
  return data as Transcript;
}

/** The summary JSON; ApiError 409 while it is not ready. */
export async function getSummary(meetingId: string, recordingId: string): Promise<Summary> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/summary", {
      params: { path: { meetingId, recordingId }, query: { format: "json" } },
    }),
  );
  return data as Summary;
}

/** Summarize again (organizer): 202 with the recording, now summarizing. */
export async function regenerateSummary(meetingId: string, recordingId: string): Promise<Recording> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/recordings/{recordingId}/summary", path(meetingId, recordingId)),
  );
  return data;
}

/** A fresh upload URL for a recording awaiting its upload or failed. */
export async function renewUpload(meetingId: string, recordingId: string): Promise<CreatedRecording> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/recordings/{recordingId}/upload", path(meetingId, recordingId)),
  );
  return data;
}

/** A short-lived read URL of the recording's file, for the player. */
export async function getMedia(meetingId: string, recordingId: string): Promise<Media> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/media", path(meetingId, recordingId)),
  );
  return data;
}

const recordingRoute = (meetingId: string, recordingId: string) =>
  `/meetings/${encodeURIComponent(meetingId)}/recordings/${encodeURIComponent(recordingId)}`;

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
