import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Switch,
  Text,
  Textarea,
  Title2,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useCallback, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { userTimeZone } from "../lib/time";
import { useLoad } from "../lib/useLoad";
import {
  createMeeting,
  getMeeting,
  ROLES,
  updateMeeting,
  type RecordingPolicy,
  type Role,
  type Versioned,
} from "./api";
import {
  apiFieldErrors,
  changedFields,
  conflicts,
  emptyForm,
  fromMeeting,
  participantProblem,
  rebase,
  RECORDING_POLICIES,
  toChanges,
  toCreate,
  validate,
  type Change,
  type FieldErrors,
  type FormValues,
} from "./meetingForm";

const useStyles = makeStyles({
  form: { display: "grid", gap: tokens.spacingVerticalL, maxWidth: "720px" },
  times: { display: "grid", gridTemplateColumns: "1fr 1fr", gap: tokens.spacingHorizontalL },
  zone: { color: tokens.colorNeutralForeground2 },
  participants: {
    display: "grid",
    "& h2": { margin: 0 },
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusMedium,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  adder: {
    display: "grid",
    gridTemplateColumns: "2fr 2fr 1fr auto",
    gap: tokens.spacingHorizontalM,
    alignItems: "start",
  },
  addButton: { marginTop: "26px" },
  list: { listStyleType: "none", margin: 0, padding: 0, display: "grid", gap: tokens.spacingVerticalXS },
  entry: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalM },
  entryName: { flexGrow: 1 },
  actions: { display: "flex", gap: tokens.spacingHorizontalM, alignItems: "center" },
  changes: { margin: `${tokens.spacingVerticalXS} 0`, paddingLeft: tokens.spacingHorizontalL },
});

export function MeetingFormPage() {
  const { meetingId } = useParams();
  if (meetingId === undefined) return <MeetingForm initial={null} />;
  return <EditMeeting meetingId={meetingId} />;
}

function EditMeeting({ meetingId }: { meetingId: string }) {
  const load = useCallback(() => getMeeting(meetingId), [meetingId]);
  const { data, error, reload } = useLoad(load);
  if (error !== null) {
    return (
      <>
        <Title2 as="h1" block>
          Edit meeting
        </Title2>
        <ErrorMessage error={error} onRetry={reload} />
      </>
    );
  }
  if (data === undefined) return <Loading label="Loading the meeting" />;
  return <MeetingForm key={meetingId} initial={data} />;
}

interface Conflict {
  theirs: Versioned;
  changes: Change[];
}

