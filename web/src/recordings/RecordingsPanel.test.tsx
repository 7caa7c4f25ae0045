import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import * as recordingApi from "./recordingApi";
import { RecordingsPanel } from "./RecordingsPanel";
import { POLL_MS } from "./statusText";
import { Providers, recording } from "./testing";
import { UploadError, uploadBlob, type UploadOptions } from "./xhrUpload";

vi.mock("./recordingApi", async (original) => ({
  ...(await original<typeof import("./recordingApi")>()),
  listRecordings: vi.fn(),
  createRecording: vi.fn(),
  renewUpload: vi.fn(),
  deleteRecording: vi.fn(),
}));
vi.mock("./xhrUpload", async (original) => ({
  ...(await original<typeof import("./xhrUpload")>()),
  uploadBlob: vi.fn(),
}));

const api = vi.mocked(recordingApi);
const send = vi.mocked(uploadBlob);

/** Each test its own meeting: the upload store outlives a render, as it does between pages. */
let meetingId = "m0";
let meetingCount = 0;

function renderPanel(props: { canUpload?: boolean; canManage?: boolean } = {}) {
  return render(
    <Providers>
      <RecordingsPanel
        meetingId={meetingId}
        canUpload={props.canUpload ?? true}
        canManage={props.canManage ?? false}
      />
    </Providers>,
  );
}

function wav(name = "standup.wav", size = 100): File {
  const file = new File(["x".repeat(Math.min(size, 100))], name, {
    type: name.endsWith(".wav") ? "audio/wav" : "",
  });
  if (size !== file.size) Object.defineProperty(file, "size", { value: size });
  return file;
}

function created(id: string, url = "http://storage/put?sig=1") {
  return {
    ...recording({ id, meetingId, status: "awaiting_upload", stage: "upload", progress: 0 }),
    upload: {
      url,
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      expiresOn: "2030-01-01T00:00:00Z",
    },
  };
}

/** An upload the test finishes by hand. */
function pendingUpload() {
  let options: UploadOptions | undefined;
  let finish: (error?: Error) => void = () => undefined;
  send.mockImplementationOnce((given) => {
    options = given;
    return new Promise<void>((resolve, reject) => {
      finish = (error) => {
        if (error === undefined) resolve();
        else reject(error);
      };
    });
  });
  return {
    options: () => options,
    finish: (error?: Error) => {
      finish(error);
    },
  };
}

// The panel's body is a lazy chunk: loaded once here, so tests on fake timers need not wait for it.
beforeAll(async () => {
  await import("./RecordingsPanelBody");
});

beforeEach(() => {
  meetingCount += 1;
  meetingId = `m${meetingCount}`;
  api.listRecordings.mockResolvedValue([]);
});

afterEach(() => {
  vi.resetAllMocks();
  vi.useRealTimers();
});

describe("RecordingsPanel validation", () => {
  it("refuses a file of the wrong type, naming it, and sends nothing", async () => {
    renderPanel();
    const input = await screen.findByLabelText("Recording file");
    fireEvent.change(input, {
      target: { files: [new File(["hello"], "notes.txt", { type: "text/plain" })] },
    });
    expect(await screen.findByRole("alert")).toHaveTextContent(
      '"notes.txt" is not a recording this app takes',
    );
    expect(api.createRecording).not.toHaveBeenCalled();
    expect(send).not.toHaveBeenCalled();
  });

  it("refuses a file over the limit before any request", async () => {
    renderPanel();
    fireEvent.change(await screen.findByLabelText("Recording file"), {
      target: { files: [wav("allday.wav", 5 * 1024 ** 3)] },
    });
    expect(await screen.findByRole("alert")).toHaveTextContent(
      '"allday.wav" is 5 GB: a recording can be at most 4 GB.',
    );
    expect(api.createRecording).not.toHaveBeenCalled();
  });

  it("hides uploading from those who may not upload", async () => {
    renderPanel({ canUpload: false });
    expect(await screen.findByText("No recordings yet.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Upload recording" })).toBeNull();
    expect(screen.queryByLabelText("Recording file")).toBeNull();
  });
});

