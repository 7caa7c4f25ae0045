import { describe, expect, it } from "vitest";

import { groupByMeeting, parseStartAt, recordingAt, snippetParts, type SearchHit } from "./searchApi";

const marked = (snippet: string, highlights: unknown[] | null) =>
  snippetParts(snippet, highlights)
    .map((p) => (p.match ? `[${p.text}]` : p.text))
    .join("");

describe("snippetParts", () => {
  it("cuts the snippet at the highlight ranges, in order, whatever order they come in", () => {
    expect(
      marked("we approve the budget today", [
        [15, 21],
        [3, 10],
      ]),
    ).toBe("we [approve] the [budget] today");
  });

  it("keeps the whole text when there is nothing to highlight", () => {
    expect(snippetParts("plain", null)).toEqual([{ text: "plain", match: false }]);
    expect(snippetParts("plain", [])).toEqual([{ text: "plain", match: false }]);
    expect(snippetParts("", [])).toEqual([{ text: "", match: false }]);
  });

  it("takes UTF-16 offsets, as the API gives them, and never cuts an emoji in half", () => {
    // "👍" is two UTF-16 units: "budget" starts at 3.
    expect(marked("👍 budget ok", [[3, 9]])).toBe("👍 [budget] ok");
    expect(marked("a👍b", [[2, 4]])).toBe("a[👍b]");
    expect(marked("a👍b", [[1, 2]])).toBe("a👍b");
  });

  it("merges overlapping ranges and ignores broken ones", () => {
    expect(
      marked("abcdefghij", [
        [1, 4],
        [3, 6],
        [8, 8],
        [9, 7],
        [-5, 1],
        [9, 99],
        [1.5, 3],
        ["0", "2"],
        [4],
        "x",
        null,
      ]),
    ).toBe("[abcdef]ghi[j]");
  });
});

describe("groupByMeeting", () => {
  const hit = (meetingId: string, start: number): SearchHit => ({
    meetingId,
    meetingTitle: meetingId,
    recordingId: "r",
    kind: "transcript",
    start,
    end: start + 1,
    speaker: null,
    snippet: "",
    highlights: [],
  });

  it("orders meetings by their best hit and keeps the rank order inside each", () => {
    const groups = groupByMeeting([hit("m2", 1), hit("m1", 2), hit("m2", 3), hit("m3", 4), hit("m1", 5)]);
    expect(groups.map((g) => [g.meetingId, g.hits.map((h) => h.start)])).toEqual([
      ["m2", [1, 3]],
      ["m1", [2, 5]],
      ["m3", [4]],
    ]);
  });
});

describe("the recording page at a moment", () => {
  it("links with t in seconds, rounded up so that the player lands inside the segment", () => {
    expect(recordingAt("m 1", "r/1", 3.421)).toBe("/meetings/m%201/recordings/r%2F1?t=3.43");
    expect(recordingAt("m1", "r1", 12)).toBe("/meetings/m1/recordings/r1?t=12");
    expect(recordingAt("m1", "r1", 0)).toBe("/meetings/m1/recordings/r1?t=0");
    expect(recordingAt("m1", "r1", Number.NaN)).toBe("/meetings/m1/recordings/r1?t=0");
    // What has no time (a summary's overview) opens the recording at its start.
    expect(recordingAt("m1", "r1", null)).toBe("/meetings/m1/recordings/r1");
  });

  it("reads t back, and nothing that is not a time", () => {
    expect(parseStartAt("3.43")).toBe(3.43);
    expect(parseStartAt("0")).toBe(0);
    for (const bad of [null, "", " ", "-1", "abc", "Infinity", "1:23"]) expect(parseStartAt(bad)).toBeNull();
  });
});
