import { describe, expect, it } from "vitest";

import { formatBytes, formatTime, spokenTime } from "./format";

describe("formatTime", () => {
  it.each([
    [0, "0:00"],
    [5.9, "0:05"],
    [65, "1:05"],
    [599.99, "9:59"],
    [3599, "59:59"],
    [3600, "1:00:00"],
    [3723.4, "1:02:03"],
    [36000 + 61, "10:01:01"],
  ])("%s s reads %s", (seconds, expected) => {
    expect(formatTime(seconds)).toBe(expected);
  });

  it("reads nonsense as the start", () => {
    expect(formatTime(-3)).toBe("0:00");
    expect(formatTime(Number.NaN)).toBe("0:00");
    expect(formatTime(Number.POSITIVE_INFINITY)).toBe("0:00");
  });
});

describe("spokenTime", () => {
  it("spells hours, minutes and seconds, singular where one", () => {
    expect(spokenTime(3661)).toBe("1 hour 1 minute 1 second");
    expect(spokenTime(125)).toBe("2 minutes 5 seconds");
    expect(spokenTime(0)).toBe("0 seconds");
  });
});

describe("formatBytes", () => {
  it("picks the unit that keeps the number short", () => {
    expect(formatBytes(900)).toBe("900 bytes");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(4 * 1024 ** 3)).toBe("4 GB");
    expect(formatBytes(5.25 * 1024 ** 3)).toBe("5.3 GB");
    expect(formatBytes(150 * 1024 ** 2)).toBe("150 MB");
  });
});
