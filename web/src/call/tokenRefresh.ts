// When the ACS token from POST .../join is renewed, and the refresher that renews it by joining again.
// The API makes tokens that live at least an hour (ACS's minimum) and no longer than the room is open;
// calling join again is how a client gets a fresh one.
import type { JoinInfo } from "../meetings/api";

/** Renew this long before expiry: enough for a slow network and a retry. */
export const REFRESH_MARGIN_MS = 10 * 60_000;
/** Never renew sooner than this after the last token, whatever its expiry says (no tight loops). */
export const MIN_REFRESH_DELAY_MS = 30_000;

/** The token as the ACS credential takes it (AccessToken of @azure/core-auth). */
export interface AcsAccessToken {
  token: string;
  expiresOnTimestamp: number;
}

/** Whether a token expiring at `expiresOnMs` should be renewed at `nowMs`. */
export function needsRefresh(expiresOnMs: number, nowMs: number): boolean {
  if (!Number.isFinite(expiresOnMs)) return true;
  return nowMs >= expiresOnMs - REFRESH_MARGIN_MS;
}

/**
 * How long to wait before renewing a token expiring at `expiresOnMs`: until the margin before expiry,
 * or half the time left when that is shorter than the margin, and at least MIN_REFRESH_DELAY_MS.
 */
export function refreshDelay(expiresOnMs: number, nowMs: number): number {
  const left = expiresOnMs - nowMs;
  if (!Number.isFinite(left)) return MIN_REFRESH_DELAY_MS;
  const delay = left > 2 * REFRESH_MARGIN_MS ? left - REFRESH_MARGIN_MS : left / 2;
  return Math.max(MIN_REFRESH_DELAY_MS, Math.floor(delay));
}

export function toAccessToken(join: JoinInfo): AcsAccessToken {
  return { token: join.token, expiresOnTimestamp: Date.parse(join.expiresOn) };
}

/**
 * The credential's `tokenRefresher`: joins again for a fresh token. The token the page joined with is
 * handed out first while it is still good, so opening the call costs one join, not two. Concurrent
 * asks share one request. `onJoined` hears of every new token (the page shows its expiry).
 */
export function createTokenRefresher(
  join: () => Promise<JoinInfo>,
  options: { initial?: JoinInfo; now?: () => number; onJoined?: (join: JoinInfo) => void } = {},
): () => Promise<AcsAccessToken> {
  const now = options.now ?? Date.now;
  let initial = options.initial;
  let pending: Promise<AcsAccessToken> | null = null;
  return () => {
    if (initial !== undefined) {
      const first = initial;
      initial = undefined;
      if (!needsRefresh(Date.parse(first.expiresOn), now())) return Promise.resolve(toAccessToken(first));
    }
    pending ??= join().then(
      (answer) => {
        pending = null;
        options.onJoined?.(answer);
        return toAccessToken(answer);
      },
      (error: unknown) => {
        pending = null;
        throw error;
      },
    );
    return pending;
  };
}
