// The meeting pages on the live channel (a fake client): changes shown as they arrive, the removed
// participant told so, a meeting one is invited to appearing in the list, polling only while down.
import { act, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, renderPage } from "../lib/testing";
import { fakeLive } from "../live/testing";
import { MeetingPage, MEETING_POLL_MS } from "./MeetingPage";
import { MeetingsPage } from "./MeetingsPage";
import type { Meeting } from "./api";

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

function serveMeeting(meeting: () => Meeting) {
  return answerWith(fetchMock, [
    ({ method, path }) => (method === "GET" && path === "/api/meetings/m1" ? json(meeting()) : undefined),
    ({ method, path }) =>
      method === "GET" && path.endsWith("/recordings") ? json({ items: [] }) : undefined,
  ]);
}

const meetingReads = (seen: { method: string; path: string }[]) =>
  seen.filter((s) => s.method === "GET" && s.path === "/api/meetings/m1").length;

beforeEach(() => {
  fetchMock.mockReset();
});

describe("the meeting page, live", () => {
  it("shows a new title at once, and a clear message when the user is removed", async () => {
    const live = fakeLive({ userId: "bob" });
    serveMeeting(() => MEETING);
    renderPage(
      <live.Wrapper>
        <MeetingPage />
      </live.Wrapper>,
      { path: "/meetings/m1", pattern: "/meetings/:meetingId", userId: "bob" },
    );
    await screen.findByRole("heading", { level: 1, name: "Planning" });

    act(() => {
      live.deliver({
        type: "meeting.updated",
        data: { title: "Planning, moved", startsAt: MEETING.startsAt, endsAt: MEETING.endsAt, version: 2 },
      });
    });
    expect(screen.getByRole("heading", { level: 1, name: "Planning, moved" })).toBeInTheDocument();

    // Someone else removed: not about bob.
    act(() => {
      live.deliver({ type: "participant.removed", data: { userId: "carol", version: 3 } });
    });
    expect(screen.queryByText("You were removed from this meeting")).toBeNull();

    act(() => {
      live.deliver({ type: "participant.removed", data: { userId: "bob", version: 4 } });
    });
    expect(await screen.findByRole("alert")).toHaveTextContent("You were removed from this meeting");
    expect(screen.queryByRole("heading", { name: /Planning/ })).toBeNull();
    expect(screen.queryByRole("heading", { name: "Participants" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Join" })).toBeNull();
    expect(screen.getByRole("link", { name: "Back to your meetings" })).toHaveAttribute("href", "/");
  });

  it("reads the meeting every few seconds only while the connection is down", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const live = fakeLive({ connected: false });
      const seen = serveMeeting(() => MEETING);
      renderPage(
        <live.Wrapper>
          <MeetingPage />
        </live.Wrapper>,
        { path: "/meetings/m1", pattern: "/meetings/:meetingId" },
      );
      await screen.findByRole("heading", { level: 1, name: "Planning" });
      act(() => {
        live.status("offline");
      });
      const before = meetingReads(seen);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(MEETING_POLL_MS + 100);
      });
      expect(meetingReads(seen)).toBe(before + 1);

      act(() => {
        live.status("connected");
      });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(0);
      });
      const connected = meetingReads(seen); // one read for what was missed while down
      expect(connected).toBe(before + 2);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(MEETING_POLL_MS * 3);
      });
      expect(meetingReads(seen)).toBe(connected);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the meetings list, live", () => {
  it("shows a meeting the user is invited to, and drops one they are removed from", async () => {
    const live = fakeLive({ userId: "bob" });
    let items = [{ ...MEETING, id: "m0", title: "Standup", role: "attendee" }];
    answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path.startsWith("/api/meetings?")
          ? json({ items: path.includes("from=") ? items : [], continuationToken: null })
          : undefined,
    ]);
    renderPage(
      <live.Wrapper>
        <MeetingsPage />
      </live.Wrapper>,
      { path: "/", pattern: "/", userId: "bob" },
    );
    await screen.findByRole("link", { name: "Standup" });

    items = [...items, { ...MEETING, role: "attendee" }];
    act(() => {
      live.deliver({
        type: "participant.added",
        data: { userId: "bob", role: "attendee", previousRole: null },
      });
    });
    expect(await screen.findByRole("link", { name: "Planning" })).toBeInTheDocument();

    act(() => {
      live.deliver({ type: "meeting.updated", data: { title: "Planning, renamed", version: 5 } });
    });
    expect(screen.getByRole("link", { name: "Planning, renamed" })).toBeInTheDocument();

    act(() => {
      live.deliver({ type: "participant.removed", data: { userId: "bob", version: 6 } });
    });
    expect(screen.queryByRole("link", { name: /Planning/ })).toBeNull();
    expect(screen.getByRole("link", { name: "Standup" })).toBeInTheDocument();
  });
});
