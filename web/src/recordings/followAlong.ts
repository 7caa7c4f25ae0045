// Which transcript line is being played: segments are sorted by start (the API's promise), so a binary
// search finds the candidate in O(log n) on every `timeupdate`, even for a transcript of a whole day.

export interface TimedSpan {
  start: number;
  end: number;
}

/** How far back to look for an earlier segment still running (overlapping speakers in unmixed audio). */
const OVERLAP_LOOKBACK = 8;

/** The index of the last segment starting at or before `time`, or -1 when none has started. */
export function lastStartedIndex(segments: readonly TimedSpan[], time: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const segment = segments[mid];
    if (segment !== undefined && segment.start <= time) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The index of the segment being played at `time`, or -1 in silence (before the first line, between
 * lines, after the last). When segments overlap, the latest one to start wins.
 */
export function currentSegmentIndex(segments: readonly TimedSpan[], time: number): number {
  if (!Number.isFinite(time)) return -1;
  const last = lastStartedIndex(segments, time);
  for (let i = last; i >= 0 && i > last - OVERLAP_LOOKBACK; i -= 1) {
    const segment = segments[i];
    if (segment !== undefined && time < segment.end) return i;
  }
  return -1;
}
