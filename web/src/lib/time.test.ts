import { describe, expect, it } from "vitest";

import { localInputToRfc3339, offsetMinutes, rfc3339ToLocalInput, sameInstant, wallToInstant } from "./time";

const BERLIN = "Europe/Berlin";
const NEW_YORK = "America/New_York";

describe("localInputToRfc3339", () => {
  it("writes the zone's offset of that date, not today's", () => {
    expect(localInputToRfc3339("2025-01-15T09:00", BERLIN)).toBe("2025-01-15T09:00:00+01:00");
    expect(localInputToRfc3339("2025-07-15T09:00", BERLIN)).toBe("2025-07-15T09:00:00+02:00");
    expect(localInputToRfc3339("2025-07-15T09:00", NEW_YORK)).toBe("2025-07-15T09:00:00-04:00");
    expect(localInputToRfc3339("2025-12-01T18:30", NEW_YORK)).toBe("2025-12-01T18:30:00-05:00");
  });

  it("handles zones with half hours, and UTC", () => {
    expect(localInputToRfc3339("2025-06-01T10:15", "Asia/Kolkata")).toBe("2025-06-01T10:15:00+05:30");
    expect(localInputToRfc3339("2025-06-01T10:15", "UTC")).toBe("2025-06-01T10:15:00+00:00");
  });

  it("keeps seconds when the input has them", () => {
    expect(localInputToRfc3339("2025-07-15T09:00:45", BERLIN)).toBe("2025-07-15T09:00:45+02:00");
  });

  it("moves a time that never happens (spring forward) forward by the gap", () => {
    // Berlin, 30 March 2025: 02:00 becomes 03:00.
    expect(localInputToRfc3339("2025-03-30T02:30", BERLIN)).toBe("2025-03-30T03:30:00+02:00");
    // New York, 9 March 2025: 02:00 becomes 03:00.
    expect(localInputToRfc3339("2025-03-09T02:15", NEW_YORK)).toBe("2025-03-09T03:15:00-04:00");
    // Just around the gap nothing moves.
    expect(localInputToRfc3339("2025-03-30T01:59", BERLIN)).toBe("2025-03-30T01:59:00+01:00");
    expect(localInputToRfc3339("2025-03-30T03:00", BERLIN)).toBe("2025-03-30T03:00:00+02:00");
  });

  it("takes the first of a time that happens twice (fall back)", () => {
    // Berlin, 26 October 2025: 03:00 becomes 02:00 again; 02:30 is first at +02:00.
    expect(localInputToRfc3339("2025-10-26T02:30", BERLIN)).toBe("2025-10-26T02:30:00+02:00");
    expect(localInputToRfc3339("2025-10-26T03:00", BERLIN)).toBe("2025-10-26T03:00:00+01:00");
    expect(localInputToRfc3339("2025-11-02T01:30", NEW_YORK)).toBe("2025-11-02T01:30:00-04:00");
  });

  it("refuses what is not a time", () => {
    expect(localInputToRfc3339("", BERLIN)).toBeNull();
    expect(localInputToRfc3339("2025-02-30T10:00", BERLIN)).toBeNull();
    expect(localInputToRfc3339("2025-07-15 09:00", BERLIN)).toBeNull();
    expect(localInputToRfc3339("2025-07-15T24:00", BERLIN)).toBeNull();
  });
});

describe("rfc3339ToLocalInput", () => {
  it("shows an instant as the wall time of the zone", () => {
    expect(rfc3339ToLocalInput("2025-07-15T07:00:00Z", BERLIN)).toBe("2025-07-15T09:00");
    expect(rfc3339ToLocalInput("2025-07-15T07:00:00+00:00", NEW_YORK)).toBe("2025-07-15T03:00");
    expect(rfc3339ToLocalInput("2025-01-15T09:00:00+01:00", NEW_YORK)).toBe("2025-01-15T03:00");
  });

  it("shows both sides of a fall-back night distinctly", () => {
    expect(rfc3339ToLocalInput("2025-10-26T00:30:00Z", BERLIN)).toBe("2025-10-26T02:30");
    expect(rfc3339ToLocalInput("2025-10-26T01:30:00Z", BERLIN)).toBe("2025-10-26T02:30");
    expect(rfc3339ToLocalInput("2025-10-26T02:30:00Z", BERLIN)).toBe("2025-10-26T03:30");
  });

  it("round-trips every quarter hour across both of the year's changes", () => {
    for (const start of [Date.UTC(2025, 2, 29, 12), Date.UTC(2025, 9, 25, 12)]) {
      for (let instant = start; instant < start + 2 * 24 * 3600_000; instant += 15 * 60_000) {
        const wall = rfc3339ToLocalInput(new Date(instant).toISOString(), BERLIN);
        const back = wallToInstant(wall, BERLIN);
        // A time of the repeated hour comes back as its first occurrence: the same wall time.
        expect(rfc3339ToLocalInput(new Date(back ?? NaN).toISOString(), BERLIN)).toBe(wall);
        if (offsetMinutes(instant, BERLIN) === offsetMinutes(instant - 3600_000, BERLIN)) {
          expect(back === instant || back === instant - 3600_000).toBe(true);
        }
      }
    }
  });

  it("answers an empty value for what is not a time", () => {
    expect(rfc3339ToLocalInput("soon", BERLIN)).toBe("");
  });
});

describe("sameInstant", () => {
  it("compares instants, not spellings", () => {
    expect(sameInstant("2025-07-15T09:00:00+02:00", "2025-07-15T07:00:00Z")).toBe(true);
    expect(sameInstant("2025-07-15T09:00:00+02:00", "2025-07-15T09:00:00Z")).toBe(false);
    expect(sameInstant(null, null)).toBe(true);
    expect(sameInstant(null, "2025-07-15T07:00:00Z")).toBe(false);
  });
});
