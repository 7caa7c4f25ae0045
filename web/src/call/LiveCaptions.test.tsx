import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, renderPage } from "../lib/testing";
import { fakeLive } from "../live/testing";
import type { Recording } from "./callRecording";
import { LiveCaptions } from "./LiveCaptions";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

function captionsRecording(state: "active" | "finalized"): Recording {
  return {
    id: "r9",
    meetingId: "m1",
    createdBy: "alice",
    fileName: "live-captions.json",
    contentType: "application/json",
    sizeBytes: 0,
    channels: [],
    language: "en",
    status: state === "active" ? "recording" : "summarizing",
    stage: "transcript",
    progress: 0,
    error: null,
    durationSeconds: null,
    artifacts: [],
    usage: [],
    call: null,
    live: { locale: "en-US", state, startedAt: "2030-07-01T07:05:00Z", stoppedAt: null },
    transcriptWrittenAt: null,
    sourceDeletedAt: null,
    createdAt: "2030-07-01T07:05:00Z",
    updatedAt: "2030-07-01T07:05:00Z",
  };
}

function caption(captionId: string, text: string, start: number, final: boolean, who = "bob") {
  return {
    type: "caption",
    data: {
      recordingId: "r9",
      captionId,
      text,
      start,
      end: start + 1,
      final,
      userId: who,
      displayName: who === "bob" ? "Bob Marley" : null,
    },
  };
}

beforeEach(() => {
  fetchMock.mockReset();
});

describe("live captions on the call page", () => {
  it("shows who says what, an intermediate replaced by its final, and a transcript in spoken order", async () => {
    answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path.endsWith("/recordings")
          ? json({ items: [captionsRecording("active")] })
          : undefined,
    ]);
    const live = fakeLive();
    renderPage(
      <live.Wrapper>
        <LiveCaptions meetingId="m1" canControl={false} />
      </live.Wrapper>,
      { path: "/meetings/m1/call", pattern: "/meetings/:meetingId/call", userId: "bob" },
    );
    expect(await screen.findByText("Captions on")).toBeInTheDocument();
    // An attendee sees captions but no buttons.
    expect(screen.queryByRole("button", { name: "Start captions" })).toBeNull();

    act(() => {
      live.deliver(caption("u2", "we should ship", 10, false));
    });
    const current = screen.getByRole("status", { name: "Current caption" });
    expect(current).toHaveTextContent("Bob Marley: we should ship");
    act(() => {
      live.deliver(caption("u2", "We should ship on Friday.", 10, true));
      live.deliver(caption("u1", "Where are we?", 2, true, "alice"));
    });
    const transcript = screen.getByRole("log", { name: "Live transcript" });
    const items = within(transcript).getAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      "0:02 alice: Where are we?",
      "0:10 Bob Marley: We should ship on Friday.",
    ]);
  });

  it("lets the organizer start and stop them, following the API's answers", async () => {
    const user = userEvent.setup();
    let on = false;
    const seen = answerWith(fetchMock, [
      ({ method, path }) =>
        method === "GET" && path.endsWith("/recordings")
          ? json({ items: on ? [captionsRecording("active")] : [] })
          : undefined,
      ({ method, path }) => {
        if (method !== "POST") return undefined;
        on = path.endsWith("/captions/start");
        return json(captionsRecording(on ? "active" : "finalized"), 202);
      },
    ]);
    renderPage(<LiveCaptions meetingId="m1" canControl />, {
      path: "/meetings/m1/call",
      pattern: "/meetings/:meetingId/call",
    });
    const start = await screen.findByRole("button", { name: "Start captions" });
    await waitFor(() => {
      expect(start).toBeEnabled();
    });
    expect(screen.getByRole("button", { name: "Stop captions" })).toBeDisabled();
    await user.click(start);
    expect(await screen.findByText("Captions on")).toBeInTheDocument();
    const stop = screen.getByRole("button", { name: "Stop captions" });
    await waitFor(() => {
      expect(stop).toBeEnabled();
    });
    await user.click(stop);
    expect(await screen.findByText("Captions off")).toBeInTheDocument();
    expect(seen.filter((s) => s.method === "POST").map((s) => s.path)).toEqual([
      "/api/meetings/m1/captions/start",
      "/api/meetings/m1/captions/stop",
    ]);
  });
});
