// The caller's own data (README "Your data", "Erasure"): the export as a file, the erasure job.
import { api } from "../api/client";
import { ApiError, call } from "../api/errors";
import type { components } from "../api/schema";
import { saveBlob } from "../lib/download";

export type Erasure = components["schemas"]["ErasureOut"];
export type ErasureCounts = components["schemas"]["ErasureCountsOut"];

export function exportFileName(userId: string): string {
  return `video-signaling-export-${userId}.json`;
}

/** GET /me/export (with the bearer header, as every request of the client) saved as a JSON file. */
export async function downloadExport(userId: string): Promise<void> {
  const { data } = await call(api.GET("/me/export", { parseAs: "blob" }));
  saveBlob(data, exportFileName(userId));
}

/** DELETE /me: starts the erasure (or resumes the one under way); the job as it stands. */
export async function requestErasure(newOrganizer: string | null): Promise<Erasure> {
  const { data } = await call(
    api.DELETE("/me", { params: { query: newOrganizer === null ? {} : { newOrganizer } } }),
  );
  return data;
}

/** GET /me/erasure: the caller's erasure job, or null when none was asked for (404). */
export async function getErasure(): Promise<Erasure | null> {
  try {
    const { data } = await call(api.GET("/me/erasure"));
    return data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}
