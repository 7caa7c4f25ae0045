// Sends a recording's bytes straight to storage (a SAS URL in Azure, devhost's signed route locally) with
// XMLHttpRequest, because fetch reports no upload progress. Failures become UploadError with a kind the
// panel words plainly and a `retryable` flag: every failure but a cancel is worth a fresh URL and a retry.

/** The part of XMLHttpRequest this module uses, so tests can hand it a fake. */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  timeout: number;
  upload: { onprogress: ((event: ProgressEvent) => void) | null };
  onload: ((event: ProgressEvent) => void) | null;
  onerror: ((event: ProgressEvent) => void) | null;
  onabort: ((event: ProgressEvent) => void) | null;
  ontimeout: ((event: ProgressEvent) => void) | null;
}

export type UploadFailure = "network" | "expired" | "rejected" | "storage" | "aborted";

export class UploadError extends Error {
  readonly kind: UploadFailure;
  /** The storage's HTTP status, 0 when there was no answer. */
  readonly status: number;
  /** What the storage said, when it said something readable (its XML Message or a problem's detail). */
  readonly detail: string | null;

  constructor(kind: UploadFailure, status = 0, detail: string | null = null) {
    super(describe(kind, status));
    this.name = "UploadError";
    this.kind = kind;
    this.status = status;
    this.detail = detail;
  }

  get retryable(): boolean {
    return this.kind !== "aborted";
  }
}

function describe(kind: UploadFailure, status: number): string {
  switch (kind) {
    case "network":
      return "The connection was lost during the upload.";
    case "expired":
      return "The upload link expired or was refused before the file was sent.";
    case "rejected":
      return status === 413
        ? "The storage refused the file because it is too large."
        : `The storage refused the file (error ${status}).`;
    case "storage":
      return `The storage had a problem receiving the file (error ${status}).`;
    case "aborted":
      return "The upload was cancelled.";
  }
}

/** Azure Storage answers with XML `<Message>`, devhost with problem+json `detail`. */
export function storageDetail(body: string): string | null {
  const xml = /<Message>([\s\S]*?)<\/Message>/.exec(body);
  if (xml?.[1] !== undefined) return xml[1].split("\n")[0]?.trim() ?? null;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null && "detail" in parsed) {
      const detail = parsed.detail;
      if (typeof detail === "string" && detail !== "") return detail;
    }
  } catch {
    // Not JSON either: nothing readable.
  }
  return null;
}

/** The failure an answered request stands for, or null when the upload succeeded. */
export function failureOf(status: number, body: string): UploadError | null {
  if (status >= 200 && status < 300) return null;
  if (status === 0) return new UploadError("network");
  const detail = storageDetail(body);
  if (status === 403) return new UploadError("expired", status, detail);
  if (status >= 500) return new UploadError("storage", status, detail);
  return new UploadError("rejected", status, detail);
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body: Blob;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  createXhr?: () => XhrLike;
}

/** PUTs `body` to `url`; resolves when storage has it, rejects with UploadError. */
export function uploadBlob(options: UploadOptions): Promise<void> {
  const { url, method = "PUT", headers = {}, body, onProgress, signal } = options;
  const xhr = options.createXhr?.() ?? new XMLHttpRequest();
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new UploadError("aborted"));
      return;
    }
    const onAbortSignal = () => {
      xhr.abort();
    };
    const settle = (error: UploadError | null) => {
      signal?.removeEventListener("abort", onAbortSignal);
      if (error === null) resolve();
      else reject(error);
    };
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      // Without a computable length the file's own size is the total (it is what is being sent).
      const total = event.lengthComputable && event.total > 0 ? event.total : body.size;
      onProgress?.({ loaded: Math.min(event.loaded, total), total });
    };
    xhr.onload = () => {
      const failure = failureOf(xhr.status, xhr.responseText);
      if (failure === null) onProgress?.({ loaded: body.size, total: body.size });
      settle(failure);
    };
    xhr.onerror = () => {
      settle(new UploadError("network"));
    };
    xhr.ontimeout = () => {
      settle(new UploadError("network"));
    };
    xhr.onabort = () => {
      settle(new UploadError("aborted"));
    };
    signal?.addEventListener("abort", onAbortSignal);
    xhr.send(body);
  });
}
