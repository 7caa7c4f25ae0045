// The meeting form's values and the rules around them, apart from React so they can be tested alone:
// what the user edited, what to send, and how to replay their edits over a newer version after a 412.
import type { ApiError } from "../api/errors";
import { localInputToRfc3339, rfc3339ToLocalInput, sameInstant } from "../lib/time";
import type { CreateMeeting, Meeting, ParticipantIn, RecordingPolicy, Role, UpdateMeeting } from "./api";

export interface ParticipantDraft {
  userId: string;
  displayName: string;
  role: Role;
}

/** What the form holds: times as datetime-local values in the user's zone. */
export interface FormValues {
  title: string;
  description: string;
  startsAt: string;
  endsAt: string;
  participants: ParticipantDraft[];
  /** Whether recording the call needs everyone's consent (the select "Recording consent"). */
  recordingPolicy: RecordingPolicy;
  /** Whether live captions start by themselves when the first person joins (the switch "Start live captions…"). */
  autoCaptions: boolean;
}

/** The choices of the select "Recording consent", in its order. */
export const RECORDING_POLICIES: readonly { value: RecordingPolicy; label: string }[] = [
  { value: "none", label: "No consent needed" },
  { value: "consent", label: "Ask every participant to consent before recording" },
];

export function recordingPolicyLabel(policy: RecordingPolicy): string {
  return RECORDING_POLICIES.find((p) => p.value === policy)?.label ?? policy;
}

export type FieldName = keyof FormValues;
export const FIELDS: readonly FieldName[] = [
  "title",
  "description",
  "startsAt",
  "endsAt",
  "participants",
  "recordingPolicy",
  "autoCaptions",
];
export const FIELD_LABELS: Record<FieldName, string> = {
  title: "Title",
  description: "Description",
  startsAt: "Starts",
  endsAt: "Ends",
  participants: "Participants",
  recordingPolicy: "Recording consent",
  autoCaptions: "Live captions",
};

export type FieldErrors = Partial<Record<FieldName, string>>;

const USER_ID = /^[A-Za-z0-9.@_+-]{1,128}$/;
const HOUR = 3600_000;

/** A new meeting: from the next full hour, for an hour. */
export function emptyForm(now: number, timeZone: string): FormValues {
  const start = Math.ceil((now + 60_000) / HOUR) * HOUR;
  return {
    title: "",
    description: "",
    startsAt: rfc3339ToLocalInput(new Date(start).toISOString(), timeZone),
    endsAt: rfc3339ToLocalInput(new Date(start + HOUR).toISOString(), timeZone),
    participants: [],
    recordingPolicy: "none",
    autoCaptions: false,
  };
}

/** The form for an existing meeting. The organizer is left out: the API always keeps them, as presenter. */
export function fromMeeting(meeting: Meeting, timeZone: string): FormValues {
  return {
    title: meeting.title,
    description: meeting.description ?? "",
    startsAt: rfc3339ToLocalInput(meeting.startsAt, timeZone),
    endsAt: rfc3339ToLocalInput(meeting.endsAt, timeZone),
    participants: meeting.participants
      .filter((p) => p.userId !== meeting.organizerId)
      .map((p) => ({ userId: p.userId, displayName: p.displayName ?? "", role: p.role })),
    recordingPolicy: meeting.recordingPolicy,
    autoCaptions: meeting.autoCaptions,
  };
}

function participantsKey(participants: ParticipantDraft[]): string {
  return JSON.stringify(
    [...participants]
      .sort((a, b) => a.userId.localeCompare(b.userId))
      .map((p) => [p.userId, p.role, p.displayName.trim()]),
  );
}

function sameField(field: FieldName, a: FormValues, b: FormValues, timeZone: string): boolean {
  switch (field) {
    case "participants":
      return participantsKey(a.participants) === participantsKey(b.participants);
    case "startsAt":
    case "endsAt":
      return sameInstant(localInputToRfc3339(a[field], timeZone), localInputToRfc3339(b[field], timeZone));
    case "title":
    case "description":
      return a[field].trim() === b[field].trim();
    case "recordingPolicy":
      return a.recordingPolicy === b.recordingPolicy;
    case "autoCaptions":
      return a.autoCaptions === b.autoCaptions;
  }
}

/** The fields whose value differs between two versions of the form. */
export function changedFields(from: FormValues, to: FormValues, timeZone: string): FieldName[] {
  return FIELDS.filter((field) => !sameField(field, from, to, timeZone));
}

/** The user's checks before anything is sent; the API checks again and its answer wins. */
export function validate(values: FormValues, timeZone: string): FieldErrors {
  const errors: FieldErrors = {};
  const title = values.title.trim();
  if (title === "") errors.title = "Give the meeting a title.";
  else if (title.length > 200) errors.title = "At most 200 characters.";
  if (values.description.length > 2000) errors.description = "At most 2000 characters.";
  const start = localInputToRfc3339(values.startsAt, timeZone);
  const end = localInputToRfc3339(values.endsAt, timeZone);
  if (start === null) errors.startsAt = "Pick a start date and time.";
  if (end === null) errors.endsAt = "Pick an end date and time.";
  else if (start !== null && Date.parse(end) <= Date.parse(start)) errors.endsAt = "Must be after the start.";
  return errors;
}

