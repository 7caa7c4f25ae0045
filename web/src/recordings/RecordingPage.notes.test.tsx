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
  source: "recording",
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
    recordingPolicy: "none",
    autoCaptions: false,
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

describe("editing and approving the summary", () => {
  async function openSummary() {
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("tab", { name: "Summary" }));
    await screen.findByText("A short standup.");
    return user;
  }

  it("saves the edited lists with the summary's ETag, and shows who edited it", async () => {
    api.saveSummary.mockImplementation((_m, _r, body) =>
      Promise.resolve({
        ...summary,
        overview: body.overview,
        version: 4,
        editedBy: "alice",
        editedAt: "2025-01-02T10:00:00Z",
      }),
    );
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Edit" }));
    const overview = screen.getByRole("textbox", { name: "Overview" });
    await user.clear(overview);
    await user.type(overview, "A longer standup.");
    await user.click(screen.getByRole("button", { name: "Remove decision 1" }));
    await user.click(screen.getByRole("button", { name: "Add action item" }));
    await user.type(screen.getByRole("textbox", { name: "Owner 2" }), "Carol");
    await user.type(screen.getByRole("textbox", { name: "Task 2" }), "Book the room");
    await user.clear(screen.getByRole("textbox", { name: "Due 1" }));
    // A blank item added by mistake is left out, not refused.
    await user.click(screen.getByRole("button", { name: "Add open question" }));
    await user.click(screen.getByRole("button", { name: "Save" }));

    expect(api.saveSummary).toHaveBeenCalledTimes(1);
    const [meetingId, recordingId, body, etag] = api.saveSummary.mock.calls[0] ?? [];
    if (body === undefined) throw new Error("no body sent");
    expect([meetingId, recordingId, etag]).toEqual(["m1", "r1", '"summary-3"']);
    expect(body.overview).toBe("A longer standup.");
    expect(body.decisions).toEqual([]);
    expect(body.actionItems.map((a) => [a.owner, a.task, a.due])).toEqual([
      ["Bob", "Send the report", null],
      ["Carol", "Book the room", null],
    ]);
    expect(body.openQuestions.map((q) => q.text)).toEqual(["Who reviews it?"]);
    expect(await screen.findByText("Edited by Alice Martin")).toBeInTheDocument();
    expect(screen.getByText("A longer standup.")).toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Overview" })).toBeNull();
  });

  it("says someone else changed the summary on a 412 and reloads it on request", async () => {
    api.saveSummary.mockRejectedValue(new ApiError(412, null));
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Edit" }));
    await user.type(screen.getByRole("textbox", { name: "Overview" }), " Mine.");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Someone else changed the summary")).toBeInTheDocument();
    // The draft stays until the user reloads.
    expect(screen.getByRole("textbox", { name: "Overview" })).toHaveValue("A short standup. Mine.");

    api.getSummary.mockResolvedValue({
      ...summary,
      overview: "Their standup.",
      version: 5,
      editedBy: "carol",
    });
    await user.click(screen.getByRole("button", { name: "Reload summary" }));
    expect(await screen.findByText("Their standup.")).toBeInTheDocument();
    expect(screen.getByText("Edited by Carol King")).toBeInTheDocument();
    expect(screen.queryByText("Someone else changed the summary")).toBeNull();
    expect(api.getSummary).toHaveBeenCalledTimes(2);
  });

  it("approves the version shown and says who approved it and when", async () => {
    api.approveSummary.mockResolvedValue({
      ...summary,
      version: 4,
      approvedBy: "alice",
      approvedAt: "2025-01-02T10:00:00Z",
    });
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Approve" }));
    expect(api.approveSummary).toHaveBeenCalledWith("m1", "r1", '"summary-3"');
    const on = new Date("2025-01-02T10:00:00Z").toLocaleDateString();
    expect(await screen.findByText(`Approved by Alice Martin on ${on}`)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
  });

  it("shows a 412 on approve as a conflict too", async () => {
    api.approveSummary.mockRejectedValue(new ApiError(412, null));
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByRole("button", { name: "Reload summary" })).toBeInTheDocument();
    expect(screen.getByText("Someone else changed the summary")).toBeInTheDocument();
  });

  it("asks before regenerating an approved summary, then forces it", async () => {
    api.getSummary.mockResolvedValue({ ...summary, approvedBy: "alice", approvedAt: "2025-01-02T10:00:00Z" });
    api.regenerateSummary.mockResolvedValue({ ...done, status: "summarizing", progress: 0 });
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Regenerate" }));
    const dialog = await screen.findByRole("dialog", { hidden: true });
    expect(api.regenerateSummary).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole("button", { name: "Regenerate anyway", hidden: true }));
    expect(api.regenerateSummary).toHaveBeenCalledWith("m1", "r1", true);
    expect(await screen.findByText(/A new summary is being made/)).toBeInTheDocument();
  });

  it("lists the versions", async () => {
    api.listSummaryVersions.mockResolvedValue([
      { version: 1, kind: "generated", by: null, at: "2025-01-01T10:00:00Z", approved: false },
      { version: 3, kind: "edited", by: "alice", at: "2025-01-02T10:00:00Z", approved: false },
    ]);
    const user = await openSummary();
    await user.click(screen.getByRole("button", { name: "Versions" }));
    const table = await screen.findByRole("table", { name: "Summary versions" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell")[1]?.textContent)).toEqual(["Edited", "Generated"]);
    expect(rows[0]).toHaveTextContent("Alice Martin");
    expect(rows[1]).toHaveTextContent("Summarizer");
  });
});
