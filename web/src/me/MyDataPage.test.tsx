import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from "vitest";

import { setTokenSource } from "../api/client";
import { AuthContext, type AuthState } from "../auth/AuthContext";
import { peekSignOutNotice } from "../auth/signOutNotice";
import { answerWith, findDialog, inDialog, json, localConfig, problem, type Seen } from "../lib/testing";
import type { Erasure, ErasureCounts } from "./api";
import MyDataPage, { ERASURE_POLL_MS } from "./MyDataPage";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

const NO_COUNTS: ErasureCounts = {
  membershipsRemoved: 0,
  meetingsLeft: 0,
  meetingsHandedOver: 0,
  meetingsCancelled: 0,
  recordingsScrubbed: 0,
  segmentsRemoved: 0,
  acsIdentityDeleted: false,
  searchIndexUpdated: false,
  documentsDeleted: 0,
};

function erasure(changes: Partial<Erasure> = {}, counts: Partial<ErasureCounts> = {}): Erasure {
  return {
    id: "e1",
    status: "queued",
    meetingsTotal: null,
    meetingsDone: 0,
    counts: { ...NO_COUNTS, ...counts },
    createdAt: "2030-07-01T07:00:00Z",
    updatedAt: "2030-07-01T07:00:00Z",
    completedAt: null,
    ...changes,
  };
}

let signOut: Mock<() => Promise<void>>;

function show(userId = "alice") {
  const auth: AuthState = {
    config: localConfig,
    user: { id: userId, name: userId },
    signIn: () => Promise.resolve(),
    signOut,
  };
  return render(
    <AuthContext.Provider value={auth}>
      <MyDataPage />
    </AuthContext.Provider>,
  );
}

const erasureReads = (seen: Seen[]) => seen.filter((s) => s.method === "GET" && s.path === "/api/me/erasure");
const noErasure = ({ method, path }: Seen) =>
  method === "GET" && path === "/api/me/erasure" ? problem(404, "no erasure was requested") : undefined;

/** Lets the page's timers and the fake answers run for `ms`. */
async function wait(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

beforeEach(() => {
  fetchMock.mockReset();
  signOut = vi.fn(() => Promise.resolve());
  sessionStorage.clear();
  setTokenSource(() => Promise.resolve("dev:alice"));
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("the export", () => {
  it("fetches GET /me/export with the bearer header and saves it as the user's JSON file", async () => {
    const user = userEvent.setup();
    const document_ = { userId: "alice", meetingsOrganized: [{ id: "m1" }] };
    const seen = answerWith(fetchMock, [
      noErasure,
      ({ method, path }) => (method === "GET" && path === "/api/me/export" ? json(document_) : undefined),
    ]);
    const blobs: Blob[] = [];
    const saved: { href: string; download: string }[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return "blob:export";
    });
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ href: this.href, download: this.download });
    });

    show();
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Your data");
    await user.click(screen.getByRole("button", { name: "Download my data" }));

    await waitFor(() => {
      expect(saved).toEqual([{ href: "blob:export", download: "video-signaling-export-alice.json" }]);
    });
    const request = seen.find((s) => s.path === "/api/me/export");
    expect(request?.headers.get("Authorization")).toBe("Bearer dev:alice");
    expect(JSON.parse(await (blobs[0] as Blob).text())).toEqual(document_);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a failed export beside its button, with a retry", async () => {
    const user = userEvent.setup();
    let failing = true;
    answerWith(fetchMock, [
      noErasure,
      ({ path }) =>
        path === "/api/me/export"
          ? failing
            ? problem(503, "the store is not answering")
            : json({ userId: "alice" })
          : undefined,
    ]);
    URL.createObjectURL = vi.fn(() => "blob:export");
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);

    show();
    await user.click(screen.getByRole("button", { name: "Download my data" }));
    const section = screen.getByRole("region", { name: "Download a copy" });
    const alert = await within(section).findByRole("alert");
    expect(alert).toHaveTextContent("The store is not answering");
    expect(click).not.toHaveBeenCalled();

    failing = false;
    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    await waitFor(() => {
      expect(click).toHaveBeenCalledTimes(1);
    });
    expect(within(section).queryByRole("alert")).toBeNull();
  });
});

