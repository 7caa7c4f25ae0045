import { describe, expect, it } from "vitest";

import { dueText } from "./SummaryView";

describe("dueText", () => {
  it("shows a calendar date in the user's words, and anything else as it was said", () => {
    const shown = dueText("2026-12-10");
    expect(shown).not.toBe("2026-12-10");
    expect(shown).toContain("2026");
    expect(shown).toContain("10");
    expect(dueText("Thursday")).toBe("Thursday");
    expect(dueText("2026-13-45x")).toBe("2026-13-45x");
  });
});
