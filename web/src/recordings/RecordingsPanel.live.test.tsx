// The recordings panel on the live channel (a fake client): events move it without reading the list,
// and the list is polled only while the connection is down.
import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeLive, type FakeLive } from "../live/testing";
import * as recordingApi from "./recordingApi";
// The panel's body itself: the lazy shell would load it on real time, which fake timers do not advance.
import RecordingsPanelBody from "./RecordingsPanelBody";
import { POLL_MS } from "./statusText";
import { Providers, recording } from "./testing";

vi.mock("./recordingApi", async (original) => ({
  ...(await original<typeof import("./recordingApi")>()),
  listRecordings: vi.fn(),
  getRecording: vi.fn(),
}));
const api = vi.mocked(recordingApi);

const settle = () =>
  act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
const wait = (ms: number) =>
  act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });

function renderPanel(live: FakeLive) {
  render(
    <Providers>
      <live.Wrapper>
        <RecordingsPanelBody meetingId="m1" canUpload={false} canManage={false} />
      </live.Wrapper>
    </Providers>,
  );
}

const status = (fields: Record<string, unknown>) => ({
  type: "recording.status",
  data: { recordingId: "r1", stage: "transcript", error: null, ...fields },
});

beforeEach(() => {
  vi.useFakeTimers();
  api.listRecordings.mockReset();
  api.getRecording.mockReset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RecordingsPanel, live", () => {
  it("moves status and progress on events, without reading the list again", async () => {
    const live = fakeLive();
    api.listRecordings.mockResolvedValue([
      recording({ id: "r1", status: "queued", stage: "transcript", progress: 0 }),
    ]);
    renderPanel(live);
    await settle();
    await settle();
    expect(screen.getByText("Queued")).toBeInTheDocument();
    // The first read, and the one when the connection came up after it.
    const reads = api.listRecordings.mock.calls.length;

    act(() => {
      live.deliver(status({ status: "transcribing", progress: 0.4, version: 3 }));
    });
    expect(screen.getByText("Transcribing: 40%")).toBeInTheDocument();
    // An older change arriving late does not move it back.
    act(() => {
      live.deliver(status({ status: "transcribing", progress: 0.2, version: 2 }));
    });
    expect(screen.getByText("Transcribing: 40%")).toBeInTheDocument();
    // Another meeting's event is not this panel's.
    act(() => {
      live.deliver({ ...status({ status: "failed", version: 9 }), meetingId: "m2" });
    });
    expect(screen.getByText("Transcribing: 40%")).toBeInTheDocument();
    act(() => {
      live.deliver(status({ status: "completed", stage: "summary", progress: 1, version: 4 }));
    });
    expect(screen.getByText("Completed")).toBeInTheDocument();

    await wait(POLL_MS * 5);
    expect(api.listRecordings).toHaveBeenCalledTimes(reads);
    expect(api.getRecording).not.toHaveBeenCalled();
  });

  it("reads a recording it does not have when it is created", async () => {
    const live = fakeLive();
    api.listRecordings.mockResolvedValue([]);
    api.getRecording.mockResolvedValue(
      recording({ id: "r9", fileName: "new.wav", status: "awaiting_upload" }),
    );
    renderPanel(live);
    await settle();
    act(() => {
      live.deliver({ type: "recording.created", data: { recordingId: "r9", fileName: "new.wav" } });
    });
    await settle();
    expect(screen.getByRole("link", { name: "new.wav" })).toBeInTheDocument();
    expect(api.getRecording).toHaveBeenCalledWith("m1", "r9");
  });

  it("polls only while the connection is down, and reads once when it is back", async () => {
    const live = fakeLive();
    // A new answer each time, as from the network.
    api.listRecordings.mockImplementation(() =>
      Promise.resolve([recording({ id: "r1", status: "transcribing", stage: "transcript", progress: 0.1 })]),
    );
    renderPanel(live);
    await settle();
    await settle();
    const connected = api.listRecordings.mock.calls.length;
    await wait(POLL_MS * 3);
    expect(api.listRecordings).toHaveBeenCalledTimes(connected);

    act(() => {
      live.status("reconnecting");
    });
    for (let i = 0; i < 4; i += 1) await wait(POLL_MS);
    const polled = api.listRecordings.mock.calls.length;
    expect(polled).toBeGreaterThanOrEqual(connected + 2);

    act(() => {
      live.status("connected");
    });
    await settle();
    // Back: one read for what was missed, then no more polling.
    expect(api.listRecordings).toHaveBeenCalledTimes(polled + 1);
    await wait(POLL_MS * 3);
    expect(api.listRecordings).toHaveBeenCalledTimes(polled + 1);
  });
});
