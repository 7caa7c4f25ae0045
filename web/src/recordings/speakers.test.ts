import { describe, expect, it } from "vitest";

import { speakerNames } from "./speakers";

describe("speakerNames", () => {
  it("prefers the display name, then the meeting's name, then the user id, then a friendly label", () => {
    const names = speakerNames(
      [
        { id: "s1", userId: "alice", displayName: "Alice Martin" },
        { id: "s2", userId: "bob", displayName: null },
        { id: "s3", userId: "carol", displayName: null },
        { id: "s4", userId: null, displayName: null },
        { id: "s5", userId: null, displayName: "  " },
      ],
      new Map([["bob", "Bob Stone"]]),
    );
    expect(Object.fromEntries(names)).toEqual({
      s1: "Alice Martin",
      s2: "Bob Stone",
      s3: "carol",
      s4: "Speaker A",
      s5: "Speaker B",
    });
  });

  it("numbers speakers past Z", () => {
    const many = Array.from({ length: 28 }, (_, i) => ({ id: `s${i}`, userId: null, displayName: null }));
    const names = speakerNames(many);
    expect(names.get("s25")).toBe("Speaker Z");
    expect(names.get("s27")).toBe("Speaker 28");
  });
});
