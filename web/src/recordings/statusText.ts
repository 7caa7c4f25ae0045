// A recording's status and error as people read them. The API's error codes are stable identifiers
// (shared/services/*: media_*, transcriber_rejected, ...); the detail is for people who can act on it.

/** How often the meeting's recordings are read again while the server works on one. */
export const POLL_MS = 2000;

const STATUS_LABELS: Partial<Record<string, string>> = {
  recording: "Recording",
  awaiting_upload: "Awaiting upload",
  queued: "Queued",
  transcribing: "Transcribing",
  summarizing: "Summarizing",
  completed: "Completed",
  failed: "Failed",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** Statuses the server is still working on: pages poll while a recording is in one of them. */
export function isProcessing(status: string): boolean {
  return status === "queued" || status === "transcribing" || status === "summarizing";
}

const STAGE_LABELS: Record<string, string> = {
  upload: "Uploading",
  transcript: "Transcribing",
  summary: "Summarizing",
};

/** "Transcribing: 40%", what the processing progress bar says. */
export function stageText(stage: string, progress: number): string {
  const percent = Math.round(Math.min(1, Math.max(0, progress)) * 100);
  return `${STAGE_LABELS[stage] ?? stage}: ${percent}%`;
}

const ERROR_TEXT: Record<string, string> = {
  media_empty: "The file is empty: there is nothing to transcribe.",
  media_not_audio: "The file is not an audio or video recording that can be read.",
  media_no_audio_stream: "The file has no sound track.",
  media_truncated: "The file is cut short, as if it was not saved or uploaded completely.",
  media_corrupt: "The file is damaged and cannot be read.",
  transcriber_rejected: "The speech-to-text service refused this recording.",
  transcription_failed: "Transcribing failed several times in a row.",
  transcript_missing: "The transcript is missing, so no summary could be made.",
  summarizer_rejected: "The summarizing service refused this transcript.",
  summary_failed: "Summarizing failed several times in a row.",
  recording_download_failed: "The call's recording could not be fetched from Azure Communication Services.",
  recording_not_started: "The call recording did not start.",
  retrying: "Something went wrong; it is being retried automatically.",
};

/** The error code in plain words; an unknown code still says that processing failed. */
export function errorText(code: string): string {
  return ERROR_TEXT[code] ?? "Processing failed.";
}

/** Whether uploading the file again can help: not for a call recording, whose file ACS delivers. */
export function uploadAgainHelps(code: string): boolean {
  return !code.startsWith("recording_");
}

/** The notice shown in place of the player once retention has deleted the recording's audio. */
export function sourceDeletedText(deletedAt: string): string {
  const date = new Date(deletedAt);
  const on = Number.isNaN(date.getTime()) ? deletedAt : date.toLocaleDateString();
  return `The audio of this recording was deleted on ${on}; the notes stay.`;
}
