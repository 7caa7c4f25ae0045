// Uploads in flight, kept outside React so they survive leaving the meeting page: a user may open a
// recording and come back while another one is still being sent, and "Try again" still has the file.
import { useSyncExternalStore } from "react";

import { errorMessage } from "../api/errors";
import type { UploadTarget } from "./recordingApi";
import { UploadError, uploadBlob, type UploadOptions } from "./xhrUpload";

export interface LocalUpload {
  meetingId: string;
  recordingId: string;
  /** The file being sent; null once it is gone (never here after a reload). */
  file: File | null;
  loaded: number;
  total: number;
  /** uploading: bytes on their way; sent: storage has them (the server queues it); failed: see error. */
  state: "uploading" | "sent" | "failed";
  error: string | null;
  /** What storage said, when it said something: shown as the failure's detail. */
  detail: string | null;
  cancel: (() => void) | null;
}

const uploads = new Map<string, LocalUpload>();
const listeners = new Set<() => void>();
let snapshot: readonly LocalUpload[] = [];

function changed(): void {
  snapshot = [...uploads.values()];
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The uploads of every meeting; filter by meeting where shown. */
export function useUploads(): readonly LocalUpload[] {
  return useSyncExternalStore(subscribe, () => snapshot);
}

export function getUpload(recordingId: string): LocalUpload | undefined {
  return uploads.get(recordingId);
}

function update(recordingId: string, patch: Partial<LocalUpload>): void {
  const current = uploads.get(recordingId);
  if (current === undefined) return;
  uploads.set(recordingId, { ...current, ...patch });
  changed();
}

/** Forget an upload (its recording was deleted, or it is done and shown by the server's status). */
export function forgetUpload(recordingId: string): void {
  if (uploads.delete(recordingId)) changed();
}

/** Marks a recording's upload as failed before any byte went (e.g. a fresh URL could not be had). */
export function failUpload(meetingId: string, recordingId: string, file: File | null, error: unknown): void {
  uploads.set(recordingId, {
    meetingId,
    recordingId,
    file,
    loaded: 0,
    total: file?.size ?? 0,
    state: "failed",
    error: errorMessage(error),
    detail: null,
    cancel: null,
  });
  changed();
}

/**
 * Sends `file` to `target` and tracks it under the recording's id. Resolves when it is done either way
 * (the store says how); `send` is replaceable for tests.
 */
export async function sendFile(
  meetingId: string,
  recordingId: string,
  target: UploadTarget,
  file: File,
  send: (options: UploadOptions) => Promise<void> = uploadBlob,
): Promise<void> {
  const controller = new AbortController();
  uploads.set(recordingId, {
    meetingId,
    recordingId,
    file,
    loaded: 0,
    total: file.size,
    state: "uploading",
    error: null,
    detail: null,
    cancel: () => {
      controller.abort();
    },
  });
  changed();
  try {
    await send({
      url: target.url,
      method: target.method,
      headers: target.headers,
      body: file,
      signal: controller.signal,
      onProgress: ({ loaded, total }) => {
        update(recordingId, { loaded, total });
      },
    });
    update(recordingId, { state: "sent", loaded: file.size, cancel: null });
  } catch (error) {
    update(recordingId, {
      state: "failed",
      error: errorMessage(error),
      detail: error instanceof UploadError ? error.detail : null,
      cancel: null,
    });
  }
}

/** Whether a page is sending bytes: leaving it would stop them. */
export function anyUploading(): boolean {
  return snapshot.some((u) => u.state === "uploading");
}
