import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import type { Meeting } from "./api";
import {
  apiFieldErrors,
  changedFields,
  conflicts,
  emptyForm,
  fromMeeting,
  rebase,
  toChanges,
  toCreate,
  type FormValues,
} from "./meetingForm";

const TZ = "Europe/Berlin";
const base: FormValues = {
  title: "Planning",
  description: "Quarterly plan",
  startsAt: "2030-07-01T09:00",
  endsAt: "2030-07-01T10:00",
  participants: [{ userId: "bob", displayName: "", role: "attendee" }],
  recordingPolicy: "none",
  autoCaptions: false,
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

describe("the recording consent", () => {
  const consent: FormValues = { ...base, recordingPolicy: "consent" };

  it("is sent with a new meeting, as the policy chosen", () => {
    expect(toCreate(consent, TZ).recordingPolicy).toBe("consent");
    expect(toCreate(base, TZ).recordingPolicy).toBe("none");
  });

  it("is read from the meeting being edited", () => {
    const meeting: Meeting = {
      id: "m1",
      title: "Planning",
      description: null,
      organizerId: "alice",
      startsAt: "2030-07-01T07:00:00Z",
      endsAt: "2030-07-01T08:00:00Z",
      status: "scheduled",
      participants: [{ userId: "alice", role: "presenter", displayName: null }],
      roomId: null,
      recordingPolicy: "consent",
      autoCaptions: false,
      createdAt: "2030-06-01T07:00:00Z",
      updatedAt: "2030-06-01T07:00:00Z",
    };
    expect(fromMeeting(meeting, TZ).recordingPolicy).toBe("consent");
    expect(fromMeeting({ ...meeting, recordingPolicy: "none" }, TZ).recordingPolicy).toBe("none");
  });

  it("is patched only when the user changed it, in either direction", () => {
    expect(toChanges(base, consent, TZ)).toEqual({ recordingPolicy: "consent" });
    expect(toChanges(consent, base, TZ)).toEqual({ recordingPolicy: "none" });
    expect(toChanges(consent, { ...consent, title: "Other" }, TZ)).toEqual({ title: "Other" });
  });

  it("is named in words after a 412, and the user's choice replayed over the new version", () => {
    const theirs: FormValues = { ...base, recordingPolicy: "consent" };
    const mine: FormValues = { ...base, title: "Mine" };
    expect(conflicts(base, mine, theirs, TZ)).toEqual([
      {
        field: "recordingPolicy",
        label: "Recording consent",
        theirs: "ask every participant to consent before recording",
        yours: null,
      },
    ]);
    // Their consent kept under the user's title; the user's own change of policy wins where they made one.
    expect(rebase(base, mine, theirs, TZ)).toEqual({ ...theirs, title: "Mine" });
    const undo = rebase(consent, { ...consent, recordingPolicy: "none" }, { ...consent, title: "New" }, TZ);
    expect(undo).toEqual({ ...consent, title: "New", recordingPolicy: "none" });
  });
});

describe("the live captions switch", () => {
  const captions: FormValues = { ...base, autoCaptions: true };

  it("is sent with every new meeting, on or off", () => {
    expect(toCreate(captions, TZ).autoCaptions).toBe(true);
    expect(toCreate(base, TZ).autoCaptions).toBe(false);
    expect(emptyForm(Date.parse("2030-07-01T07:20:00Z"), TZ).autoCaptions).toBe(false);
  });

  it("is read from the meeting being edited", () => {
    const meeting: Meeting = {
      id: "m1",
      title: "Planning",
      description: null,
      organizerId: "alice",
      startsAt: "2030-07-01T07:00:00Z",
      endsAt: "2030-07-01T08:00:00Z",
      status: "scheduled",
      participants: [{ userId: "alice", role: "presenter", displayName: null }],
      roomId: null,
      recordingPolicy: "none",
      autoCaptions: true,
      createdAt: "2030-06-01T07:00:00Z",
      updatedAt: "2030-06-01T07:00:00Z",
    };
    expect(fromMeeting(meeting, TZ).autoCaptions).toBe(true);
    expect(fromMeeting({ ...meeting, autoCaptions: false }, TZ).autoCaptions).toBe(false);
  });

  it("is patched only when the user changed it, in either direction", () => {
    expect(toChanges(base, captions, TZ)).toEqual({ autoCaptions: true });
    expect(toChanges(captions, base, TZ)).toEqual({ autoCaptions: false });
    expect(toChanges(captions, { ...captions, title: "Other" }, TZ)).toEqual({ title: "Other" });
  });

  it("is named in words after a 412, and the user's choice replayed over the new version", () => {
    const theirs: FormValues = { ...base, autoCaptions: true };
    const mine: FormValues = { ...base, title: "Mine" };
    expect(conflicts(base, mine, theirs, TZ)).toEqual([
      { field: "autoCaptions", label: "Live captions", theirs: "start with the call", yours: null },
    ]);
    expect(conflicts(base, { ...base, autoCaptions: true }, { ...base, title: "New" }, TZ)).toEqual([
      { field: "title", label: "Title", theirs: "“New”", yours: null },
    ]);
    // Their switch kept under the user's title; the user's own change of it wins where they made one.
    expect(rebase(base, mine, theirs, TZ)).toEqual({ ...theirs, title: "Mine" });
    const off = rebase(captions, { ...captions, autoCaptions: false }, { ...captions, title: "New" }, TZ);
    expect(off).toEqual({ ...captions, title: "New", autoCaptions: false });
    expect(toChanges({ ...captions, title: "New" }, off, TZ)).toEqual({ autoCaptions: false });
  });

  it("takes the API's field error under it", () => {
    const error = new ApiError(400, {
      status: 400,
      title: "Bad Request",
      errors: [{ field: "body.autoCaptions", message: "Input should be a valid boolean" }],
    });
    expect(apiFieldErrors(error)).toEqual({ autoCaptions: "Input should be a valid boolean" });
  });
});
