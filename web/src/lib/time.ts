// Wall-clock times in a named time zone <-> instants as RFC 3339 with an offset.
//
// `<input type="datetime-local">` holds a wall-clock time with no zone ("2025-03-30T02:30"); the API
// takes and gives instants ("2025-03-30T03:30:00+02:00"). The conversion goes through the IANA zone the
// user is in (or the one a test names), not the browser's current offset, so a meeting planned across a
// daylight-saving change keeps the wall time the user typed. Pure: no React, no globals but Intl.

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The IANA zone of this browser, e.g. "Europe/Berlin" (UTC where the runtime cannot tell). */
export function userTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time at `instantMs` in `timeZone`, as milliseconds of a UTC date with those fields. */
function wallMs(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of wallFormatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const field = (name: string) => parts[name] ?? 0;
  return Date.UTC(
    field("year"),
    field("month") - 1,
    field("day"),
    field("hour"),
    field("minute"),
    field("second"),
  );
}

/** The zone's offset from UTC at an instant, in minutes (Berlin in summer: 120). */
export function offsetMinutes(instantMs: number, timeZone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000; // the formatter has no milliseconds
  return Math.round((wallMs(whole, timeZone) - whole) / 60_000);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Parses "YYYY-MM-DDTHH:mm[:ss]" into the milliseconds of a UTC date with those fields; null if invalid. */
function parseWall(value: string): number | null {
  const match = WALL.exec(value.trim());
  if (match === null) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  const date = new Date(ms);
  // Date.UTC rolls 2025-02-30 over into March: refuse what is not a real calendar time.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59) return null;
  return ms;
}

/**
 * The instant a wall-clock time in `timeZone` stands for, in epoch milliseconds; null if not a time.
 *
 * Daylight saving makes this a choice twice a year, made as JavaScript's Temporal ("compatible") does:
 * a time that happens twice (clocks go back) is the earlier one; a time that never happens (clocks go
 * forward) moves forward by the gap, so 02:30 on the spring-forward night in Berlin is 03:30.
 */
export function wallToInstant(value: string, timeZone: string): number | null {
  const wall = parseWall(value);
  if (wall === null) return null;
  const offsets = new Set([
    offsetMinutes(wall - DAY_MS, timeZone),
    offsetMinutes(wall, timeZone),
    offsetMinutes(wall + DAY_MS, timeZone),
  ]);
  const candidates = [...offsets]
    .map((offset) => wall - offset * 60_000)
    .filter((instant) => wallMs(instant, timeZone) === wall)
    .sort((a, b) => a - b);
  const earliest = candidates[0];
  if (earliest !== undefined) return earliest;
  // In the gap: read the time with the offset in force before the change.
  return wall - offsetMinutes(wall - DAY_MS, timeZone) * 60_000;
}

/** An instant as RFC 3339 with the zone's offset at that instant: "2025-07-01T09:00:00+02:00". */
export function instantToRfc3339(instantMs: number, timeZone: string): string {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const offset = offsetMinutes(whole, timeZone);
  const wall = new Date(whole + offset * 60_000);
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}` +
    formatOffset(offset)
  );
}

/** A datetime-local value in `timeZone` as RFC 3339 with that zone's offset; null if not a time. */
export function localInputToRfc3339(value: string, timeZone: string): string | null {
  const instant = wallToInstant(value, timeZone);
  return instant === null ? null : instantToRfc3339(instant, timeZone);
}

/** An RFC 3339 instant as a datetime-local value ("YYYY-MM-DDTHH:mm") in `timeZone`; "" if invalid. */
export function rfc3339ToLocalInput(value: string, timeZone: string): string {
  const instant = Date.parse(value);
  if (Number.isNaN(instant)) return "";
  const wall = new Date(wallMs(instant, timeZone));
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`
  );
}

/** Whether two RFC 3339 strings name the same instant (the API may answer in UTC what was sent with +02:00). */
export function sameInstant(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a == null || b == null) return a == b;
  return Date.parse(a) === Date.parse(b);
}

/** A meeting's time for people: "Tue, 1 Jul 2025, 09:00 – 10:00" in their zone and locale. */
export function formatRange(startsAt: string, endsAt: string, timeZone = userTimeZone()): string {
  const start = new Date(startsAt);
  const end = new Date(endsAt);
  const day = new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: "medium" });
  const date = new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: "medium", timeStyle: "short" });
  const time = new Intl.DateTimeFormat(undefined, { timeZone, timeStyle: "short" });
  if (day.format(start) === day.format(end)) return `${date.format(start)} – ${time.format(end)}`;
  return `${date.format(start)} – ${date.format(end)}`;
}

/** One instant for people, in their zone and locale. */
export function formatDateTime(value: string, timeZone = userTimeZone()): string {
  return new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: "medium", timeStyle: "short" }).format(
    new Date(value),
  );
}
