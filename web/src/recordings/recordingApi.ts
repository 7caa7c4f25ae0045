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
export type SummaryEdit = components["schemas"]["SummaryEdit"];
export type SummaryVersion = components["schemas"]["SummaryVersionOut"];
export type NameSpeakerBody = { userId: string } | { displayName: string };

// The ETag each summary was served with (PUT and approve send it as If-Match). Kept beside the object, not
// in it, so the summary stays the server's shape; one the page got elsewhere falls back to the documented
// `"summary-<version>"`.
const etags = new WeakMap<Summary, string>();

/** The ETag to send as If-Match when changing this summary. */
export function summaryETag(summary: Summary): string {
  return etags.get(summary) ?? `"summary-${summary.version}"`;
}

function tagged(summary: Summary, response: Response): Summary {
  const etag = response.headers.get("ETag");
  if (etag !== null) etags.set(summary, etag);
  return summary;
}

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
  const { data, response } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/summary", {
      params: { path: { meetingId, recordingId }, query: { format: "json" } },
    }),
  );
  return tagged(data as Summary, response);
}

/**
 * Summarize again (organizer): 202 with the recording, now summarizing. `force` replaces a summary a
 * person edited or approved (409 without it); the versions are kept.
 */
export async function regenerateSummary(
  meetingId: string,
  recordingId: string,
  force = false,
): Promise<Recording> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/recordings/{recordingId}/summary", {
      params: { path: { meetingId, recordingId }, query: force ? { force: true } : {} },
    }),
  );
  return data;
}

/** The organizer's corrected summary, a new version; ApiError 412 when someone changed it since `etag`. */
export async function saveSummary(
  meetingId: string,
  recordingId: string,
  body: SummaryEdit,
  etag: string,
): Promise<Summary> {
  const { data, response } = await call(
    api.PUT("/meetings/{meetingId}/recordings/{recordingId}/summary", {
      params: { path: { meetingId, recordingId }, header: { "If-Match": etag } },
      body,
    }),
  );
  return tagged(data, response);
}

/** Approves the version `etag` names; ApiError 412 when it is no longer the current one. */
export async function approveSummary(meetingId: string, recordingId: string, etag: string): Promise<Summary> {
  const { data, response } = await call(
    api.POST("/meetings/{meetingId}/recordings/{recordingId}/summary/approve", {
      params: { path: { meetingId, recordingId }, header: { "If-Match": etag } },
    }),
  );
  return tagged(data, response);
}

/** Every version of the summary, oldest first. */
export async function listSummaryVersions(meetingId: string, recordingId: string): Promise<SummaryVersion[]> {
  const { data } = await call(
    api.GET("/meetings/{meetingId}/recordings/{recordingId}/summary/versions", path(meetingId, recordingId)),
  );
  return data.items;
}

/** Names a diarized speaker (organizer): the transcript as rewritten with the name. */
export async function nameSpeaker(
  meetingId: string,
  recordingId: string,
  speakerId: string,
  body: NameSpeakerBody,
): Promise<Transcript> {
  const { data } = await call(
    api.PUT("/meetings/{meetingId}/recordings/{recordingId}/transcript/speakers/{speakerId}", {
      params: { path: { meetingId, recordingId, speakerId } },
      body,
    }),
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
