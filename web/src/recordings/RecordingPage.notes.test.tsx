// The organizer's notes on the recording page: naming speakers, editing and approving the summary.
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/errors";
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
  regenerateSummary: vi.fn(),
  nameSpeaker: vi.fn(),
  saveSummary: vi.fn(),
  approveSummary: vi.fn(),
  listSummaryVersions: vi.fn(),
}));
const api = vi.mocked(recordingApi);

const transcript: recordingApi.Transcript = {
  recordingId: "r1",
  language: "en",
  durationSeconds: 20,
  speakers: [
    { id: "spk_A", userId: null, displayName: null },
    { id: "spk_B", userId: "bob", displayName: null },
  ],
  segments: [
    { start: 0.5, end: 4, speaker: "spk_A", text: "Hello Bob." },
    { start: 5, end: 9, speaker: "spk_B", text: "Hi." },
  ],
};

const summary: recordingApi.Summary = {
  overview: "A short standup.",
  keyPoints: [],
  decisions: [{ text: "Ship on Friday", evidence: [], unverified: false }],
  actionItems: [{ owner: "Bob", task: "Send the report", due: "Thursday", evidence: [], unverified: false }],
  chapters: [],
  openQuestions: [{ text: "Who reviews it?", evidence: [], unverified: false }],
  model: "local-extractive",
  generatedAt: "2025-01-01T10:00:00Z",
  version: 3,
  editedBy: null,
  editedAt: null,
  approvedBy: null,
  approvedAt: null,
  regenerating: false,
};

const done = recording({ artifacts: ["transcript.json", "summary.json", "summary.md"] });

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

beforeEach(() => {
  api.getMeeting.mockResolvedValue({
    id: "m1",
    title: "Standup",
    description: null,
    organizerId: "alice",
    startsAt: "2025-01-01T10:00:00Z",
    endsAt: "2025-01-01T10:30:00Z",
    status: "scheduled",
    participants: [
      { userId: "alice", role: "presenter", displayName: "Alice Martin" },
      { userId: "carol", role: "attendee", displayName: "Carol King" },
    ],
    roomId: null,
    createdAt: "2025-01-01T09:00:00Z",
    updatedAt: "2025-01-01T09:00:00Z",
  });
  api.getMedia.mockResolvedValue({ url: "http://media/r1?sig=1", expiresOn: "2030-01-01T00:00:00Z" });
  api.getRecording.mockResolvedValue(done);
  api.getTranscript.mockResolvedValue(transcript);
  api.getSummary.mockResolvedValue(summary);
  api.listSummaryVersions.mockResolvedValue([]);
});

afterEach(() => {
  vi.resetAllMocks();
});

describe("naming speakers", () => {
  it("names a diarized speaker after a participant and shows the transcript the server answers", async () => {
    const user = userEvent.setup();
    api.nameSpeaker.mockResolvedValue({
      ...transcript,
      speakers: [
        { id: "spk_A", userId: "carol", displayName: "Carol King" },
        { id: "spk_B", userId: "bob", displayName: null },
      ],
    });
    renderPage();
    await screen.findByRole("button", { name: "0:00 Speaker A Hello Bob." });
    // Only the speaker nobody named gets a button; bob is known by user id.
    expect(screen.queryByRole("button", { name: /^Name bob/ })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Name Speaker A" }));
    // Tabster's modal focus trap marks the surface aria-hidden under jsdom (not in a browser).
    const dialog = await screen.findByRole("dialog", { hidden: true });
    await user.selectOptions(
      within(dialog).getByRole("combobox", { name: "Participant", hidden: true }),
      "carol",
    );
    await user.click(within(dialog).getByRole("button", { name: "Save", hidden: true }));

    expect(api.nameSpeaker).toHaveBeenCalledWith("m1", "r1", "spk_A", { userId: "carol" });
    expect(await screen.findByRole("button", { name: "0:00 Carol King Hello Bob." })).toBeInTheDocument();
    await waitFor(() => {
      expect(screen.queryByRole("dialog", { hidden: true })).toBeNull();
    });
    expect(screen.queryByRole("button", { name: /^Name / })).toBeNull();
  });

  it("sends a typed name, and shows the server's refusal in the dialog", async () => {
    const user = userEvent.setup();
    api.nameSpeaker.mockRejectedValue(
      new ApiError(409, { title: "The transcript is being rewritten", status: 409, detail: "Try again." }),
    );
    renderPage();
    await screen.findByRole("button", { name: "0:00 Speaker A Hello Bob." });
    await user.click(await screen.findByRole("button", { name: "Name Speaker A" }));
    const dialog = await screen.findByRole("dialog", { hidden: true });
    // Neither a participant nor a name: nothing is sent.
    await user.click(within(dialog).getByRole("button", { name: "Save", hidden: true }));
    expect(within(dialog).getByText("Choose a participant or type a name.")).toBeInTheDocument();
    expect(api.nameSpeaker).not.toHaveBeenCalled();

    await user.type(within(dialog).getByRole("textbox", { name: /Display name/, hidden: true }), "  Dana ");
    await user.click(within(dialog).getByRole("button", { name: "Save", hidden: true }));
    expect(api.nameSpeaker).toHaveBeenCalledWith("m1", "r1", "spk_A", { displayName: "Dana" });
    expect(await within(dialog).findByRole("alert", { hidden: true })).toHaveTextContent(/Try again/);
    // The dialog stays open (the page behind it is aria-hidden), the transcript unchanged.
    expect(
      screen.getByRole("button", { name: "0:00 Speaker A Hello Bob.", hidden: true }),
    ).toBeInTheDocument();
  });

  it("offers no naming to a participant who is not the organizer", async () => {
    renderPage("bob");
    await screen.findByRole("button", { name: "0:00 Speaker A Hello Bob." });
    expect(screen.queryByRole("button", { name: "Name Speaker A" })).toBeNull();
  });
});
