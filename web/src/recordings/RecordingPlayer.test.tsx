import { act, fireEvent, render, screen } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import * as recordingApi from "./recordingApi";
import { RecordingPlayer, renewDelay } from "./RecordingPlayer";
import { Providers } from "./testing";

vi.mock("./recordingApi", async (original) => ({
  ...(await original<typeof import("./recordingApi")>()),
  getMedia: vi.fn(),
}));
const api = vi.mocked(recordingApi);

afterEach(() => {
  vi.resetAllMocks();
  vi.useRealTimers();
});

describe("renewDelay", () => {
  it("renews a minute before expiry, half-way for short-lived URLs, never in a busy loop", () => {
    const now = Date.parse("2025-01-01T10:00:00Z");
    expect(renewDelay("2025-01-01T11:00:00Z", now)).toBe(59 * 60_000);
    expect(renewDelay("2025-01-01T10:01:00Z", now)).toBe(30_000);
    expect(renewDelay("2025-01-01T09:00:00Z", now)).toBe(5_000); // expired already
    expect(renewDelay("not a date", now)).toBe(60_000);
  });
});

function renderPlayer(contentType = "audio/wav") {
  return render(
    <Providers>
      <RecordingPlayer
        meetingId="m1"
        recordingId="r1"
        contentType={contentType}
        mediaRef={createRef<HTMLMediaElement>()}
        onTime={vi.fn()}
        onPlayingChange={vi.fn()}
      />
    </Providers>,
  );
}

const player = () => screen.getByLabelText<HTMLMediaElement>("Recording player");

describe("RecordingPlayer", () => {
  it("plays video in a <video> element", async () => {
    api.getMedia.mockResolvedValue({ url: "http://media/1", expiresOn: "2030-01-01T00:00:00Z" });
    renderPlayer("video/mp4");
    await act(async () => {
      await Promise.resolve();
    });
    expect(player().tagName).toBe("VIDEO");
  });

  it("renews the URL before it expires, keeping the position", async () => {
    vi.useFakeTimers({ now: Date.parse("2025-01-01T10:00:00Z") });
    api.getMedia
      .mockResolvedValueOnce({ url: "http://media/1", expiresOn: "2025-01-01T10:10:00Z" })
      .mockResolvedValueOnce({ url: "http://media/2", expiresOn: "2025-01-01T10:20:00Z" });
    renderPlayer();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(player()).toHaveAttribute("src", "http://media/1");
    player().currentTime = 42;

    await act(async () => {
      await vi.advanceTimersByTimeAsync(9 * 60_000);
    });
    expect(api.getMedia).toHaveBeenCalledTimes(2);
    expect(player()).toHaveAttribute("src", "http://media/2");
    fireEvent(player(), new Event("loadedmetadata"));
    expect(player().currentTime).toBe(42);
  });

  it("asks for a new URL when the element fails, and says so when a fresh one fails too", async () => {
    vi.useFakeTimers({ now: Date.parse("2025-01-01T10:00:00Z") });
    api.getMedia
      .mockResolvedValueOnce({ url: "http://media/1", expiresOn: "2025-01-01T11:00:00Z" })
      .mockResolvedValueOnce({ url: "http://media/2", expiresOn: "2025-01-01T11:00:00Z" });
    renderPlayer();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(30_000);
    });
    fireEvent.error(player()); // e.g. the URL expired while the tab slept
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(api.getMedia).toHaveBeenCalledTimes(2);
    expect(player()).toHaveAttribute("src", "http://media/2");
    expect(screen.queryByRole("alert")).toBeNull();

    fireEvent.error(player()); // at once again: the file itself cannot be played
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByRole("alert")).toHaveTextContent("cannot be played in this browser");
    expect(api.getMedia).toHaveBeenCalledTimes(2);
  });
});
