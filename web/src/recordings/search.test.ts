import { describe, expect, it } from "vitest";

import { compileQuery, highlightParts, matchCountText, matchRanges, searchLines } from "./search";

describe("matchRanges", () => {
  it("finds every match, whatever the case", () => {
    expect(matchRanges("Report the report, REPORTER", compileQuery("report"))).toEqual([
      { start: 0, end: 6 },
      { start: 11, end: 17 },
      { start: 19, end: 25 },
    ]);
  });

  it("takes what the user typed literally, not as a pattern", () => {
    expect(matchRanges("costs $5.00 (approx.)", compileQuery("$5.00 (approx"))).toEqual([
      { start: 6, end: 19 },
    ]);
    expect(matchRanges("a.b axb", compileQuery("a.b"))).toEqual([{ start: 0, end: 3 }]);
  });

  it("lets a space match any spacing, and ignores spaces around the query", () => {
    expect(matchRanges("send  the\nreport", compileQuery("  send the report "))).toEqual([
      { start: 0, end: 16 },
    ]);
  });

  it("keeps ranges on the original text when lowercasing would change its length", () => {
    const text = "İstanbul meeting";
    const [range] = matchRanges(text, compileQuery("meeting"));
    expect(range !== undefined && text.slice(range.start, range.end)).toBe("meeting");
  });

  it("finds nothing for an empty query", () => {
    expect(compileQuery("   ")).toBeNull();
    expect(matchRanges("anything", compileQuery(""))).toEqual([]);
  });

  it("can be run twice with the same compiled query (no stale lastIndex)", () => {
    const pattern = compileQuery("bob");
    expect(matchRanges("hello bob", pattern)).toHaveLength(1);
    expect(matchRanges("bob", pattern)).toHaveLength(1);
  });
});

describe("highlightParts", () => {
  it("cuts the text around the matches", () => {
    expect(
      highlightParts("hello bob and bob", [
        { start: 6, end: 9 },
        { start: 14, end: 17 },
      ]),
    ).toEqual([
      { text: "hello ", match: false },
      { text: "bob", match: true },
      { text: " and ", match: false },
      { text: "bob", match: true },
    ]);
  });

  it("returns the whole text when nothing matches", () => {
    expect(highlightParts("hello", [])).toEqual([{ text: "hello", match: false }]);
  });
});

describe("searchLines", () => {
  it("counts matches over every line", () => {
    const { ranges, total } = searchLines(["the report", "no", "report report"], "REPORT");
    expect(total).toBe(3);
    expect(ranges.map((r) => r.length)).toEqual([1, 0, 2]);
  });
});

describe("matchCountText", () => {
  it("says how many, in words people use", () => {
    expect(matchCountText(0)).toBe("No matches");
    expect(matchCountText(1)).toBe("1 match");
    expect(matchCountText(7)).toBe("7 matches");
  });
});