describe("the erasure", () => {
  it("starts only after the confirmation, then follows the job every 2 s until it signs the user out", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime.bind(vi) });
    const answers = [
      erasure(
        { status: "running", meetingsTotal: 3, meetingsDone: 1 },
        { membershipsRemoved: 1, meetingsLeft: 1 },
      ),
      erasure(
        { status: "completed", meetingsTotal: 3, meetingsDone: 3, completedAt: "2030-07-01T07:01:00Z" },
        {
          membershipsRemoved: 3,
          meetingsLeft: 1,
          meetingsHandedOver: 1,
          meetingsCancelled: 1,
          recordingsScrubbed: 2,
          segmentsRemoved: 5,
          acsIdentityDeleted: true,
          searchIndexUpdated: true,
          documentsDeleted: 4,
        },
      ),
    ];
    let asked = false;
    const seen = answerWith(fetchMock, [
      ({ method, path }) => {
        if (method !== "GET" || path !== "/api/me/erasure") return undefined;
        if (!asked) return problem(404, "no erasure was requested");
        return json(answers.length > 1 ? answers.shift() : answers[0]);
      },
      ({ method }) => {
        if (method !== "DELETE") return undefined;
        asked = true;
        return json(erasure(), 202, { Location: "/api/me/erasure" });
      },
    ]);

    show();
    const section = screen.getByRole("region", { name: "Delete my data" });
    await waitFor(() => {
      expect(erasureReads(seen)).toHaveLength(1);
    });
    // No erasure asked for: nothing about one, only the form.
    expect(within(section).queryByRole("status")).toBeNull();
    await user.type(within(section).getByRole("textbox", { name: /Hand my meetings over to/ }), "bob");
    await user.click(within(section).getByRole("button", { name: "Delete my data" }));

    const dialog = await findDialog();
    expect(dialog).toHaveTextContent("The meetings you organize go to bob where they are a participant");
    expect(seen.filter((s) => s.method === "DELETE")).toEqual([]);
    await user.click(await within(dialog).findByRole("button", { name: "Delete everything", ...inDialog }));

    const job = await within(section).findByRole("status");
    expect(job).toHaveTextContent("Waiting to start.");
    expect(seen.filter((s) => s.method === "DELETE").map((s) => s.path)).toEqual([
      "/api/me?newOrganizer=bob",
    ]);
    expect(within(section).queryByRole("button", { name: "Delete my data" })).toBeNull();

    // Not read again before 2 s are up; then the job as it stands, in words.
    const before = erasureReads(seen).length;
    await wait(ERASURE_POLL_MS - 200);
    expect(erasureReads(seen)).toHaveLength(before);
    await wait(200);
    await waitFor(() => {
      expect(job).toHaveTextContent("Under way: 1 of 3 meetings done.");
    });
    expect(job).toHaveTextContent("Removed you from 1 meeting.");
    expect(within(job).getByRole("progressbar", { name: "Erasure progress" })).toHaveAttribute(
      "aria-valuenow",
      String(1 / 3),
    );
    expect(signOut).not.toHaveBeenCalled();

    await wait(ERASURE_POLL_MS);
    await waitFor(() => {
      expect(signOut).toHaveBeenCalledTimes(1);
    });
    // What was done goes to the sign-in page with the user.
    expect(peekSignOutNotice()).toEqual({
      title: "Your data is erased and you are signed out",
      lines: [
        "Removed you from 3 meetings.",
        "Handed 1 meeting you organized over to the new organizer.",
        "Cancelled 1 meeting you organized.",
        "Took your words and name out of 2 recordings: 5 things you said now read “[removed]”, and you appear as “a former participant”.",
        "Updated the search index.",
        "Deleted your calling identity (Azure Communication Services).",
        "Deleted 4 records kept under your account.",
      ],
    });
    // Completed: no more reads.
    const reads = erasureReads(seen).length;
    await wait(3 * ERASURE_POLL_MS);
    expect(erasureReads(seen)).toHaveLength(reads);
  });

  it("sends nothing when the user keeps their data", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [noErasure]);
    show();
    // The form once the page knows no erasure is under way.
    await user.click(await screen.findByRole("button", { name: "Delete my data" }));
    const dialog = await findDialog();
    expect(dialog).toHaveTextContent("The meetings you organize will be cancelled.");
    await user.click(await within(dialog).findByRole("button", { name: "Keep my data", ...inDialog }));
    await waitFor(() => {
      expect(screen.queryByRole("dialog", inDialog)).toBeNull();
    });
    expect(seen.filter((s) => s.method === "DELETE")).toEqual([]);
  });

  it("shows hand-over errors under the field: the user's own id at once, the API's after the confirmation", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      noErasure,
      ({ method }) =>
        method === "DELETE"
          ? problem(400, "invalid query", [{ field: "newOrganizer", message: "String should match pattern" }])
          : undefined,
    ]);
    show();
    const field = await screen.findByRole("textbox", { name: /Hand my meetings over to/ });
    await user.type(field, "alice");
    await user.click(screen.getByRole("button", { name: "Delete my data" }));
    expect(field).toHaveAccessibleDescription(/Name someone else/);
    expect(screen.queryByRole("dialog", inDialog)).toBeNull();

    await user.clear(field);
    await user.type(field, "bob");
    await user.click(screen.getByRole("button", { name: "Delete my data" }));
    await user.click(
      await within(await findDialog()).findByRole("button", { name: "Delete everything", ...inDialog }),
    );
    await waitFor(() => {
      expect(field).toHaveAccessibleDescription(/String should match pattern/);
    });
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(seen.filter((s) => s.method === "DELETE")).toHaveLength(1);
    // The field says it (its message is the one alert): no second message, and nothing to follow.
    await waitFor(() => {
      expect(screen.queryByRole("dialog", inDialog)).toBeNull();
    });
    expect((await screen.findAllByRole("alert")).map((a) => a.textContent)).toEqual([
      "String should match pattern",
    ]);
    expect(screen.queryByRole("status")).toBeNull();
    expect(signOut).not.toHaveBeenCalled();
  });

  it("shows a refused erasure where the user is, and keeps them signed in", async () => {
    const user = userEvent.setup();
    answerWith(fetchMock, [
      noErasure,
      ({ method }) =>
        method === "DELETE"
          ? problem(409, "the erasure is being requested by another request: try again")
          : undefined,
    ]);
    show();
    await user.click(await screen.findByRole("button", { name: "Delete my data" }));
    await user.click(
      await within(await findDialog()).findByRole("button", { name: "Delete everything", ...inDialog }),
    );
    // Found once the dialog has closed: the page is aria-hidden while it is open.
    const section = await screen.findByRole("region", { name: "Delete my data" });
    expect(await within(section).findByRole("alert")).toHaveTextContent("another request: try again");
    expect(within(section).getByRole("button", { name: "Delete my data" })).toBeEnabled();
    expect(signOut).not.toHaveBeenCalled();
  });

  it("follows a job already under way when the page opens, and says when a read fails", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime.bind(vi) });
    const answers: Response[] = [
      json(erasure({ status: "running", meetingsTotal: 2, meetingsDone: 0 })),
      problem(503, "the store is not answering"),
      json(erasure({ status: "completed", completedAt: "2030-07-01T07:01:00Z" })),
    ];
    const seen = answerWith(fetchMock, [
      ({ method, path }) => (method === "GET" && path === "/api/me/erasure" ? answers.shift() : undefined),
    ]);
    show();
    const job = await screen.findByRole("status");
    expect(job).toHaveTextContent("Under way: 0 of 2 meetings done.");
    expect(job).toHaveTextContent("Nothing changed yet.");
    // A job under way is not asked for again.
    expect(screen.queryByRole("button", { name: "Delete my data" })).toBeNull();

    await wait(ERASURE_POLL_MS);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The store is not answering");
    // Stopped until the user retries.
    await wait(3 * ERASURE_POLL_MS);
    expect(erasureReads(seen)).toHaveLength(2);

    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    await wait(ERASURE_POLL_MS);
    await waitFor(() => {
      expect(signOut).toHaveBeenCalledTimes(1);
    });
    expect(peekSignOutNotice()?.lines).toEqual(["There was nothing of yours to remove."]);
  });

  it("shows an erasure completed before without signing out, and offers the form again", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const seen = answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path === "/api/me/erasure"
          ? json(
              erasure(
                { status: "completed", completedAt: "2030-07-01T07:01:00Z" },
                { membershipsRemoved: 2, meetingsLeft: 2, documentsDeleted: 3 },
              ),
            )
          : undefined,
    ]);
    show();
    const job = await screen.findByRole("status");
    expect(job).toHaveTextContent(/Your data was erased on/);
    expect(job).toHaveTextContent("Removed you from 2 meetings.");
    expect(job).toHaveTextContent("Deleted 3 records kept under your account.");
    expect(screen.getByRole("button", { name: "Delete my data" })).toBeEnabled();
    await wait(3 * ERASURE_POLL_MS);
    expect(erasureReads(seen)).toHaveLength(1);
    expect(signOut).not.toHaveBeenCalled();
  });
});
