import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, problem, renderPage, type Seen } from "../lib/testing";
import { MeetingFormPage } from "./MeetingFormPage";
import type { Meeting } from "./api";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

function meeting(changes: Partial<Meeting> = {}): Meeting {
  return {
    id: "m1",
    title: "Planning",
    description: "Quarterly plan",
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
    ...changes,
  };
}

const patches = (seen: Seen[]) => seen.filter((s) => s.method === "PATCH");

beforeEach(() => {
  fetchMock.mockReset();
});

describe("editing a meeting someone else changed meanwhile", () => {
  it("shows what changed on a 412 and applies the user's edits over the new version", async () => {
    const user = userEvent.setup();
    let version = 1;
    const seen = answerWith(fetchMock, [
      ({ method, path }) => {
        if (method !== "GET" || path !== "/api/meetings/m1") return undefined;
        // The first read is the version the user starts from; by the second, someone changed the description.
        return version === 1
          ? json(meeting(), 200, { ETag: '"v1"' })
          : json(meeting({ description: "Moved to Q3" }), 200, { ETag: '"v2"' });
      },
      ({ method, headers, body }) => {
        if (method !== "PATCH") return undefined;
        if (headers.get("If-Match") !== `"v${version + 1}"` && version === 1) {
          version = 2;
          return problem(412, "the meeting changed since you read it");
        }
        return json(meeting({ ...(body as Partial<Meeting>), description: "Moved to Q3" }), 200, {
          ETag: '"v3"',
        });
      },
    ]);

    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const title = await screen.findByRole("textbox", { name: /Title/ });
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Edit meeting");
    await user.clear(title);
    await user.type(title, "Planning, revised");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    const alert = await screen.findByText("Someone else changed this meeting");
    const bar = alert.closest("[role=alert]") as HTMLElement;
    // The description changed under the user; the title they edited did not change on the server.
    expect(within(bar).getByText(/Description: now “Moved to Q3”/)).toBeInTheDocument();
    expect(within(bar).queryByText(/Title:/)).toBeNull();
    expect(patches(seen)).toHaveLength(1);
    expect(patches(seen)[0]?.headers.get("If-Match")).toBe('"v1"');
    expect(patches(seen)[0]?.body).toEqual({ title: "Planning, revised" });

    await user.click(within(bar).getByRole("button", { name: "Apply my changes again" }));

    await screen.findByText("Meeting page");
    const second = patches(seen)[1];
    // Only the user's own edit goes again, against the version they were shown: the other change stays.
    expect(second?.headers.get("If-Match")).toBe('"v2"');
    expect(second?.body).toEqual({ title: "Planning, revised" });
  });

  it("names the user's own value beside a field both changed", async () => {
    const user = userEvent.setup();
    let reads = 0;
    answerWith(fetchMock, [
      ({ method }) => {
        if (method !== "GET") return undefined;
        reads += 1;
        return reads === 1
          ? json(meeting(), 200, { ETag: '"v1"' })
          : json(meeting({ title: "Planning (theirs)" }), 200, { ETag: '"v2"' });
      },
      ({ method }) => (method === "PATCH" ? problem(412, "stale") : undefined),
    ]);

    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const title = await screen.findByRole("textbox", { name: /Title/ });
    await user.clear(title);
    await user.type(title, "Planning (mine)");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    expect(
      await screen.findByText(/Title: now “Planning \(theirs\)”; yours: “Planning \(mine\)”/),
    ).toBeInTheDocument();
  });
});

