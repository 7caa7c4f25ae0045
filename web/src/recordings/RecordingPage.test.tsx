import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/errors";
import * as recordingApi from "./recordingApi";
import RecordingPage, { PAGE_POLL_MS } from "./RecordingPage";
import { Providers, recording } from "./testing";

vi.mock("./recordingApi", async (original) => ({
  ...(await original<typeof import("./recordingApi")>()),
  getRecording: vi.fn(),
  getMeeting: vi.fn(),
  getTranscript: vi.fn(),
  getSummary: vi.fn(),
  getMedia: vi.fn(),
  regenerateSummary: vi.fn(),
}));
const api = vi.mocked(recordingApi);

const transcript: recordingApi.Transcript = {
  recordingId: "r1",
  language: "en",
  durationSeconds: 20,
  source: "recording",
  speakers: [{ id: "s1", userId: "alice", displayName: null }],
  segments: [
    { start: 0.5, end: 4, speaker: "s1", text: "Hello Bob." },
    { start: 5, end: 9, speaker: "s1", text: "Please send the report by Thursday." },
    { start: 12, end: 15, speaker: null, text: "Thanks." },
  ],
};

const summary: recordingApi.Summary = {
  overview: "A short standup.",
  keyPoints: [{ text: "The report is late", evidence: [], unverified: false }],
  decisions: [
    {
      text: "Ship on Friday",
      evidence: [{ start: 12, end: 15, segments: [2], speaker: null, speakerId: null, quote: "Thanks" }],
      unverified: false,
    },
  ],
  actionItems: [{ owner: "Bob", task: "Send the report", due: "Thursday", evidence: [], unverified: true }],
  chapters: [
    { title: "The report", start: 5, end: 9, summary: "Who sends it.", evidence: [], unverified: false },
  ],
  openQuestions: [{ text: "Who reviews it?", evidence: [], unverified: false }],
  model: "local-extractive",
  generatedAt: "2025-01-01T10:00:00Z",
  version: 1,
  editedBy: null,
  editedAt: null,
  approvedBy: null,
  approvedAt: null,
  regenerating: false,
};

const done = recording({
  id: "r1",
  status: "completed",
  artifacts: ["transcript.json", "transcript.vtt", "summary.json", "summary.md"],
});

function renderPage(userId = "alice") {
  return render(
    <Providers
      userId={userId}
      path="/meetings/m1/recordings/r1"
      route="/meetings/:meetingId/recordings/:recordingId"
    >
      <RecordingPage />
    </Providers>,
  );
}

function player(): HTMLMediaElement {
  return screen.getByLabelText("Recording player");
}

/** jsdom plays nothing: the test moves the playhead and tells the page as a browser would. */
function playTo(seconds: number) {
  act(() => {
    player().currentTime = seconds;
    fireEvent.timeUpdate(player());
  });
}

beforeEach(() => {
  api.getMeeting.mockResolvedValue({
    id: "m1",
    title: "Standup",
    description: null,
    organizerId: "alice",
    startsAt: "2025-01-01T10:00:00Z",
    endsAt: "2025-01-01T10:30:00Z",
    status: "scheduled",
    participants: [{ userId: "alice", role: "presenter", displayName: "Alice Martin" }],
    roomId: null,
    recordingPolicy: "none",
    autoCaptions: false,
    createdAt: "2025-01-01T09:00:00Z",
    updatedAt: "2025-01-01T09:00:00Z",
  });
  api.getMedia.mockResolvedValue({ url: "http://media/r1?sig=1", expiresOn: "2030-01-01T00:00:00Z" });
  api.getTranscript.mockResolvedValue(transcript);
  api.getSummary.mockResolvedValue(summary);
});

afterEach(() => {
  vi.resetAllMocks();
  vi.useRealTimers();
});

