// Search across the caller's meetings (GET /api/search) and asking one meeting (POST .../ask), plus the
// pure helpers their pages render with: highlight ranges as text parts (never HTML), hits grouped by
// meeting, the recording page's address at a moment.
import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";
import type { Part } from "../recordings/search";

type Schemas = components["schemas"];
/** A hit: `highlights` are [start, end) offsets of the matched words in `snippet`, in UTF-16 code units. */
export type SearchHit = Schemas["SearchHitOut"];
export type SearchResults = Schemas["SearchOut"];
/** A meeting found by its title (first page only): `highlights` are UTF-16 offsets in `title`. */
export type TitleHit = Schemas["SearchMeetingOut"];
export type AskSource = Schemas["AskSource"];
export type AskAnswer = Schemas["AskOut"];

export async function searchMeetings(q: string, continuationToken?: string | null): Promise<SearchResults> {
  const query = continuationToken ? { q, continuationToken } : { q };
  const { data } = await call(api.GET("/search", { params: { query } }));
  return data;
}

export async function askMeeting(meetingId: string, question: string): Promise<AskAnswer> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/ask", { params: { path: { meetingId } }, body: { question } }),
  );
  return data;
}

/**
 * The snippet cut at its highlight ranges, for rendering the matches as <mark> (text nodes only: a
 * snippet is what someone said, and may contain anything, "<script>" included). The ranges are the API's
 * UTF-16 offsets, as String#slice takes them; ranges out of bounds, empty, reversed or not whole numbers
 * are ignored, overlapping ones merged, and none splits a surrogate pair (an emoji stays whole).
 */
export function snippetParts(snippet: string, highlights: readonly unknown[] | null | undefined): Part[] {
  const length = snippet.length;
  // An offset inside a surrogate pair moves to the pair's start: half an emoji is no character.
  const low = (at: number) => snippet.charCodeAt(at) >= 0xdc00 && snippet.charCodeAt(at) <= 0xdfff;
  const high = (at: number) => snippet.charCodeAt(at) >= 0xd800 && snippet.charCodeAt(at) <= 0xdbff;
  const whole = (at: number) => (at > 0 && at < length && low(at) && high(at - 1) ? at - 1 : at);
  const ranges: [number, number][] = [];
  for (const range of highlights ?? []) {
    if (!Array.isArray(range) || range.length < 2) continue;
    const [start, end] = range as unknown[];
    if (!Number.isInteger(start) || !Number.isInteger(end)) continue;
    const from = whole(Math.max(0, start as number));
    const to = whole(Math.min(length, end as number));
    if (from < to) ranges.push([from, to]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  const parts: Part[] = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (start > at) parts.push({ text: snippet.slice(at, start), match: false });
    parts.push({ text: snippet.slice(start, end), match: true });
    at = end;
  }
  if (at < length || parts.length === 0) parts.push({ text: snippet.slice(at), match: false });
  return parts;
}

export interface MeetingHits {
  meetingId: string;
  hits: SearchHit[];
}

/** Hits by meeting, the meetings in the order of their best hit (the server ranks), hits in rank order. */
export function groupByMeeting(hits: readonly SearchHit[]): MeetingHits[] {
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const group = groups.get(hit.meetingId);
    if (group === undefined) groups.set(hit.meetingId, [hit]);
    else group.push(hit);
  }
  return [...groups].map(([meetingId, items]) => ({ meetingId, hits: items }));
}

/**
 * The recording page at a moment: `?t=` in seconds, rounded up to the hundredth, so that the player lands
 * inside the segment that starts there, not just before it.
 */
export function recordingAt(meetingId: string, recordingId: string, seconds: number | null): string {
  const base = `/meetings/${encodeURIComponent(meetingId)}/recordings/${encodeURIComponent(recordingId)}`;
  if (seconds === null) return base;
  if (!Number.isFinite(seconds) || seconds <= 0) return `${base}?t=0`;
  return `${base}?t=${String(Math.ceil(seconds * 100) / 100)}`;
}

/** The `t` a recording page was opened with, in seconds; null when absent or not a time. */
export function parseStartAt(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}
