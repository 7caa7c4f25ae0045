// Find in transcript: case-insensitive matches of what the user typed, as ranges of the original text
// (so highlighting never shifts, whatever lowercasing would do to the string's length).

export interface Range {
  start: number;
  end: number;
}

export interface Part {
  text: string;
  match: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A matcher for `query`, or null when there is nothing to look for. Runs of spaces match any spacing. */
export function compileQuery(query: string): RegExp | null {
  const words = query.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  return new RegExp(words.map(escapeRegExp).join("\\s+"), "giu");
}

/** Non-overlapping matches of `pattern` in `text`, in order. */
export function matchRanges(text: string, pattern: RegExp | null): Range[] {
  if (pattern === null) return [];
  const ranges: Range[] = [];
  pattern.lastIndex = 0;
  for (const found of text.matchAll(pattern)) {
    ranges.push({ start: found.index, end: found.index + found[0].length });
  }
  return ranges;
}

/** `text` cut at the ranges, for rendering the matches as <mark>. */
export function highlightParts(text: string, ranges: readonly Range[]): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const { start, end } of ranges) {
    if (start > at) parts.push({ text: text.slice(at, start), match: false });
    parts.push({ text: text.slice(start, end), match: true });
    at = end;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), match: false });
  return parts;
}

/** The matches in every line, and their total: what the count beside the search box says. */
export function searchLines(lines: readonly string[], query: string): { ranges: Range[][]; total: number } {
  const pattern = compileQuery(query);
  const ranges = lines.map((line) => matchRanges(line, pattern));
  return { ranges, total: ranges.reduce((sum, r) => sum + r.length, 0) };
}

/** "No matches", "1 match", "12 matches". */
export function matchCountText(total: number): string {
  if (total === 0) return "No matches";
  return total === 1 ? "1 match" : `${total} matches`;
}