function MeetingForm({ initial }: { initial: Versioned | null }) {
  const styles = useStyles();
  const navigate = useNavigate();
  const { user } = useAuth();
  const [timeZone] = useState(userTimeZone);
  const editing = initial !== null;
  const meetingId = initial?.meeting.id;
  const organizerId = initial?.meeting.organizerId ?? user?.id ?? "";

  // `base` is the version the user started from: their edits are the difference to it.
  const [base, setBase] = useState<FormValues>(() =>
    initial === null ? emptyForm(Date.now(), timeZone) : fromMeeting(initial.meeting, timeZone),
  );
  const [etag, setEtag] = useState<string | null>(initial?.etag ?? null);
  const [values, setValues] = useState<FormValues>(base);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [saving, setSaving] = useState(false);

  const [newUserId, setNewUserId] = useState("");
  const [newName, setNewName] = useState("");
  const [newRole, setNewRole] = useState<Role>("attendee");
  const [newUserError, setNewUserError] = useState<string | null>(null);

  const set = <K extends keyof FormValues>(field: K, value: FormValues[K]) => {
    setValues((previous) => ({ ...previous, [field]: value }));
    setErrors((previous) => ({ ...previous, [field]: undefined }));
  };

  const addParticipant = () => {
    const userId = newUserId.trim();
    const problem = participantProblem(userId, values.participants, organizerId);
    setNewUserError(problem);
    if (problem !== null) return;
    set("participants", [...values.participants, { userId, displayName: newName.trim(), role: newRole }]);
    setNewUserId("");
    setNewName("");
  };

  const removeParticipant = (userId: string) => {
    set(
      "participants",
      values.participants.filter((p) => p.userId !== userId),
    );
  };

  const fail = (error: unknown) => {
    if (error instanceof ApiError) {
      const fields = apiFieldErrors(error);
      setErrors(fields);
      // A message for the whole form only when no field shows what is wrong.
      setFailure(Object.keys(fields).length > 0 ? null : error);
    } else {
      setFailure(error);
    }
  };

  /** Sends the user's edits from `from` to `mine` against the version `tag`; on a 412 shows what changed. */
  const save = async (from: FormValues, mine: FormValues, tag: string | null) => {
    const found = validate(mine, timeZone);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setSaving(true);
    setFailure(null);
    setConflict(null);
    try {
      if (meetingId === undefined) {
        const created = await createMeeting(toCreate(mine, timeZone));
        void navigate(`/meetings/${created.id}`);
        return;
      }
      if (changedFields(from, mine, timeZone).length > 0) {
        await updateMeeting(meetingId, toChanges(from, mine, timeZone), tag);
      }
      void navigate(`/meetings/${meetingId}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412 && meetingId !== undefined) {
        try {
          const theirs = await getMeeting(meetingId);
          setConflict({
            theirs,
            changes: conflicts(from, mine, fromMeeting(theirs.meeting, timeZone), timeZone),
          });
        } catch (reloadError) {
          setFailure(reloadError);
        }
      } else {
        fail(error);
      }
    } finally {
      setSaving(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(base, values, etag);
  };

  const applyAgain = () => {
    if (conflict === null) return;
    const theirs = fromMeeting(conflict.theirs.meeting, timeZone);
    const merged = rebase(base, values, theirs, timeZone);
    setBase(theirs);
    setValues(merged);
    setEtag(conflict.theirs.etag);
    void save(theirs, merged, conflict.theirs.etag);
  };

  const field = (name: keyof FormValues) =>
    errors[name] === undefined ? {} : { validationState: "error" as const, validationMessage: errors[name] };

  const heading = editing ? "Edit meeting" : "New meeting";
  return (
    <>
      <Title2 as="h1" block>
        {heading}
      </Title2>
      <form className={styles.form} onSubmit={submit} noValidate aria-label={heading}>
        <Field label="Title" required {...field("title")}>
          <Input
            value={values.title}
            maxLength={200}
            onChange={(_, data) => {
              set("title", data.value);
            }}
          />
        </Field>
        <Field label="Description" {...field("description")}>
          <Textarea
            value={values.description}
            resize="vertical"
            onChange={(_, data) => {
              set("description", data.value);
            }}
          />
        </Field>
        <div className={styles.times}>
          <Field label="Starts" required {...field("startsAt")}>
            <Input
              type="datetime-local"
              value={values.startsAt}
              onChange={(_, data) => {
                set("startsAt", data.value);
              }}
            />
          </Field>
          <Field label="Ends" required {...field("endsAt")}>
            <Input
              type="datetime-local"
              value={values.endsAt}
              onChange={(_, data) => {
                set("endsAt", data.value);
              }}
            />
          </Field>
        </div>
        <Text className={styles.zone}>Times are in {timeZone}</Text>
        <Field
          label="Recording consent"
          hint="With consent, everyone who can be heard sees a notice when joining, and the call is recorded only once all of them accepted."
          {...field("recordingPolicy")}
        >
          <Select
            value={values.recordingPolicy}
            onChange={(_, data) => {
              set("recordingPolicy", data.value as RecordingPolicy);
            }}
          >
            {RECORDING_POLICIES.map((policy) => (
              <option key={policy.value} value={policy.value}>
                {policy.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          hint="Captions start by themselves when the first person joins the call; the organizer and presenters can still stop them."
          {...field("autoCaptions")}
        >
          <Switch
            label="Start live captions when the call begins"
            checked={values.autoCaptions}
            onChange={(_, data) => {
              set("autoCaptions", data.checked);
            }}
          />
        </Field>

        <section className={styles.participants} aria-labelledby="form-participants">
          <Title3 as="h2" block id="form-participants">
            Participants
          </Title3>
          <Text>
            {organizerId === "" ? "The organizer" : organizerId} organizes the meeting and is always a
            presenter.
          </Text>
          <div className={styles.adder}>
            <Field
              label="Participant user id"
              validationState={newUserError !== null ? "error" : "none"}
              validationMessage={newUserError ?? undefined}
            >
              <Input
                value={newUserId}
                onChange={(_, data) => {
                  setNewUserId(data.value);
                  setNewUserError(null);
                }}
                onKeyDown={(event) => {
                  if (event.key === "Enter") {
                    event.preventDefault();
                    addParticipant();
                  }
                }}
              />
            </Field>
            <Field label="Participant display name">
              <Input
                value={newName}
                maxLength={100}
                onChange={(_, data) => {
                  setNewName(data.value);
                }}
              />
            </Field>
            <Field label="Participant role">
              <Select
                value={newRole}
                onChange={(_, data) => {
                  setNewRole(data.value as Role);
                }}
              >
                {ROLES.map((role) => (
                  <option key={role} value={role}>
                    {role}
                  </option>
                ))}
              </Select>
            </Field>
            <Button className={styles.addButton} onClick={addParticipant}>
              Add participant
            </Button>
          </div>
          <Field {...field("participants")}>
            {values.participants.length === 0 ? (
              <Text>Nobody else yet.</Text>
            ) : (
              <ul className={styles.list} aria-label="Participants to invite">
                {values.participants.map((p) => (
                  <li key={p.userId} className={styles.entry}>
                    <Text className={styles.entryName}>
                      <strong>{p.userId}</strong>
                      {p.displayName !== "" && ` (${p.displayName})`} · {p.role}
                    </Text>
                    <Button
                      size="small"
                      aria-label={`Remove ${p.userId}`}
                      onClick={() => {
                        removeParticipant(p.userId);
                      }}
                    >
                      Remove
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </Field>
        </section>

        {conflict !== null && (
          <MessageBar intent="warning" role="alert" layout="multiline">
            <MessageBarBody>
              <MessageBarTitle>Someone else changed this meeting</MessageBarTitle>
              {conflict.changes.length === 0 ? (
                <span> since you opened it, though not in a field shown here.</span>
              ) : (
                <ul className={styles.changes}>
                  {conflict.changes.map((change) => (
                    <li key={change.field}>
                      {change.label}: now {change.theirs}
                      {change.yours !== null && `; yours: ${change.yours}`}
                    </li>
                  ))}
                </ul>
              )}
              Applying your changes again keeps their other changes and puts yours on top.
            </MessageBarBody>
            <MessageBarActions>
              <Button appearance="primary" onClick={applyAgain} disabled={saving}>
                Apply my changes again
              </Button>
            </MessageBarActions>
          </MessageBar>
        )}
        {failure !== null && (
          <ErrorMessage
            error={failure}
            onRetry={
              failure instanceof ApiError && failure.network
                ? () => {
                    void save(base, values, etag);
                  }
                : undefined
            }
          />
        )}

        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={saving}>
            {editing ? "Save changes" : "Create meeting"}
          </Button>
          {saving && <Spinner size="tiny" label="Saving" />}
          <Link to={meetingId === undefined ? "/" : `/meetings/${meetingId}`}>Back</Link>
        </div>
      </form>
    </>
  );
}
