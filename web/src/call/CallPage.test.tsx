import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, problem, renderPage, type Route_ } from "../lib/testing";
import { joinMeeting, type JoinInfo, type Meeting } from "../meetings/api";
import CallPage from "./CallPage";
import type { Recording } from "./callRecording";
import { createTokenRefresher } from "./tokenRefresh";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

const MEETING: Meeting = {
  id: "m1",
  title: "Planning",
  description: null,
  organizerId: "alice",
  startsAt: "2030-07-01T07:00:00Z",
  endsAt: "2030-07-01T08:00:00Z",
  status: "scheduled",
  participants: [
    { userId: "alice", role: "presenter", displayName: null },
    { userId: "bob", role: "attendee", displayName: null },
  ],
  roomId: "room-1",
  recordingPolicy: "none",
  autoCaptions: false,
  createdAt: "2030-06-01T07:00:00Z",
  updatedAt: "2030-06-01T07:00:00Z",
};

function joined(token: string, expiresInMs: number, role: JoinInfo["role"] = "presenter"): JoinInfo {
  return {
    acsUserId: "8:local:alice",
    token,
    expiresOn: new Date(Date.now() + expiresInMs).toISOString(),
    roomId: "room-1",
    role,
    endpoint: "https://acs.local.invalid/",
    consent: { required: false, notice: null, accepted: null },
  };
}

function callRecording(state: "active" | "paused", id = "r1"): Recording {
  return {
    id,
    meetingId: "m1",
    createdBy: "alice",
    fileName: "call-recording.mp3",
    contentType: "audio/mpeg",
    sizeBytes: 0,
    channels: [],
    language: null,
    status: "recording",
    stage: "upload",
    progress: 0,
    error: null,
    durationSeconds: null,
    artifacts: [],
    usage: [],
    call: { callKind: "room", callId: "room-1", content: "audio", channels: "mixed", format: "mp3", state },
    transcriptWrittenAt: null,
    sourceDeletedAt: null,
    live: null,
    createdAt: "2030-07-01T07:05:00Z",
    updatedAt: "2030-07-01T07:05:00Z",
  };
}

const meetingRoute: Route_ = ({ method, path }) =>
  method === "GET" && path === "/api/meetings/m1" ? json(MEETING) : undefined;

const show = (userId = "alice") =>
  renderPage(<CallPage />, { path: "/meetings/m1/call", pattern: "/meetings/:meetingId/call", userId });

beforeEach(() => {
  fetchMock.mockReset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the call page without ACS (calling: local)", () => {
  it("joins and shows the room, the role, the token's expiry and what a real call needs", async () => {
    const seen = answerWith(fetchMock, [
      meetingRoute,
      ({ method }) => (method === "POST" ? json(joined("t1", 3600_000, "attendee")) : undefined),
    ]);
    show("bob");

    expect(await screen.findByRole("heading", { level: 1, name: "Call: Planning" })).toBeInTheDocument();
    expect(await screen.findByText("room-1")).toBeInTheDocument();
    expect(screen.getByText("attendee")).toBeInTheDocument();
    expect(screen.getByText("Token expires")).toBeInTheDocument();
    expect(
      screen.getByText(/The call itself needs an Azure Communication Services resource/),
    ).toBeInTheDocument();
    expect(screen.getByText("COMMUNICATION=acs")).toBeInTheDocument();
    expect(seen.filter((s) => s.method === "POST").map((s) => s.path)).toEqual(["/api/meetings/m1/join"]);
    // An attendee does not control the recording.
    expect(screen.queryByRole("heading", { name: "Call recording" })).toBeNull();
  });

  it("shows the recording notice before the call and records the answer", async () => {
    const user = userEvent.setup();
    const notice = "This meeting may be recorded and transcribed.";
    const seen = answerWith(fetchMock, [
      meetingRoute,
      ({ method, path }) =>
        method === "POST" && path === "/api/meetings/m1/join"
          ? json({
              ...joined("t1", 3600_000, "attendee"),
              consent: { required: true, notice, accepted: null },
            })
          : undefined,
      ({ method, path }) =>
        method === "POST" && path === "/api/meetings/m1/consent"
          ? json({ required: true, notice, accepted: false })
          : undefined,
    ]);
    show("bob");
    const region = await screen.findByRole("region", { name: "Recording notice" });
    expect(within(region).getByText(notice)).toBeInTheDocument();
    // Not in the call until answered.
    expect(screen.queryByText("room-1")).toBeNull();
    await user.click(within(region).getByRole("button", { name: "Decline" }));
    expect(await screen.findByText("room-1")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Recording notice" })).toBeNull();
    const answer = seen.find((s) => s.path === "/api/meetings/m1/consent");
    expect(answer?.body).toEqual({ accepted: false });
  });

  it("goes straight in when the notice was answered before", async () => {
    answerWith(fetchMock, [
      meetingRoute,
      ({ method }) =>
        method === "POST"
          ? json({ ...joined("t1", 3600_000), consent: { required: true, notice: "n", accepted: true } })
          : undefined,
    ]);
    show();
    expect(await screen.findByText("room-1")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Recording notice" })).toBeNull();
  });

  it("shows why joining failed, e.g. a cancelled meeting", async () => {
    answerWith(fetchMock, [
      meetingRoute,
      ({ method }) => (method === "POST" ? problem(409, "meeting m1 is cancelled") : undefined),
    ]);
    show();
    expect(await screen.findByText("Meeting m1 is cancelled")).toBeInTheDocument();
  });

  it("joins again before the token expires", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let tokens = 0;
    const seen = answerWith(fetchMock, [
      meetingRoute,
      ({ method, path }) =>
        method === "GET" && path.endsWith("/recordings") ? json({ items: [] }) : undefined,
      ({ method }) => {
        if (method !== "POST") return undefined;
        tokens += 1;
        // The first token has 12 minutes left: renewed after half of that.
        return json(joined(`t${tokens}`, tokens === 1 ? 12 * 60_000 : 3600_000));
      },
    ]);
    show();
    await screen.findByText("room-1");
    expect(tokens).toBe(1);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(6 * 60_000 + 1000);
    });
    await waitFor(() => {
      expect(tokens).toBe(2);
    });
    expect(seen.filter((s) => s.method === "POST").every((s) => s.path === "/api/meetings/m1/join")).toBe(
      true,
    );
  });
});