describe("RecordingPage transcript", () => {
  it("says the audio is gone, instead of a player, once retention deleted it", async () => {
    api.getRecording.mockResolvedValue({ ...done, sourceDeletedAt: "2025-02-01T03:00:00Z" });
    renderPage();
    const notice = await screen.findByText(
      `The audio of this recording was deleted on ${new Date("2025-02-01T03:00:00Z").toLocaleDateString()}; the notes stay.`,
    );
    expect(notice).toHaveAttribute("role", "status");
    expect(screen.queryByLabelText("Recording player")).not.toBeInTheDocument();
    expect(api.getMedia).not.toHaveBeenCalled();
    // The notes stay readable.
    expect(
      await screen.findByRole("button", { name: "0:05 Alice Martin Please send the report by Thursday." }),
    ).toBeInTheDocument();
  });

  it("plays the recording and seeks to a line when it is clicked", async () => {
    const user = userEvent.setup();
    api.getRecording.mockResolvedValue(done);
    renderPage();
    expect(await screen.findByRole("heading", { level: 1, name: "standup.wav" })).toBeInTheDocument();
    expect(player().tagName).toBe("AUDIO");
    await waitFor(() => {
      expect(player()).toHaveAttribute("src", "http://media/r1?sig=1");
    });

    // The meeting's display name names a speaker the transcript knew only by user id.
    const line = await screen.findByRole("button", {
      name: "0:05 Alice Martin Please send the report by Thursday.",
    });
    await user.click(line);
    expect(player().currentTime).toBe(5);
    expect(line).toHaveAttribute("aria-current", "true");
  });

  it("moves the current line as the recording plays", async () => {
    api.getRecording.mockResolvedValue(done);
    renderPage();
    await screen.findByRole("button", { name: /Hello Bob/ });
    const current = () =>
      screen
        .getAllByRole("button")
        .filter((b) => b.getAttribute("aria-current") === "true")
        .map((b) => b.textContent);

    playTo(1);
    expect(current()).toEqual(["0:00 Alice Martin Hello Bob."]);
    playTo(13);
    expect(current()).toEqual(["0:12 Thanks."]);
    playTo(10); // silence between lines: no line is current
    expect(current()).toEqual([]);
  });

  it("says the transcript is not ready on a 409 and shows it when it is", async () => {
    vi.useFakeTimers();
    api.getRecording.mockResolvedValue(done);
    api.getTranscript.mockRejectedValueOnce(new ApiError(409, { detail: "not ready" }));
    renderPage();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByText(/The transcript is not ready yet/)).toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(PAGE_POLL_MS);
    });
    expect(screen.getByRole("button", { name: /Hello Bob/ })).toBeInTheDocument();
  });
});

describe("RecordingPage progress", () => {
  it("shows the stage while processing, polling until the transcript is there", async () => {
    vi.useFakeTimers();
    api.getRecording
      .mockResolvedValueOnce(
        recording({ id: "r1", status: "transcribing", stage: "transcript", progress: 0.25 }),
      )
      .mockResolvedValueOnce(done);
    renderPage();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    const bar = screen.getByRole("progressbar", { name: "Processing progress" });
    expect(bar).toHaveAttribute("aria-valuenow", "0.25");
    expect(screen.getByText("Transcribing: 25%")).toBeInTheDocument();
    expect(api.getTranscript).not.toHaveBeenCalled();

    await act(async () => {
      await vi.advanceTimersByTimeAsync(PAGE_POLL_MS);
    });
    expect(screen.queryByRole("progressbar", { name: "Processing progress" })).toBeNull();
    expect(screen.getByRole("button", { name: /Hello Bob/ })).toBeInTheDocument();
  });

  it("says why a recording failed in plain words", async () => {
    api.getRecording.mockResolvedValue(
      recording({
        id: "r1",
        status: "failed",
        error: { code: "media_no_audio_stream", detail: "1 video stream" },
      }),
    );
    renderPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("The file has no sound track.");
  });
});

describe("RecordingPage summary", () => {
  it("shows every part of the summary, and chapters seek the player", async () => {
    const user = userEvent.setup();
    api.getRecording.mockResolvedValue(done);
    renderPage("bob");
    await user.click(await screen.findByRole("tab", { name: "Summary" }));
    for (const title of [
      "Overview",
      "Key points",
      "Decisions",
      "Action items",
      "Chapters",
      "Open questions",
    ]) {
      expect(screen.getByRole("heading", { name: title })).toBeInTheDocument();
    }
    const table = screen.getByRole("table", { name: "Action items" });
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Owner", "Task", "Due"]);
    expect(
      within(table)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual(["Bob", "Send the report not found in the transcript", "Thursday"]);
    await user.click(screen.getByRole("button", { name: /The report/ }));
    expect(player().currentTime).toBe(5);
    // An item's evidence plays the moment it was said.
    await user.click(screen.getByRole("button", { name: "Play from 0:12: “Thanks”" }));
    expect(player().currentTime).toBe(12);
    expect(screen.getByRole("button", { name: "Download Markdown" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Regenerate" })).toBeNull(); // bob is no organizer
  });

  it("lets the organizer regenerate, keeping the old summary while the new one is made", async () => {
    const user = userEvent.setup();
    api.getRecording.mockResolvedValue(done);
    api.regenerateSummary.mockResolvedValue({
      ...done,
      status: "summarizing",
      stage: "summary",
      progress: 0,
      artifacts: ["transcript.json"],
    });
    renderPage("alice");
    await user.click(await screen.findByRole("tab", { name: "Summary" }));
    await user.click(await screen.findByRole("button", { name: "Regenerate" }));
    expect(api.regenerateSummary).toHaveBeenCalledWith("m1", "r1");
    expect(await screen.findByText(/A new summary is being made/)).toBeInTheDocument();
    expect(screen.getByText("A short standup.")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Processing progress" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Regenerate" })).toBeDisabled();
  });
});
