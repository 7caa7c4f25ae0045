import { describe, expect, it } from "vitest";

import {
  failureOf,
  storageDetail,
  UploadError,
  uploadBlob,
  type UploadProgress,
  type XhrLike,
} from "./xhrUpload";

/** A scripted XMLHttpRequest: the test decides when progress, success or failure happens. */
class FakeXhr implements XhrLike {
  method = "";
  url = "";
  headers: Record<string, string> = {};
  sent: Blob | null = null;
  aborted = false;
  status = 0;
  responseText = "";
  timeout = 0;
  upload: XhrLike["upload"] = { onprogress: null };
  onload: XhrLike["onload"] = null;
  onerror: XhrLike["onerror"] = null;
  onabort: XhrLike["onabort"] = null;
  ontimeout: XhrLike["ontimeout"] = null;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: Blob) {
    this.sent = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.(new ProgressEvent("abort"));
  }
  progress(loaded: number, total: number, lengthComputable = true) {
    this.upload.onprogress?.(new ProgressEvent("progress", { loaded, total, lengthComputable }));
  }
  answer(status: number, body = "") {
    this.status = status;
    this.responseText = body;
    this.onload?.(new ProgressEvent("load"));
  }
  fail() {
    this.onerror?.(new ProgressEvent("error"));
  }
}

function start(body = new Blob(["x".repeat(100)]), signal?: AbortSignal) {
  const xhr = new FakeXhr();
  const progress: UploadProgress[] = [];
  const done = uploadBlob({
    url: "https://storage/rec?sig=1",
    headers: { "x-ms-blob-type": "BlockBlob", "Content-Type": "audio/wav" },
    body,
    onProgress: (p) => progress.push(p),
    signal,
    createXhr: () => xhr,
  });
  return { xhr, progress, done };
}

describe("uploadBlob", () => {
  it("PUTs the file with the upload's headers and reports progress until done", async () => {
    const { xhr, progress, done } = start();
    expect(xhr.method).toBe("PUT");
    expect(xhr.url).toBe("https://storage/rec?sig=1");
    expect(xhr.headers).toEqual({ "x-ms-blob-type": "BlockBlob", "Content-Type": "audio/wav" });
    expect(xhr.sent?.size).toBe(100);
    xhr.progress(40, 100);
    xhr.progress(90, 100, false); // no computable length: the file's size is the total
    xhr.answer(201);
    await expect(done).resolves.toBeUndefined();
    expect(progress).toEqual([
      { loaded: 40, total: 100 },
      { loaded: 90, total: 100 },
      { loaded: 100, total: 100 },
    ]);
  });

  it("reports a lost connection as a network failure worth retrying", async () => {
    const { xhr, done } = start();
    xhr.fail();
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).kind).toBe("network");
    expect((error as UploadError).retryable).toBe(true);
    expect((error as UploadError).message).toBe("The connection was lost during the upload.");
  });

  it("reports a 403 from storage as an expired link, with Azure's message", async () => {
    const { xhr, done } = start();
    xhr.answer(
      403,
      '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time [x] must be after signed start time\nRequestId:1</Message></Error>',
    );
    const error = (await done.catch((e: unknown) => e)) as UploadError;
    expect(error.kind).toBe("expired");
    expect(error.status).toBe(403);
    expect(error.detail).toBe("Signed expiry time [x] must be after signed start time");
  });

  it("cancels when the signal aborts, and a cancel is not retried", async () => {
    const controller = new AbortController();
    const { xhr, done } = start(undefined, controller.signal);
    xhr.progress(10, 100);
    controller.abort();
    const error = (await done.catch((e: unknown) => e)) as UploadError;
    expect(xhr.aborted).toBe(true);
    expect(error.kind).toBe("aborted");
    expect(error.retryable).toBe(false);
  });

  it("never starts when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const { xhr, done } = start(undefined, controller.signal);
    await expect(done).rejects.toMatchObject({ kind: "aborted" });
    expect(xhr.sent).toBeNull();
  });
});

describe("failureOf", () => {
  it("maps storage answers to plain failures", () => {
    expect(failureOf(201, "")).toBeNull();
    expect(failureOf(0, "")?.kind).toBe("network");
    expect(failureOf(413, "")?.message).toBe("The storage refused the file because it is too large.");
    expect(failureOf(400, "")?.kind).toBe("rejected");
    expect(failureOf(400, "")?.message).toBe("The storage refused the file (error 400).");
    expect(failureOf(503, "")?.kind).toBe("storage");
  });

  it("reads devhost's problem+json detail", () => {
    expect(storageDetail('{"status":403,"detail":"the upload URL expired at 2025"}')).toBe(
      "the upload URL expired at 2025",
    );
    expect(storageDetail("garbage")).toBeNull();
  });
});
