import { describe, expect, it } from "vitest";

import type { Erasure } from "./api";
import { erasureFacts, erasureStatus } from "./erasureText";

const job = (changes: Partial<Erasure>, counts: Partial<Erasure["counts"]> = {}): Erasure => ({
  id: "e1",
  status: "running",
  meetingsTotal: null,
  meetingsDone: 0,
  counts: {
    membershipsRemoved: 0,
    meetingsLeft: 0,
    meetingsHandedOver: 0,
    meetingsCancelled: 0,
    recordingsScrubbed: 0,
    segmentsRemoved: 0,
    acsIdentityDeleted: false,
    searchIndexUpdated: false,
    documentsDeleted: 0,
    ...counts,
  },
  createdAt: "2030-07-01T07:00:00Z",
  updatedAt: "2030-07-01T07:00:00Z",
  completedAt: null,
  ...changes,
});

describe("the erasure in words", () => {
  it("says where the job stands, before and after it planned its meetings", () => {
    expect(erasureStatus(job({ status: "queued" }))).toBe("Waiting to start.");
    expect(erasureStatus(job({}))).toBe("Under way: finding your meetings.");
    expect(erasureStatus(job({ meetingsTotal: 1, meetingsDone: 0 }))).toBe("Under way: 0 of 1 meeting done.");
    expect(erasureStatus(job({ status: "completed" }))).toBe("Completed: your data is erased.");
  });

  it("counts in the singular and the plural, and leaves out what did not happen", () => {
    expect(
      erasureFacts(
        job({}, { membershipsRemoved: 1, recordingsScrubbed: 1, segmentsRemoved: 1, documentsDeleted: 1 }),
      ),
    ).toEqual([
      "Removed you from 1 meeting.",
      "Took your words and name out of 1 recording: 1 thing you said now read “[removed]”, and you appear as “a former participant”.",
      "Deleted 1 record kept under your account.",
    ]);
  });

  it("says so when there was nothing, or nothing yet", () => {
    expect(erasureFacts(job({}))).toEqual(["Nothing changed yet."]);
    expect(erasureFacts(job({ status: "completed" }))).toEqual(["There was nothing of yours to remove."]);
  });
});
