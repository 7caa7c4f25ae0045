// The meeting routes the pages use, typed from the generated schema, errors as ApiError (errors.ts).
import { api } from "../api/client";
import { call } from "../api/errors";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type Role = Schemas["Role"];
export type RecordingPolicy = Schemas["RecordingPolicy"];
export type MeetingSummary = Schemas["MeetingSummaryOut"];
export type MeetingList = Schemas["MeetingList"];
export type JoinInfo = Schemas["JoinOut"];

export type Participant = Schemas["ParticipantOut"];
export type Meeting = Schemas["MeetingOut"];
// The generated input types mark fields with a default as required; the API does not need them.
export type ParticipantIn = Pick<Schemas["ParticipantIn"], "userId" | "role"> & {
  displayName?: string | null;
};
export type CreateMeeting = Pick<Schemas["CreateMeeting"], "title" | "startsAt" | "endsAt"> & {
  description?: string | null;
  participants?: ParticipantIn[];
  recordingPolicy?: RecordingPolicy;
  autoCaptions?: boolean;
};
export type UpdateMeeting = Partial<Omit<Schemas["UpdateMeeting"], "participants">> & {
  participants?: ParticipantIn[] | null;
};

export const ROLES: readonly Role[] = ["presenter", "attendee", "consumer"];

/** A meeting with the ETag to send back as If-Match when changing it. */
export interface Versioned {
  meeting: Meeting;
  etag: string | null;
}

export async function listMeetings(query: {
  from?: string;
  to?: string;
  limit?: number;
  continuationToken?: string | null;
}): Promise<MeetingList> {
  const { data } = await call(api.GET("/meetings", { params: { query } }));
  return data;
}

export async function getMeeting(meetingId: string): Promise<Versioned> {
  const { data, response } = await call(
    api.GET("/meetings/{meetingId}", { params: { path: { meetingId } } }),
  );
  return { meeting: data, etag: response.headers.get("ETag") };
}

export async function createMeeting(body: CreateMeeting): Promise<Meeting> {
  const { data } = await call(api.POST("/meetings", { body: body as Schemas["CreateMeeting"] }));
  return data;
}

/** PATCH with If-Match: a 412 (someone saved in between) comes back as ApiError with status 412. */
export async function updateMeeting(
  meetingId: string,
  changes: UpdateMeeting,
  etag: string | null,
): Promise<Versioned> {
  const { data, response } = await call(
    api.PATCH("/meetings/{meetingId}", {
      params: { path: { meetingId } },
      body: changes as Schemas["UpdateMeeting"],
      headers: etag === null ? {} : { "If-Match": etag },
    }),
  );
  return { meeting: data, etag: response.headers.get("ETag") };
}

export async function cancelMeeting(meetingId: string): Promise<void> {
  await call(api.DELETE("/meetings/{meetingId}", { params: { path: { meetingId } } }));
}

export async function putParticipant(
  meetingId: string,
  userId: string,
  role: Role,
  displayName?: string | null,
): Promise<Participant> {
  const body: { role: Role; displayName?: string } = { role };
  if (displayName) body.displayName = displayName;
  const { data } = await call(
    api.PUT("/meetings/{meetingId}/participants/{userId}", {
      params: { path: { meetingId, userId } },
      // Without displayName the API keeps the one the participant has (the type wants it given).
      body: body as Schemas["PutParticipant"],
    }),
  );
  return data;
}

export async function removeParticipant(meetingId: string, userId: string): Promise<void> {
  await call(
    api.DELETE("/meetings/{meetingId}/participants/{userId}", { params: { path: { meetingId, userId } } }),
  );
}

export async function joinMeeting(meetingId: string): Promise<JoinInfo> {
  const { data } = await call(api.POST("/meetings/{meetingId}/join", { params: { path: { meetingId } } }));
  return data;
}

export type Consent = Schemas["ConsentOut"];

/** The caller's answer to the meeting's recording notice (POST .../consent). */
export async function answerRecordingNotice(meetingId: string, accepted: boolean): Promise<Consent> {
  const { data } = await call(
    api.POST("/meetings/{meetingId}/consent", { params: { path: { meetingId } }, body: { accepted } }),
  );
  return data;
}

/** What the signed-in user may do in a meeting, by their role in it. */
export function roleOf(meeting: Meeting, userId: string): Role | "organizer" | null {
  if (meeting.organizerId === userId) return "organizer";
  return meeting.participants.find((p) => p.userId === userId)?.role ?? null;
}
