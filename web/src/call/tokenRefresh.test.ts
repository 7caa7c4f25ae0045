import { describe, expect, it, vi } from "vitest";

import type { JoinInfo } from "../meetings/api";
import {
  MIN_REFRESH_DELAY_MS,
  REFRESH_MARGIN_MS,
  createTokenRefresher,
  needsRefresh,
  refreshDelay,
} from "./tokenRefresh";

const NOW = Date.parse("2025-07-01T10:00:00Z");
const MINUTE = 60_000;

function joined(token: string, expiresOn: number): JoinInfo {
  return {
    acsUserId: "8:acs:alice",
    token,
    expiresOn: new Date(expiresOn).toISOString(),
    roomId: "room-1",
    role: "presenter",
    endpoint: "https://acs.example/",
    consent: { required: false, notice: null, accepted: null },
  };
}

describe("needsRefresh", () => {
  it("renews within the margin before expiry, not earlier", () => {
    expect(needsRefresh(NOW + 60 * MINUTE, NOW)).toBe(false);
    expect(needsRefresh(NOW + REFRESH_MARGIN_MS + 1, NOW)).toBe(false);
    expect(needsRefresh(NOW + REFRESH_MARGIN_MS, NOW)).toBe(true);
    expect(needsRefresh(NOW - 1, NOW)).toBe(true);
  });

  it("renews a token whose expiry cannot be read", () => {
    expect(needsRefresh(Number.NaN, NOW)).toBe(true);
  });
});

describe("refreshDelay", () => {
  it("waits until the margin before expiry", () => {
    expect(refreshDelay(NOW + 60 * MINUTE, NOW)).toBe(50 * MINUTE);
    expect(refreshDelay(NOW + 24 * 60 * MINUTE, NOW)).toBe(24 * 60 * MINUTE - REFRESH_MARGIN_MS);
  });

  it("takes half the time left when little is left, but never loops tightly", () => {
    expect(refreshDelay(NOW + 12 * MINUTE, NOW)).toBe(6 * MINUTE);
    expect(refreshDelay(NOW + 10_000, NOW)).toBe(MIN_REFRESH_DELAY_MS);
    expect(refreshDelay(NOW - MINUTE, NOW)).toBe(MIN_REFRESH_DELAY_MS);
  });
});

describe("createTokenRefresher", () => {
  it("hands out the token the page joined with first, then joins again", async () => {
    const join = vi.fn(() => Promise.resolve(joined("second", NOW + 120 * MINUTE)));
    const onJoined = vi.fn();
    const refresh = createTokenRefresher(join, {
      initial: joined("first", NOW + 60 * MINUTE),
      now: () => NOW,
      onJoined,
    });

    expect(await refresh()).toEqual({ token: "first", expiresOnTimestamp: NOW + 60 * MINUTE });
    expect(join).not.toHaveBeenCalled();

    expect(await refresh()).toEqual({ token: "second", expiresOnTimestamp: NOW + 120 * MINUTE });
    expect(join).toHaveBeenCalledTimes(1);
    expect(onJoined).toHaveBeenCalledWith(expect.objectContaining({ token: "second" }));
  });

  it("joins at once when the first token is about to expire", async () => {
    const join = vi.fn(() => Promise.resolve(joined("fresh", NOW + 60 * MINUTE)));
    const refresh = createTokenRefresher(join, { initial: joined("old", NOW + 2 * MINUTE), now: () => NOW });
    expect((await refresh()).token).toBe("fresh");
    expect(join).toHaveBeenCalledTimes(1);
  });

  it("shares one join between concurrent asks, and tries again after a failure", async () => {
    let answer: (value: JoinInfo) => void = () => undefined;
    const join = vi
      .fn<() => Promise<JoinInfo>>()
      .mockImplementationOnce(() => Promise.reject(new Error("offline")))
      .mockImplementationOnce(
        () =>
          new Promise<JoinInfo>((resolve) => {
            answer = resolve;
          }),
      );
    const refresh = createTokenRefresher(join, { now: () => NOW });

    await expect(refresh()).rejects.toThrow("offline");
    const a = refresh();
    const b = refresh();
    answer(joined("shared", NOW + 60 * MINUTE));
    expect((await a).token).toBe("shared");
    expect((await b).token).toBe("shared");
    expect(join).toHaveBeenCalledTimes(2);
  });
});
