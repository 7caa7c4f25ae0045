import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import { apiFieldErrors, changedFields, conflicts, rebase, toChanges, type FormValues } from "./meetingForm";

const TZ = "Europe/Berlin";
const base: FormValues = {
  title: "Planning",
  description: "Quarterly plan",
  startsAt: "2030-07-01T09:00",
  endsAt: "2030-07-01T10:00",
  participants: [{ userId: "bob", displayName: "", role: "attendee" }],
};

describe("the user's edits", () => {
  it("are the fields that differ from where they started", () => {
    const mine = { ...base, title: "Planning!", participants: [...base.participants] };
    expect(changedFields(base, mine, TZ)).toEqual(["title"]);
    expect(toChanges(base, mine, TZ)).toEqual({ title: "Planning!" });
  });

  it("send times with the zone's offset and the whole participant list", () => {
    const mine: FormValues = {
      ...base,
      startsAt: "2030-12-01T09:00",
      endsAt: "2030-12-01T10:00",
      participants: [...base.participants, { userId: "carol", displayName: "Carol", role: "presenter" }],
    };
    expect(toChanges(base, mine, TZ)).toEqual({
      startsAt: "2030-12-01T09:00:00+01:00",
      endsAt: "2030-12-01T10:00:00+01:00",
      participants: [
        { userId: "bob", role: "attendee", displayName: null },
        { userId: "carol", role: "presenter", displayName: "Carol" },
      ],
    });
  });

  it("ignore the order of participants", () => {
    const two = [
      { userId: "bob", displayName: "", role: "attendee" as const },
      { userId: "carol", displayName: "", role: "consumer" as const },
    ];
    expect(
      changedFields({ ...base, participants: two }, { ...base, participants: [...two].reverse() }, TZ),
    ).toEqual([]);
  });
});

describe("after a 412", () => {
  const theirs: FormValues = { ...base, description: "Moved to Q3", endsAt: "2030-07-01T10:30" };

  it("lists what the other person changed, with the user's value where both changed a field", () => {
    const mine = { ...base, title: "Planning (mine)", endsAt: "2030-07-01T11:00" };
    expect(conflicts(base, mine, theirs, TZ)).toEqual([
      { field: "description", label: "Description", theirs: "“Moved to Q3”", yours: null },
      { field: "endsAt", label: "Ends", theirs: "2030-07-01 10:30", yours: "2030-07-01 11:00" },
    ]);
  });

  it("replays only the user's edits over the new version", () => {
    const mine = { ...base, title: "Planning (mine)", endsAt: "2030-07-01T11:00" };
    const merged = rebase(base, mine, theirs, TZ);
    expect(merged).toEqual({ ...theirs, title: "Planning (mine)", endsAt: "2030-07-01T11:00" });
    // Sent against the new version: just the user's fields, the other change is kept.
    expect(toChanges(theirs, merged, TZ)).toEqual({
      title: "Planning (mine)",
      endsAt: "2030-07-01T11:00:00+02:00",
    });
  });
});

describe("the API's field errors", () => {
  it("map to the form's fields, participants by their position", () => {
    const error = new ApiError(400, {
      status: 400,
      title: "Bad Request",
      errors: [
        { field: "body.startsAt", message: "Input should be a valid datetime" },
        { field: "participants.2.role", message: "Input should be 'presenter', 'attendee' or 'consumer'" },
        { field: "unknown", message: "ignored" },
      ],
    });
    expect(apiFieldErrors(error)).toEqual({
      startsAt: "Input should be a valid datetime",
      participants: "Participant 3 (role): Input should be 'presenter', 'attendee' or 'consumer'",
    });
  });
});
