// The search page (`/search?q=`). Accessible names the browser tests rely on: h1 "Search"; the meetings
// found by title under an h2 "Meetings" (a region of that name), each a link to the meeting named by its
// title; per meeting with hits an h2 that links to it, named by the meeting's title; each hit a link to
// `/meetings/:id/recordings/:rid?t=<seconds>` whose name holds its time (m:ss), kind ("Transcript" or
// "Summary"), speaker and snippet, the matched words in <mark>; button "Load more"; empty state
// "No results for “q”"; errors in a MessageBar (role=alert) with "Retry".
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, problem, renderPage } from "../lib/testing";
import SearchPage from "./SearchPage";
import type { SearchHit, TitleHit } from "./searchApi";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

function hit(fields: Partial<SearchHit> = {}): SearchHit {
  return {
    meetingId: "m1",
    meetingTitle: "Title of m1",
    recordingId: "r1",
    kind: "transcript",
    start: 65.2,
    end: 68,
    speaker: "Bob Builder",
    snippet: "we should approve the budget today",
    highlights: [[22, 28]],
    ...fields,
  };
}

function titled(fields: Partial<TitleHit> = {}): TitleHit {
  return {
    meetingId: "m7",
    title: "Budget sync",
    startsAt: "2026-03-02T09:00:00Z",
    endsAt: "2026-03-02T09:30:00Z",
    status: "scheduled",
    highlights: [[0, 6]],
    ...fields,
  };
}

const show = (q: string) => renderPage(<SearchPage />, { path: `/search?q=${q}`, pattern: "/search" });

beforeEach(() => {
  fetchMock.mockReset();
});