describe("RecordingsPanel upload", () => {
  it("declares the file, sends it to the upload URL with progress, then shows what the server says", async () => {
    api.createRecording.mockResolvedValue(created("r1"));
    const upload = pendingUpload();
    renderPanel();
    fireEvent.change(await screen.findByLabelText("Recording file"), {
      target: { files: [wav("talk.m4a")] },
    });

    await waitFor(() => {
      expect(send).toHaveBeenCalled();
    });
    expect(api.createRecording).toHaveBeenCalledWith(meetingId, {
      fileName: "talk.m4a",
      contentType: "audio/mp4",
      sizeBytes: 100,
      language: null,
    });
    expect(upload.options()?.url).toBe("http://storage/put?sig=1");
    expect(upload.options()?.headers).toEqual({ "x-ms-blob-type": "BlockBlob" });

    act(() => upload.options()?.onProgress?.({ loaded: 40, total: 100 }));
    const bar = screen.getByRole("progressbar", { name: "Upload progress" });
    expect(bar).toHaveAttribute("aria-valuenow", "0.4");
    expect(screen.getByText("Uploading")).toBeInTheDocument();

    api.listRecordings.mockResolvedValue([
      recording({ id: "r1", meetingId, fileName: "talk.m4a", status: "queued" }),
    ]);
    await act(async () => {
      upload.finish();
      await Promise.resolve();
    });
    await waitFor(() => {
      expect(screen.queryByRole("progressbar", { name: "Upload progress" })).toBeNull();
    });
    expect(await screen.findByText("Queued")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "talk.m4a" })).toHaveAttribute(
      "href",
      `/meetings/${meetingId}/recordings/r1`,
    );
  });

  it("says in plain words why an upload failed, and Try again sends the same file to a new URL", async () => {
    const user = userEvent.setup();
    api.createRecording.mockResolvedValue(created("r2"));
    const first = pendingUpload();
    renderPanel();
    const file = wav("standup.wav");
    fireEvent.change(await screen.findByLabelText("Recording file"), { target: { files: [file] } });
    await waitFor(() => {
      expect(send).toHaveBeenCalledTimes(1);
    });
    await act(async () => {
      first.finish(new UploadError("expired", 403, "the upload URL expired at 2025-01-01T10:00:00Z"));
      await Promise.resolve();
    });
    expect(await screen.findByText(/The upload link expired or was refused/)).toBeInTheDocument();

    api.renewUpload.mockResolvedValue(created("r2", "http://storage/put?sig=2"));
    const second = pendingUpload();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => {
      expect(send).toHaveBeenCalledTimes(2);
    });
    expect(api.renewUpload).toHaveBeenCalledWith(meetingId, "r2");
    expect(second.options()?.url).toBe("http://storage/put?sig=2");
    expect(second.options()?.body).toBe(file);
    expect(screen.getByRole("progressbar", { name: "Upload progress" })).toBeInTheDocument();
  });

  it("asks for the file again when it is gone, and checks it is the same kind", async () => {
    const user = userEvent.setup();
    api.listRecordings.mockResolvedValue([
      recording({
        id: "r3",
        meetingId,
        status: "failed",
        error: { code: "media_truncated", detail: "the file ends at 0:03 of 0:10" },
      }),
    ]);
    renderPanel();
    expect(await screen.findByText(/The file is cut short/)).toBeInTheDocument();
    expect(screen.getByText("Failed")).toBeInTheDocument();

    const again = screen.getByLabelText("Choose the file again");
    const picked = vi.spyOn(again, "click");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(picked).toHaveBeenCalled();

    // Another format would not match the URL, signed for the recording's declared type.
    fireEvent.change(again, { target: { files: [new File(["x"], "other.flac", { type: "audio/flac" })] } });
    expect(await screen.findByRole("alert")).toHaveTextContent(
      '"other.flac" is not a WAV file like "standup.wav"',
    );
    expect(api.renewUpload).not.toHaveBeenCalled();

    api.renewUpload.mockResolvedValue(created("r3", "http://storage/put?sig=3"));
    send.mockResolvedValueOnce(undefined);
    await user.click(screen.getByRole("button", { name: "Try again" }));
    const file = wav("standup.wav");
    fireEvent.change(again, { target: { files: [file] } });
    await waitFor(() => {
      expect(send).toHaveBeenCalledTimes(1);
    });
    expect(send.mock.calls[0]?.[0].body).toBe(file);
    expect(send.mock.calls[0]?.[0].url).toBe("http://storage/put?sig=3");
  });
});

describe("RecordingsPanel status", () => {
  it("reads the list again while a recording is processing, and stops when it is done", async () => {
    vi.useFakeTimers();
    api.listRecordings
      .mockResolvedValueOnce([
        recording({ id: "r4", meetingId, status: "transcribing", stage: "transcript", progress: 0.5 }),
      ])
      .mockResolvedValueOnce([recording({ id: "r4", meetingId, status: "completed" })]);
    renderPanel({ canUpload: false });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByText("Transcribing")).toBeInTheDocument();
    expect(screen.getByText("Transcribing: 50%")).toBeInTheDocument();

    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_MS);
    });
    expect(screen.getByText("Completed")).toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    });
    expect(api.listRecordings).toHaveBeenCalledTimes(2);
  });

  it("lets the organizer delete a recording after confirming", async () => {
    const user = userEvent.setup();
    api.listRecordings.mockResolvedValueOnce([recording({ id: "r5", meetingId, fileName: "old.wav" })]);
    api.deleteRecording.mockResolvedValue(undefined);
    renderPanel({ canManage: true });
    await user.click(await screen.findByRole("button", { name: "Delete old.wav" }));
    // Tabster's modal focus trap marks the surface aria-hidden under jsdom (not in a browser).
    const dialog = await screen.findByRole("dialog", { hidden: true });
    expect(api.deleteRecording).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole("button", { name: "Delete recording", hidden: true }));
    expect(api.deleteRecording).toHaveBeenCalledWith(meetingId, "r5");
    await waitFor(() => {
      expect(screen.queryByRole("link", { name: "old.wav" })).toBeNull();
    });
  });
});
