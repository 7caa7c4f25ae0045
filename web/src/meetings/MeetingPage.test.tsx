import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, findDialog, inDialog, json, problem, renderPage } from "../lib/testing";
import { MeetingPage } from "./MeetingPage";
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
    { userId: "carol", role: "presenter", displayName: "Carol C" },
  ],
  roomId: "room-1",
  recordingPolicy: "none",
  autoCaptions: false,
  createdAt: "2030-06-01T07:00:00Z",
  updatedAt: "2030-06-01T07:00:00Z",
};

const getMeeting = (meeting: Meeting = MEETING) =>
  answerWith(fetchMock, [
    ({ method, path }) =>
      method === "GET" && path === "/api/meetings/m1" ? json(meeting, 200, { ETag: '"v1"' }) : undefined,
    ({ method, path }) =>
      method === "GET" && path.endsWith("/recordings") ? json({ items: [] }) : undefined,
  ]);

const show = (userId: string) =>
  renderPage(<MeetingPage />, { path: "/meetings/m1", pattern: "/meetings/:meetingId", userId });

beforeEach(() => {
  fetchMock.mockReset();
});

describe("what each role sees", () => {
  it("gives the organizer the edit, cancel, invite, role and remove controls", async () => {
    getMeeting();
    show("alice");
    await screen.findByRole("heading", { level: 1, name: "Planning" });

    expect(screen.getByRole("link", { name: "Edit" })).toHaveAttribute("href", "/meetings/m1/edit");
    expect(screen.getByRole("button", { name: "Cancel meeting" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Invite" })).toBeInTheDocument();
    expect(screen.getByRole("combobox", { name: "Role of bob" })).toHaveValue("attendee");
    expect(screen.getByRole("button", { name: "Remove carol" })).toBeInTheDocument();
    // Nobody removes the organizer.
    expect(screen.queryByRole("button", { name: "Remove alice" })).toBeNull();
    expect(screen.getByRole("button", { name: "Join" })).toBeEnabled();
  });

  it.each(["bob", "carol"])("shows %s, a participant, the meeting without changing it", async (userId) => {
    getMeeting();
    show(userId);
    await screen.findByRole("heading", { level: 1, name: "Planning" });

    expect(screen.getByRole("heading", { level: 2, name: "Participants" })).toBeInTheDocument();
    expect(screen.getByText("Carol C")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Join" })).toBeEnabled();
    expect(screen.queryByRole("link", { name: "Edit" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel meeting" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Invite" })).toBeNull();
    expect(screen.queryByRole("combobox", { name: /Role of/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Remove/ })).toBeNull();
  });
});

describe("the recording policy", () => {
  it("says when recording needs everyone's consent, to every participant", async () => {
    getMeeting({ ...MEETING, recordingPolicy: "consent" });
    show("bob");
    await screen.findByRole("heading", { level: 1, name: "Planning" });
    expect(screen.getByText("Recording needs everyone's consent")).toBeInTheDocument();
  });

  it("says nothing of consent when none is needed", async () => {
    getMeeting();
    show("alice");
    await screen.findByRole("heading", { level: 1, name: "Planning" });
    expect(screen.queryByText(/consent/)).toBeNull();
  });
});

describe("the live captions badge", () => {
  it("says captions start with the call when the meeting has autoCaptions, to every participant", async () => {
    getMeeting({ ...MEETING, autoCaptions: true });
    show("bob");
    await screen.findByRole("heading", { level: 1, name: "Planning" });
    expect(screen.getByText("Live captions start with the call")).toBeInTheDocument();
    expect(screen.queryByText(/consent/)).toBeNull();
  });

  it("shows beside the consent badge when both apply", async () => {
    getMeeting({ ...MEETING, autoCaptions: true, recordingPolicy: "consent" });
    show("alice");
    await screen.findByRole("heading", { level: 1, name: "Planning" });
    expect(screen.getByText("Live captions start with the call")).toBeInTheDocument();
    expect(screen.getByText("Recording needs everyone's consent")).toBeInTheDocument();
  });

  it("is absent when captions are started by hand", async () => {
    getMeeting();
    show("alice");
    await screen.findByRole("heading", { level: 1, name: "Planning" });
    expect(screen.queryByText(/Live captions/)).toBeNull();
  });
});

describe("the organizer's changes", () => {
  it("invites with the role chosen and shows the API's field error under its field", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method }) =>
        method === "PUT"
          ? problem(400, "invalid body: displayName: String should have at most 200 characters", [
              { field: "displayName", message: "String should have at most 200 characters" },
            ])
          : undefined,
      ({ method, path }) => (method === "GET" && path === "/api/meetings/m1" ? json(MEETING) : undefined),
      ({ method }) => (method === "GET" ? json({ items: [] }) : undefined),
    ]);
    show("alice");
    await user.type(await screen.findByRole("textbox", { name: "User id" }), "dave");
    await user.type(screen.getByRole("textbox", { name: "Display name" }), "Dave D");
    await user.selectOptions(screen.getByRole("combobox", { name: "Role" }), "consumer");
    await user.click(screen.getByRole("button", { name: "Invite" }));

    await waitFor(() => {
      expect(screen.getByRole("textbox", { name: "Display name" })).toHaveAccessibleDescription(
        "String should have at most 200 characters",
      );
    });
    expect(screen.getByRole("textbox", { name: "User id" })).not.toHaveAttribute("aria-invalid", "true");
    const put = seen.find((s) => s.method === "PUT");
    expect(put?.path).toBe("/api/meetings/m1/participants/dave");
    expect(put?.body).toEqual({ role: "consumer", displayName: "Dave D" });
  });

  it("cancels only after the confirmation", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method }) => (method === "DELETE" ? new Response(null, { status: 204 }) : undefined),
      ({ method, path }) =>
        method === "GET" && path === "/api/meetings/m1"
          ? json(seen.some((s) => s.method === "DELETE") ? { ...MEETING, status: "cancelled" } : MEETING, 200)
          : undefined,
      ({ method }) => (method === "GET" ? json({ items: [] }) : undefined),
    ]);
    show("alice");
    await user.click(await screen.findByRole("button", { name: "Cancel meeting" }));
    expect(seen.filter((s) => s.method === "DELETE")).toHaveLength(0);

    await user.click(
      await within(await findDialog()).findByRole("button", { name: "Cancel the meeting", ...inDialog }),
    );
    expect(await screen.findByText("Cancelled")).toBeInTheDocument();
    expect(seen.filter((s) => s.method === "DELETE").map((s) => s.path)).toEqual(["/api/meetings/m1"]);
    // Found once the dialog has closed: the page is aria-hidden while it is open.
    expect(await screen.findByRole("button", { name: "Join" })).toBeDisabled();
    expect(screen.queryByRole("link", { name: "Edit" })).toBeNull();
  });

  it("offers a retry when the connection is lost", async () => {
    const user = userEvent.setup();
    let fail = true;
    fetchMock.mockImplementation((input: Request) => {
      if (fail) return Promise.reject(new TypeError("Failed to fetch"));
      return Promise.resolve(input.url.endsWith("/recordings") ? json({ items: [] }) : json(MEETING));
    });
    show("alice");
    expect(await screen.findByText("Connection lost")).toBeInTheDocument();
    fail = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Planning" })).toBeInTheDocument();
  });
});