function participantsIn(participants: ParticipantDraft[]): ParticipantIn[] {
  // An empty name is sent as null: the form showed the participant's name, so empty means none (cleared).
  return participants.map((p) => ({
    userId: p.userId,
    role: p.role,
    displayName: p.displayName.trim() || null,
  }));
}

function instant(value: string, timeZone: string): string {
  const rfc3339 = localInputToRfc3339(value, timeZone);
  if (rfc3339 === null) throw new Error(`not a date and time: ${value}`); // validate() comes first
  return rfc3339;
}

export function toCreate(values: FormValues, timeZone: string): CreateMeeting {
  const body: CreateMeeting = {
    title: values.title.trim(),
    startsAt: instant(values.startsAt, timeZone),
    endsAt: instant(values.endsAt, timeZone),
    participants: participantsIn(values.participants),
    recordingPolicy: values.recordingPolicy,
    autoCaptions: values.autoCaptions,
  };
  const description = values.description.trim();
  if (description !== "") body.description = description;
  return body;
}

/** The PATCH body: only what the user changed from the version they started from. */
export function toChanges(base: FormValues, values: FormValues, timeZone: string): UpdateMeeting {
  const body: UpdateMeeting = {};
  for (const field of changedFields(base, values, timeZone)) {
    switch (field) {
      case "title":
        body.title = values.title.trim();
        break;
      case "description":
        body.description = values.description.trim();
        break;
      case "startsAt":
      case "endsAt":
        body[field] = instant(values[field], timeZone);
        break;
      case "participants":
        body.participants = participantsIn(values.participants);
        break;
      case "recordingPolicy":
        body.recordingPolicy = values.recordingPolicy;
        break;
      case "autoCaptions":
        body.autoCaptions = values.autoCaptions;
        break;
    }
  }
  return body;
}

export interface Change {
  field: FieldName;
  label: string;
  /** The value in the newer version, for people. */
  theirs: string;
  /** The user's own value, when they edited this field too (their edit would overwrite the other). */
  yours: string | null;
}

export function describeValue(field: FieldName, values: FormValues): string {
  switch (field) {
    case "participants":
      return values.participants.length === 0
        ? "nobody besides the organizer"
        : values.participants
            .map((p) => `${p.displayName.trim() || p.userId} (${p.role})`)
            .sort()
            .join(", ");
    case "startsAt":
    case "endsAt":
      return values[field].replace("T", " ");
    case "title":
    case "description":
      return values[field].trim() === "" ? "(empty)" : `“${values[field].trim()}”`;
    case "recordingPolicy":
      return recordingPolicyLabel(values.recordingPolicy).toLowerCase();
    case "autoCaptions":
      return values.autoCaptions ? "start with the call" : "started by hand";
  }
}

/**
 * What someone else changed between the version the user started from (`base`) and the current one
 * (`theirs`), with the user's own value beside each field they edited too.
 */
export function conflicts(
  base: FormValues,
  mine: FormValues,
  theirs: FormValues,
  timeZone: string,
): Change[] {
  const edited = new Set(changedFields(base, mine, timeZone));
  return changedFields(base, theirs, timeZone).map((field) => ({
    field,
    label: FIELD_LABELS[field],
    theirs: describeValue(field, theirs),
    yours: edited.has(field) ? describeValue(field, mine) : null,
  }));
}

/** The user's edits (from `base` to `mine`) replayed over the newer version `theirs`. */
export function rebase(base: FormValues, mine: FormValues, theirs: FormValues, timeZone: string): FormValues {
  const merged: FormValues = { ...theirs, participants: [...theirs.participants] };
  for (const field of changedFields(base, mine, timeZone)) {
    if (field === "participants") merged.participants = [...mine.participants];
    else if (field === "recordingPolicy") merged.recordingPolicy = mine.recordingPolicy;
    else if (field === "autoCaptions") merged.autoCaptions = mine.autoCaptions;
    else merged[field] = mine[field];
  }
  return merged;
}

/** A participant to add, checked: the message for the user id field, or null when it can be added. */
export function participantProblem(
  userId: string,
  participants: ParticipantDraft[],
  organizerId: string,
): string | null {
  if (!USER_ID.test(userId)) return "1 to 128 letters, digits or . @ _ + -";
  if (userId === organizerId) return "The organizer is always in the meeting, as presenter.";
  if (participants.some((p) => p.userId === userId)) return `${userId} is in the list already.`;
  return null;
}

/** The API's field errors (problem+json `errors`) for the form's fields: `body.startsAt`, `participants.0.userId`. */
export function apiFieldErrors(error: ApiError): FieldErrors {
  const found: FieldErrors = {};
  for (const { field, message } of error.fieldErrors) {
    const path = field.split(".").filter((part) => part !== "body");
    const name = FIELDS.find((f) => path[0] === f);
    if (name === undefined || found[name] !== undefined) continue;
    if (name === "participants" && path.length > 1) {
      const index = Number(path[1]);
      const rest = path.slice(2).join(".");
      found.participants = Number.isInteger(index)
        ? `Participant ${index + 1}${rest ? ` (${rest})` : ""}: ${message}`
        : message;
    } else {
      found[name] = message;
    }
  }
  return found;
}