describe("the token refresher", () => {
  it("asks POST .../join for a fresh token", async () => {
    const seen = answerWith(fetchMock, [
      ({ method }) =>
        method === "POST"
          ? json({ ...joined("fresh", 3600_000), expiresOn: "2030-07-01T09:00:00Z" })
          : undefined,
    ]);
    const refresh = createTokenRefresher(() => joinMeeting("m1"));
    expect(await refresh()).toEqual({
      token: "fresh",
      expiresOnTimestamp: Date.parse("2030-07-01T09:00:00Z"),
    });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /api/meetings/m1/join"]);
  });
});

describe("call recording controls", () => {
  it("enables the buttons the reported state allows, and follows the API's answer", async () => {
    const user = userEvent.setup();
    let state: "active" | "paused" = "paused";
    const seen = answerWith(fetchMock, [
      meetingRoute,
      ({ method, path }) =>
        method === "GET" && path.endsWith("/recordings")
          ? json({ items: [callRecording(state)] })
          : undefined,
      ({ method, path }) => {
        if (method !== "POST" || !path.startsWith("/api/meetings/m1/recording/resume")) return undefined;
        state = "active";
        return json(callRecording("active"), 202);
      },
      ({ method }) => (method === "POST" ? json(joined("t1", 3600_000)) : undefined),
    ]);
    show();

    const section = (await screen.findByRole("heading", { name: "Call recording" })).closest(
      "section",
    ) as HTMLElement;
    await within(section).findByText("Paused");
    expect(within(section).getByRole("button", { name: "Start recording" })).toBeDisabled();
    expect(within(section).getByRole("button", { name: "Pause recording" })).toBeDisabled();
    expect(within(section).getByRole("button", { name: "Resume recording" })).toBeEnabled();
    expect(within(section).getByRole("button", { name: "Stop recording" })).toBeEnabled();

    await user.click(within(section).getByRole("button", { name: "Resume recording" }));
    await within(section).findByText("Recording");
    expect(within(section).getByRole("button", { name: "Pause recording" })).toBeEnabled();
    expect(within(section).getByRole("button", { name: "Resume recording" })).toBeDisabled();
    expect(
      seen.some((s) => s.method === "POST" && s.path === "/api/meetings/m1/recording/resume?recordingId=r1"),
    ).toBe(true);
  });

  it("shows the API's refusal where the user is", async () => {
    const user = userEvent.setup();
    answerWith(fetchMock, [
      meetingRoute,
      ({ method, path }) =>
        method === "GET" && path.endsWith("/recordings") ? json({ items: [] }) : undefined,
      ({ method, path }) =>
        method === "POST" && path.endsWith("/recording/start")
          ? problem(503, "ACS is not answering: try again in a minute")
          : undefined,
      ({ method }) => (method === "POST" ? json(joined("t1", 3600_000)) : undefined),
    ]);
    show();
    const start = await screen.findByRole("button", { name: "Start recording" });
    await waitFor(() => {
      expect(start).toBeEnabled();
    });
    await user.click(start);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("ACS is not answering: try again in a minute");
    expect(screen.getByText("Not recording")).toBeInTheDocument();
  });
});
