import { describe, expect, it } from "vitest";

import { currentSegmentIndex, lastStartedIndex } from "./followAlong";

const segments = [
  { start: 0.5, end: 2 },
  { start: 2, end: 4.5 },
  { start: 6, end: 9 },
  { start: 9, end: 12 },
];

describe("currentSegmentIndex", () => {
  it.each([
    [0, -1], // before the first line
    [0.5, 0], // a line starts exactly here
    [1.99, 0],
    [2, 1], // the next line takes over at its start
    [4.49, 1],
    [5, -1], // silence between lines
    [6, 2],
    [11.9, 3],
    [12, -1], // after the last
    [500, -1],
  ])("at %s s plays segment %s", (time, expected) => {
    expect(currentSegmentIndex(segments, time)).toBe(expected);
  });

  it("finds an earlier line still running when speakers overlap", () => {
    const overlapping = [
      { start: 0, end: 10 }, // a long turn
      { start: 3, end: 4 }, // someone chimes in
    ];
    expect(currentSegmentIndex(overlapping, 3.5)).toBe(1);
    expect(currentSegmentIndex(overlapping, 5)).toBe(0);
  });

  it("knows nothing plays in an empty transcript or at a nonsense time", () => {
    expect(currentSegmentIndex([], 3)).toBe(-1);
    expect(currentSegmentIndex(segments, Number.NaN)).toBe(-1);
  });

  it("agrees with a linear scan over a long transcript", () => {
    const long = Array.from({ length: 5000 }, (_, i) => ({ start: i * 3, end: i * 3 + 2 }));
    for (const time of [0, 1.5, 2.5, 2999.9, 7500, 14998, 14999, 15001]) {
      const linear = long.findIndex((s) => s.start <= time && time < s.end);
      expect(currentSegmentIndex(long, time)).toBe(linear);
    }
  });
});

describe("lastStartedIndex", () => {
  it("is the last segment starting at or before the time", () => {
    expect(lastStartedIndex(segments, 8)).toBe(2);
    expect(lastStartedIndex(segments, 0.1)).toBe(-1);
    expect(lastStartedIndex(segments, 99)).toBe(3);
  });
});
