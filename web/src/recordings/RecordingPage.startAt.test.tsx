// The recording page opened at a moment (`?t=<seconds>`, from a search hit or an answer's source): the
// player starts there once it can seek, and the transcript shows the line said then as the current one.
import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import * as recordingApi from "./recordingApi";
import RecordingPage from "./RecordingPage";
import { Providers, recording } from "./testing";

vi.mock("./recordingApi", async (original) => ({
  ...(await original<typeof import("./recordingApi")>()),
  getRecording: vi.fn(),
  getMeeting: vi.fn(),
  getTranscript: vi.fn(),
  getSummary: vi.fn(),
  getMedia: vi.fn(),
}));
const api = vi.mocked(recordingApi);

const transcript: recordingApi.Transcript = {
  recordingId: "r1",
  source: "recording",
  language: "en",
  durationSeconds: 20,
  speakers: [{ id: "s1", userId: "alice", displayName: null }],
  segments: [
    { start: 0.5, end: 4, speaker: "s1", text: "Hello Bob." },
    { start: 5, end: 9, speaker: "s1", text: "Please send the report by Thursday." },
    { start: 12, end: 15, speaker: null, text: "Thanks." },
  ],
};

function renderAt(path: string) {
  return render(
    <Providers path={path} route="/meetings/:meetingId/recordings/:recordingId">
      <RecordingPage />
    </Providers>,
  );
}

const player = (): HTMLMediaElement => screen.getByLabelText("Recording player");

beforeEach(() => {
  api.getMeeting.mockRejectedValue(new Error("not needed"));
  api.getMedia.mockResolvedValue({ url: "http://media/r1?sig=1", expiresOn: "2030-01-01T00:00:00Z" });
  api.getRecording.mockResolvedValue(recording({ artifacts: ["transcript.json"] }));
  api.getTranscript.mockResolvedValue(transcript);
  api.getSummary.mockRejectedValue(new Error("not needed"));
});

afterEach(() => {
  vi.resetAllMocks();
});

describe("opened at ?t=", () => {
  it("marks the line said then and seeks the player there once it knows its media", async () => {
    renderAt("/meetings/m1/recordings/r1?t=5.01");
    const line = await screen.findByRole("button", { name: /^0:05 .*Please send the report/ });
    expect(line).toHaveAttribute("aria-current", "true");
    // jsdom's player has no metadata yet: it cannot seek, so nothing moved it.
    expect(player().currentTime).toBe(0);
    act(() => {
      fireEvent.loadedMetadata(player());
    });
    expect(player().currentTime).toBe(5.01);
    // Once only: metadata loaded again (a renewed URL) keeps the position the user has since chosen.
    act(() => {
      player().currentTime = 13;
      fireEvent.loadedMetadata(player());
    });
    expect(player().currentTime).toBe(13);
  });

  it("ignores a t that is not a time", async () => {
    renderAt("/meetings/m1/recordings/r1?t=soon");
    await screen.findByRole("button", { name: /Please send the report/ });
    expect(
      screen.getAllByRole("button", { name: /^\d+:\d\d / }).map((b) => b.getAttribute("aria-current")),
    ).toEqual([null, null, null]);
    act(() => {
      fireEvent.loadedMetadata(player());
    });
    expect(player().currentTime).toBe(0);
  });
});