describe("field errors", () => {
  it("shows the API's field errors under their fields", async () => {
    const user = userEvent.setup();
    answerWith(fetchMock, [
      ({ method }) =>
        method === "POST"
          ? problem(400, "invalid body: endsAt: must be at most 24 hours after startsAt", [
              { field: "endsAt", message: "must be at most 24 hours after startsAt" },
              { field: "participants.0.userId", message: "String should match pattern" },
            ])
          : undefined,
    ]);

    renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });
    await user.type(screen.getByRole("textbox", { name: /Title/ }), "Offsite");
    await user.type(screen.getByRole("textbox", { name: "Participant user id" }), "bob");
    await user.click(screen.getByRole("button", { name: "Add participant" }));
    await user.click(screen.getByRole("button", { name: "Create meeting" }));

    const ends = screen.getByLabelText(/Ends/);
    await waitFor(() => {
      expect(ends).toHaveAccessibleDescription("must be at most 24 hours after startsAt");
    });
    expect(ends).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText(/Starts/)).not.toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Participant 1 (userId): String should match pattern")).toBeInTheDocument();
    // The field errors say it all: no second message for the whole form.
    expect(screen.queryByText(/invalid body/)).toBeNull();
  });

  it("checks the form before sending: a title, and an end after the start", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, []);
    renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });

    const starts = screen.getByLabelText(/Starts/);
    await user.clear(starts);
    await user.type(starts, "2030-07-01T10:00");
    const ends = screen.getByLabelText(/Ends/);
    await user.clear(ends);
    await user.type(ends, "2030-07-01T09:00");
    await user.click(screen.getByRole("button", { name: "Create meeting" }));

    expect(screen.getByRole("textbox", { name: /Title/ })).toHaveAccessibleDescription(
      "Give the meeting a title.",
    );
    expect(ends).toHaveAccessibleDescription("Must be after the start.");
    expect(seen).toHaveLength(0);
  });

  it("sends the times with the offset of the user's zone", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method }) => (method === "POST" ? json(meeting({ id: "m9" }), 201) : undefined),
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(screen.getByText(`Times are in ${zone}`)).toBeInTheDocument();

    await user.type(screen.getByRole("textbox", { name: /Title/ }), "Offsite");
    const starts = screen.getByLabelText(/Starts/);
    await user.clear(starts);
    await user.type(starts, "2030-07-01T10:00");
    const ends = screen.getByLabelText(/Ends/);
    await user.clear(ends);
    await user.type(ends, "2030-07-01T11:30");
    await user.click(screen.getByRole("button", { name: "Create meeting" }));

    await screen.findByText("Meeting page");
    const body = seen.find((s) => s.method === "POST")?.body as { startsAt: string; endsAt: string };
    expect(body.startsAt).toMatch(/^2030-07-01T10:00:00[+-]\d\d:\d\d$/);
    expect(Date.parse(body.endsAt) - Date.parse(body.startsAt)).toBe(90 * 60_000);
  });
});

describe("the recording consent select", () => {
  it("sends the policy chosen with a new meeting", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method }) =>
        method === "POST" ? json(meeting({ id: "m9", recordingPolicy: "consent" }), 201) : undefined,
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });
    const select = screen.getByRole("combobox", { name: /Recording consent/ });
    expect(select).toHaveValue("none");
    expect(
      within(select)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["No consent needed", "Ask every participant to consent before recording"]);

    await user.type(screen.getByRole("textbox", { name: /Title/ }), "Interviews");
    await user.selectOptions(select, "Ask every participant to consent before recording");
    await user.click(screen.getByRole("button", { name: "Create meeting" }));

    await screen.findByText("Meeting page");
    const body = seen.find((s) => s.method === "POST")?.body as { recordingPolicy?: string };
    expect(body.recordingPolicy).toBe("consent");
  });

  it("shows the meeting's policy when editing and patches only its change", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path === "/api/meetings/m1"
          ? json(meeting({ recordingPolicy: "consent" }), 200, { ETag: '"v1"' })
          : undefined,
      ({ method, body }) =>
        method === "PATCH" ? json(meeting(body as Partial<Meeting>), 200, { ETag: '"v2"' }) : undefined,
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const select = await screen.findByRole("combobox", { name: /Recording consent/ });
    expect(select).toHaveValue("consent");

    await user.selectOptions(select, "No consent needed");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await screen.findByText("Meeting page");
    expect(patches(seen).map((s) => s.body)).toEqual([{ recordingPolicy: "none" }]);
  });
});

