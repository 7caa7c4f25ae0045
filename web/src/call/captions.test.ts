import { describe, expect, it } from "vitest";

import { applyCaption, asCaption, currentCaptions, speakerOf, type CaptionLine } from "./captions";
import type { Recording } from "./callRecording";

function line(captionId: string, text: string, start: number, final = true): CaptionLine {
  return {
    captionId,
    recordingId: "r1",
    userId: "bob",
    displayName: "Bob",
    text,
    start,
    end: start + 1,
    final,
  };
}

describe("captions as they arrive", () => {
  it("replaces an utterance's intermediate results by the next, then by the final", () => {
    let lines = applyCaption([], line("u1", "good", 1, false));
    lines = applyCaption(lines, line("u1", "good morning", 1, false));
    lines = applyCaption(lines, line("u1", "Good morning everyone.", 1, true));
    expect(lines.map((l) => [l.text, l.final])).toEqual([["Good morning everyone.", true]]);
  });

  it("never lets a late intermediate replace the final", () => {
    let lines = applyCaption([], line("u1", "Good morning.", 1, true));
    lines = applyCaption(lines, line("u1", "good", 1, false));
    expect(lines.map((l) => l.text)).toEqual(["Good morning."]);
  });

  it("keeps lines in the order they were said, whatever order they arrive in", () => {
    let lines = applyCaption([], line("u2", "second", 5));
    lines = applyCaption(lines, line("u3", "third", 9));
    lines = applyCaption(lines, line("u1", "first", 1));
    expect(lines.map((l) => l.text)).toEqual(["first", "second", "third"]);
  });

  it("reads only what looks like a caption, and names the speaker as the meeting does", () => {
    expect(asCaption({ captionId: "u1", text: "hi" })).toBeNull();
    const read = asCaption({
      captionId: "u1",
      recordingId: "r1",
      text: "hi",
      start: 2,
      end: 3,
      final: true,
      userId: "bob",
      displayName: null,
    });
    expect(read).not.toBeNull();
    expect(speakerOf(read as CaptionLine)).toBe("bob");
    expect(speakerOf({ ...(read as CaptionLine), userId: null })).toBe("Someone");
  });
});

describe("whether captions are on", () => {
  const base = { createdAt: "2030-07-01T07:00:00Z", call: null, status: "recording" } as const;
  it("is the newest captions recording that is starting or active", () => {
    const recordings = [
      { ...base, id: "old", live: { locale: "en-US", state: "finalized", startedAt: "", stoppedAt: null } },
      { ...base, id: "now", live: { locale: "en-US", state: "active", startedAt: "", stoppedAt: null } },
    ] as unknown as Recording[];
    expect(currentCaptions(recordings)).toMatchObject({ state: "on", recording: { id: "now" } });
    expect(currentCaptions([recordings[0] as Recording]).state).toBe("off");
  });
});
