// The erasure job in plain words: where it stands, and what it did (its counts).
import type { Erasure } from "./api";

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line: where the job stands. */
export function erasureStatus(erasure: Erasure): string {
  switch (erasure.status) {
    case "queued":
      return "Waiting to start.";
    case "running":
      return erasure.meetingsTotal === null
        ? "Under way: finding your meetings."
        : `Under way: ${erasure.meetingsDone} of ${count(erasure.meetingsTotal, "meeting")} done.`;
    case "completed":
      return "Completed: your data is erased.";
  }
}

/** What the job did so far (all of it once completed), a sentence per kind of change. */
export function erasureFacts(erasure: Erasure): string[] {
  const c = erasure.counts;
  const facts: string[] = [];
  if (c.membershipsRemoved > 0) facts.push(`Removed you from ${count(c.membershipsRemoved, "meeting")}.`);
  if (c.meetingsHandedOver > 0) {
    facts.push(`Handed ${count(c.meetingsHandedOver, "meeting")} you organized over to the new organizer.`);
  }
  if (c.meetingsCancelled > 0)
    facts.push(`Cancelled ${count(c.meetingsCancelled, "meeting")} you organized.`);
  if (c.recordingsScrubbed > 0) {
    facts.push(
      `Took your words and name out of ${count(c.recordingsScrubbed, "recording")}: ` +
        `${count(c.segmentsRemoved, "thing you said", "things you said")} now read “[removed]”, ` +
        "and you appear as “a former participant”.",
    );
  }
  if (c.searchIndexUpdated) facts.push("Updated the search index.");
  if (c.acsIdentityDeleted) facts.push("Deleted your calling identity (Azure Communication Services).");
  if (c.documentsDeleted > 0)
    facts.push(`Deleted ${count(c.documentsDeleted, "record")} kept under your account.`);
  if (facts.length === 0) {
    facts.push(
      erasure.status === "completed" ? "There was nothing of yours to remove." : "Nothing changed yet.",
    );
  }
  return facts;
}