describe("the live captions switch", () => {
  const CAPTIONS = "Start live captions when the call begins";

  it("sends autoCaptions with every new meeting: off by default, on when switched on", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method }) => (method === "POST" ? json(meeting({ id: "m9" }), 201) : undefined),
    ]);
    const { unmount } = renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });
    expect(screen.getByRole("switch", { name: CAPTIONS })).not.toBeChecked();
    await user.type(screen.getByRole("textbox", { name: /Title/ }), "Standup");
    await user.click(screen.getByRole("button", { name: "Create meeting" }));
    await screen.findByText("Meeting page");
    unmount();

    renderPage(<MeetingFormPage />, { path: "/meetings/new", pattern: "/meetings/new" });
    await user.type(screen.getByRole("textbox", { name: /Title/ }), "Interviews");
    await user.click(screen.getByRole("switch", { name: CAPTIONS }));
    expect(screen.getByRole("switch", { name: CAPTIONS })).toBeChecked();
    await user.click(screen.getByRole("button", { name: "Create meeting" }));
    await screen.findByText("Meeting page");

    const posts = seen
      .filter((s) => s.method === "POST")
      .map((s) => (s.body as { autoCaptions?: boolean }).autoCaptions);
    expect(posts).toEqual([false, true]);
  });

  it("shows the meeting's setting when editing and patches only its change", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path === "/api/meetings/m1"
          ? json(meeting({ autoCaptions: true }), 200, { ETag: '"v1"' })
          : undefined,
      ({ method, body }) =>
        method === "PATCH" ? json(meeting(body as Partial<Meeting>), 200, { ETag: '"v2"' }) : undefined,
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const captions = await screen.findByRole("switch", { name: CAPTIONS });
    expect(captions).toBeChecked();

    await user.click(captions);
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await screen.findByText("Meeting page");
    expect(patches(seen).map((s) => s.body)).toEqual([{ autoCaptions: false }]);
  });

  it("leaves autoCaptions out of the PATCH when only another field changed", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path === "/api/meetings/m1"
          ? json(meeting({ autoCaptions: true }), 200, { ETag: '"v1"' })
          : undefined,
      ({ method, body }) =>
        method === "PATCH" ? json(meeting(body as Partial<Meeting>), 200, { ETag: '"v2"' }) : undefined,
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const title = await screen.findByRole("textbox", { name: /Title/ });
    await user.clear(title);
    await user.type(title, "Planning II");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await screen.findByText("Meeting page");
    expect(patches(seen).map((s) => s.body)).toEqual([{ title: "Planning II" }]);
  });

  it("after a 412 lists their change of the switch and sends the user's own again", async () => {
    const user = userEvent.setup();
    let reads = 0;
    const seen = answerWith(fetchMock, [
      ({ method, path }) => {
        if (method !== "GET" || path !== "/api/meetings/m1") return undefined;
        reads += 1;
        return reads === 1
          ? json(meeting(), 200, { ETag: '"v1"' })
          : json(meeting({ title: "Planning (theirs)" }), 200, { ETag: '"v2"' });
      },
      ({ method, headers, body }) => {
        if (method !== "PATCH") return undefined;
        if (headers.get("If-Match") === '"v1"') return problem(412, "stale");
        return json(meeting({ ...(body as Partial<Meeting>), title: "Planning (theirs)" }), 200, {
          ETag: '"v3"',
        });
      },
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    await user.click(await screen.findByRole("switch", { name: CAPTIONS }));
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    const bar = (await screen.findByText("Someone else changed this meeting")).closest(
      "[role=alert]",
    ) as HTMLElement;
    expect(within(bar).getByText(/Title: now “Planning \(theirs\)”/)).toBeInTheDocument();
    await user.click(within(bar).getByRole("button", { name: "Apply my changes again" }));

    await screen.findByText("Meeting page");
    expect(patches(seen).map((s) => [s.headers.get("If-Match"), s.body])).toEqual([
      ['"v1"', { autoCaptions: true }],
      ['"v2"', { autoCaptions: true }],
    ]);
  });

  it("after a 412 names the other person's change of the switch", async () => {
    const user = userEvent.setup();
    let reads = 0;
    answerWith(fetchMock, [
      ({ method }) => {
        if (method !== "GET") return undefined;
        reads += 1;
        return reads === 1
          ? json(meeting(), 200, { ETag: '"v1"' })
          : json(meeting({ autoCaptions: true }), 200, { ETag: '"v2"' });
      },
      ({ method }) => (method === "PATCH" ? problem(412, "stale") : undefined),
    ]);
    renderPage(<MeetingFormPage />, { path: "/meetings/m1/edit", pattern: "/meetings/:meetingId/edit" });
    const title = await screen.findByRole("textbox", { name: /Title/ });
    await user.type(title, "!");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    expect(await screen.findByText(/Live captions: now start with the call/)).toBeInTheDocument();
  });
});