describe("results", () => {
  it("groups hits by meeting under its title and links each to the recording at its time", async () => {
    const seen = answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({
              items: [
                hit(),
                hit({
                  meetingId: "m2",
                  meetingTitle: "Title of m2",
                  recordingId: "r9",
                  kind: "summary",
                  start: 3,
                  speaker: null,
                }),
                hit({ start: 125, snippet: "budget again", highlights: [[0, 6]] }),
              ],
              continuationToken: null,
            })
          : undefined,
    ]);
    show("budget");

    expect(await screen.findByRole("heading", { level: 1, name: "Search" })).toBeInTheDocument();
    const first = await screen.findByRole("region", { name: "Title of m1" });
    const second = screen.getByRole("region", { name: "Title of m2" });
    expect(within(first).getByRole("link", { name: "Title of m1" })).toHaveAttribute("href", "/meetings/m1");
    const links = within(first)
      .getAllByRole("link")
      .filter((a) => a.getAttribute("href")?.includes("/recordings/"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "/meetings/m1/recordings/r1?t=65.2",
      "/meetings/m1/recordings/r1?t=125",
    ]);
    expect(links[0]).toHaveAccessibleName("1:05 Transcript · Bob Builder we should approve the budget today");
    expect(links[1]).toHaveAccessibleName(/^2:05 Transcript/);
    expect(within(second).getByRole("link", { name: /^0:03 Summary we should/ })).toHaveAttribute(
      "href",
      "/meetings/m2/recordings/r9?t=3",
    );
    // Groups in the order of their best hit: m1's first.
    expect(first.compareDocumentPosition(second) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(seen.find((s) => s.path.startsWith("/api/search"))?.path).toBe("/api/search?q=budget");
  });

  it("highlights with <mark> and never reads the snippet as HTML", async () => {
    const snippet = '<img src=x onerror="alert(1)"> said <b>budget</b>';
    answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({
              items: [
                hit({ snippet, highlights: [[snippet.indexOf("budget"), snippet.indexOf("budget") + 6]] }),
              ],
              continuationToken: null,
            })
          : undefined,
    ]);
    const { container } = show("budget");

    const link = await screen.findByRole("link", { name: /said/ });
    expect(link.querySelector("img, b")).toBeNull();
    expect(container.querySelector("img, b")).toBeNull();
    expect(link).toHaveTextContent(snippet);
    const marks = link.querySelectorAll("mark");
    expect([...marks].map((m) => m.textContent)).toEqual(["budget"]);
  });

  it("opens a hit without a time (a summary's overview) at the recording's start", async () => {
    const seen = answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({
              items: [
                hit({
                  meetingTitle: "Budget review",
                  kind: "summary",
                  start: null,
                  end: null,
                  speaker: null,
                }),
              ],
              continuationToken: null,
            })
          : undefined,
    ]);
    show("budget");
    const group = await screen.findByRole("region", { name: "Budget review" });
    expect(within(group).getByRole("link", { name: /^Summary we should approve/ })).toHaveAttribute(
      "href",
      "/meetings/m1/recordings/r1",
    );
    // The title comes with the hits: no meeting is read.
    expect(seen.map((s) => s.path)).toEqual(["/api/search?q=budget"]);
  });

  it("says so when nothing matches", async () => {
    answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({ items: [], continuationToken: null, meetings: [] })
          : undefined,
    ]);
    show("zebra%20crossing");
    expect(await screen.findByText("No results for “zebra crossing”")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("asks nothing without a query", async () => {
    answerWith(fetchMock, []);
    show("%20");
    expect(await screen.findByRole("heading", { level: 1, name: "Search" })).toBeInTheDocument();
    expect(screen.getByText(/Type what to look for/)).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("meetings by title", () => {
  it("lists them above the passages, each title a link to the meeting with its words marked", async () => {
    answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({
              items: [hit()],
              continuationToken: null,
              meetings: [
                titled(),
                titled({
                  meetingId: "m 8",
                  title: "<b>Budget</b> review",
                  highlights: [[3, 9]],
                  status: "cancelled",
                }),
              ],
            })
          : undefined,
    ]);
    const { container } = show("budget");

    const list = await screen.findByRole("region", { name: "Meetings" });
    expect(within(list).getByRole("heading", { level: 2, name: "Meetings" })).toBeInTheDocument();
    expect(within(list).getAllByRole("link")).toHaveLength(2);
    const sync = within(list).getByRole("link", { name: "Budget sync" });
    const review = within(list).getByRole("link", { name: "<b>Budget</b> review" });
    expect(sync).toHaveAttribute("href", "/meetings/m7");
    expect([...sync.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Budget"]);
    expect(review).toHaveAttribute("href", "/meetings/m%208");
    expect(review).toHaveTextContent("<b>Budget</b> review"); // text, never HTML
    expect(container.querySelector("b")).toBeNull();
    expect([...review.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Budget"]);
    // Its date in the user's zone, as the meetings list shows it; the cancelled one says so, only it.
    const items = within(list).getAllByRole("listitem");
    expect(items[0]).toHaveTextContent(/2026/);
    expect(items[0]).not.toHaveTextContent("Cancelled");
    expect(items[1]).toHaveTextContent("Cancelled");
    // The passages follow, as before.
    const passages = screen.getByRole("region", { name: "Title of m1" });
    expect(list.compareDocumentPosition(passages) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(screen.queryByText(/No results/)).toBeNull();
  });

  it("shows a title hit alone, without 'No results', when nothing was said", async () => {
    answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({ items: [], continuationToken: null, meetings: [titled()] })
          : undefined,
    ]);
    show("budg");

    const list = await screen.findByRole("region", { name: "Meetings" });
    expect(within(list).getByRole("link", { name: "Budget sync" })).toHaveAttribute("href", "/meetings/m7");
    expect(screen.queryByText(/No results/)).toBeNull();
    expect(screen.queryByText(/results? (so far )?in/)).toBeNull();
  });

  it("shows no Meetings list when no title matches", async () => {
    answerWith(fetchMock, [
      ({ path }) =>
        path.startsWith("/api/search?")
          ? json({ items: [hit()], continuationToken: null, meetings: [] })
          : undefined,
    ]);
    show("budget");
    await screen.findByRole("region", { name: "Title of m1" });
    expect(screen.queryByRole("region", { name: "Meetings" })).toBeNull();
    expect(screen.queryByRole("heading", { name: "Meetings" })).toBeNull();
  });
});

describe("paging and errors", () => {
  it("loads more with the continuation token, appending to the meetings shown", async () => {
    const user = userEvent.setup();
    const seen = answerWith(fetchMock, [
      ({ path }) => {
        if (!path.startsWith("/api/search?")) return undefined;
        const token = new URLSearchParams(path.split("?")[1]).get("continuationToken");
        if (token === null) return json({ items: [hit()], continuationToken: "page 2" });
        if (token === "page 2")
          return json({
            items: [hit({ start: 200 }), hit({ meetingId: "m2", meetingTitle: "Title of m2", start: 7 })],
            continuationToken: null,
          });
        return problem(400, "bad token");
      },
    ]);
    show("budget");

    await user.click(await screen.findByRole("button", { name: "Load more" }));
    await screen.findByRole("region", { name: "Title of m2" });
    expect(
      within(screen.getByRole("region", { name: "Title of m1" })).getByRole("link", { name: /^3:20 / }),
    ).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(seen.map((s) => s.path).filter((p) => p.startsWith("/api/search"))).toEqual([
      "/api/search?q=budget",
      "/api/search?q=budget&continuationToken=page%202",
    ]);
  });

  it("shows a failed search where the results would be, and retries", async () => {
    const user = userEvent.setup();
    let calls = 0;
    answerWith(fetchMock, [
      ({ path }) => {
        if (!path.startsWith("/api/search?")) return undefined;
        calls += 1;
        return calls === 1
          ? problem(400, "q is too long")
          : json({ items: [hit()], continuationToken: null });
      },
    ]);
    show("budget");

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Q is too long");
    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    await screen.findByRole("region", { name: "Title of m1" });
    await waitFor(() => {
      expect(screen.queryByRole("alert")).toBeNull();
    });
  });

  it("keeps the results shown when a further page fails, the error beside them", async () => {
    const user = userEvent.setup();
    answerWith(fetchMock, [
      ({ path }) => {
        if (!path.startsWith("/api/search?")) return undefined;
        return path.includes("continuationToken")
          ? problem(503, "search is unavailable")
          : json({ items: [hit()], continuationToken: "t2" });
      },
    ]);
    show("budget");

    await user.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Search is unavailable");
    expect(screen.getByRole("region", { name: "Title of m1" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Load more" })).toBeEnabled();
  });
});
