import { describe, expect, it } from "vitest";

import { errorText, isProcessing, stageText, statusLabel, uploadAgainHelps } from "./statusText";

describe("statusLabel", () => {
  it("names every status the API reports as the UI contract spells it", () => {
    expect(
      ["awaiting_upload", "queued", "transcribing", "summarizing", "completed", "failed"].map(statusLabel),
    ).toEqual(["Awaiting upload", "Queued", "Transcribing", "Summarizing", "Completed", "Failed"]);
    expect(statusLabel("something_new")).toBe("something_new");
  });
});

describe("isProcessing", () => {
  it("is true only while the server works on the recording", () => {
    expect(["queued", "transcribing", "summarizing"].every(isProcessing)).toBe(true);
    expect(["awaiting_upload", "completed", "failed", "recording"].some(isProcessing)).toBe(false);
  });
});

describe("stageText", () => {
  it("says the stage and a clamped percentage", () => {
    expect(stageText("transcript", 0.404)).toBe("Transcribing: 40%");
    expect(stageText("summary", 1.7)).toBe("Summarizing: 100%");
    expect(stageText("upload", -1)).toBe("Uploading: 0%");
  });
});

describe("errorText", () => {
  it("words the pipeline's codes plainly", () => {
    expect(errorText("media_no_audio_stream")).toBe("The file has no sound track.");
    expect(errorText("media_corrupt")).toBe("The file is damaged and cannot be read.");
    expect(errorText("transcriber_rejected")).toMatch(/speech-to-text service refused/);
  });

  it("still says something for a code it does not know", () => {
    expect(errorText("brand_new_code")).toBe("Processing failed.");
  });
});

describe("uploadAgainHelps", () => {
  it("offers a new upload for file problems, not for call recordings", () => {
    expect(uploadAgainHelps("media_truncated")).toBe(true);
    expect(uploadAgainHelps("recording_download_failed")).toBe(false);
  });
});
