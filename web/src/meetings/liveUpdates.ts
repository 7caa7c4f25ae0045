// What a live event (README, "Live events") changes in the meetings the pages show.
import type { LiveEvent } from "../live/hub";
import type { Meeting, MeetingSummary } from "./api";

type Shown = Pick<Meeting, "title" | "startsAt" | "endsAt" | "status">;

export type MeetingChange =
  /** The signed-in user was taken out of the meeting: nothing of it is theirs to see any more. */
  | { kind: "removed" }
  /** The signed-in user was invited (a new meeting for them), not a role change. */
  | { kind: "invited" }
  /** What the event carries, applied at once (the page reads the rest: description, ETag). */
  | { kind: "patch"; apply: <T extends Shown>(meeting: T) => T }
  /** Someone else's participation changed: read the meeting. */
  | { kind: "read" };

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function meetingChange(event: LiveEvent, me: string): MeetingChange | null {
  const d = event.data;
  switch (event.type) {
    case "meeting.updated":
      return {
        kind: "patch",
        apply: (m) => ({
          ...m,
          title: str(d.title) ?? m.title,
          startsAt: str(d.startsAt) ?? m.startsAt,
          endsAt: str(d.endsAt) ?? m.endsAt,
          status: (str(d.status) ?? m.status) as Shown["status"],
        }),
      };
    case "meeting.cancelled":
      return { kind: "patch", apply: (m) => ({ ...m, status: "cancelled" }) };
    case "participant.removed":
      return d.userId === me ? { kind: "removed" } : { kind: "read" };
    case "participant.added":
      return d.userId === me && d.previousRole === null ? { kind: "invited" } : { kind: "read" };
    default:
      return null;
  }
}

/** A meetings list with the event applied: patched in place, or without the meeting the user left. */
export function applyToList(
  items: MeetingSummary[],
  meetingId: string,
  change: MeetingChange,
): MeetingSummary[] {
  if (change.kind === "removed") return items.filter((m) => m.id !== meetingId);
  if (change.kind !== "patch") return items;
  return items.map((m) => (m.id === meetingId ? change.apply(m) : m));
}
