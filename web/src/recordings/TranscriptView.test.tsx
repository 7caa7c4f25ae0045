import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { Transcript } from "./recordingApi";
import { speakerNames } from "./speakers";
import { Providers } from "./testing";
import { TranscriptView } from "./TranscriptView";

const transcript: Transcript = {
  recordingId: "r1",
  language: "en",
  durationSeconds: 75,
  source: "recording",
  speakers: [
    { id: "s1", userId: "alice", displayName: "Alice Martin" },
    { id: "s2", userId: "bob", displayName: null },
    { id: "s3", userId: null, displayName: null },
  ],
  segments: [
    { start: 0.4, end: 3, speaker: "s1", text: "Hello Bob, please send the report." },
    { start: 3.5, end: 8, speaker: "s2", text: "I will send the REPORT by Thursday." },
    { start: 65, end: 70, speaker: "s3", text: "Anything else?" },
    { start: 71, end: 74, speaker: null, text: "Background noise." },
  ],
};

function renderView(currentIndex = -1, onSeek = vi.fn()) {
  const view = render(
    <Providers>
      <TranscriptView
        transcript={transcript}
        names={speakerNames(transcript.speakers)}
        currentIndex={currentIndex}
        following={false}
        onSeek={onSeek}
      />
    </Providers>,
  );
  return { ...view, onSeek };
}

describe("TranscriptView", () => {
  it("names each line by time, speaker and text", () => {
    renderView();
    const lines = screen.getAllByRole("button");
    expect(lines.map((b) => b.textContent)).toEqual([
      "0:00 Alice Martin Hello Bob, please send the report.",
      "0:03 bob I will send the REPORT by Thursday.",
      "1:05 Speaker A Anything else?",
      "1:11 Background noise.",
    ]);
    expect(screen.getByRole("button", { name: "1:05 Speaker A Anything else?" })).toBeInTheDocument();
  });

  it("seeks to a line's start when it is clicked", async () => {
    const user = userEvent.setup();
    const { onSeek } = renderView();
    await user.click(screen.getByRole("button", { name: /Anything else/ }));
    expect(onSeek).toHaveBeenCalledWith(65);
  });

  it("marks only the line being played as current", () => {
    const { rerender, onSeek } = renderView(1);
    const current = () =>
      screen.getAllByRole("button").filter((b) => b.getAttribute("aria-current") === "true");
    expect(current().map((b) => b.textContent)).toEqual(["0:03 bob I will send the REPORT by Thursday."]);

    rerender(
      <Providers>
        <TranscriptView
          transcript={transcript}
          names={speakerNames(transcript.speakers)}
          currentIndex={-1}
          following={false}
          onSeek={onSeek}
        />
      </Providers>,
    );
    expect(current()).toHaveLength(0);
  });

  it("highlights matches whatever their case and counts them", async () => {
    const user = userEvent.setup();
    const { container } = renderView();
    await user.type(screen.getByRole("searchbox", { name: "Find in transcript" }), "report");
    expect(await screen.findByText("2 matches")).toBeInTheDocument();
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["report", "REPORT"]);

    await user.clear(screen.getByRole("searchbox", { name: "Find in transcript" }));
    await user.type(screen.getByRole("searchbox", { name: "Find in transcript" }), "nothing like this");
    expect(await screen.findByText("No matches")).toBeInTheDocument();
    expect(container.querySelectorAll("mark")).toHaveLength(0);
  });
});
