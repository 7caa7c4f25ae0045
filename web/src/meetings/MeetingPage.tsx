import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Text,
  Title2,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { formatRange } from "../lib/time";
import { useLoad } from "../lib/useLoad";
import { useLivePolling, useMeetingEvents, useOnReconnect } from "../live/LiveProvider";
import { RecordingsPanel } from "../recordings/RecordingsPanel";
import {
  cancelMeeting,
  getMeeting,
  putParticipant,
  removeParticipant,
  roleOf,
  ROLES,
  type Meeting,
  type Role,
} from "./api";
import { AskSection } from "./AskSection";
import { meetingChange } from "./liveUpdates";
import { participantProblem } from "./meetingForm";

/** While the live channel is down, the meeting is read again this often. */
export const MEETING_POLL_MS = 5000;

const useStyles = makeStyles({
  head: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    "& h1": { margin: `${tokens.spacingVerticalL} 0 ${tokens.spacingVerticalS}` },
  },
  when: { color: tokens.colorNeutralForeground2, display: "block", marginBottom: tokens.spacingVerticalM },
  actions: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalM, alignItems: "center" },
  editLink: {
    padding: `5px ${tokens.spacingHorizontalM}`,
    borderRadius: tokens.borderRadiusMedium,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    color: tokens.colorNeutralForeground1,
    textDecoration: "none",
    fontWeight: tokens.fontWeightSemibold,
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
  },
  badges: {
    display: "flex",
    flexWrap: "wrap",
    gap: tokens.spacingHorizontalS,
    marginBottom: tokens.spacingVerticalM,
  },
  description: { whiteSpace: "pre-wrap", margin: `${tokens.spacingVerticalL} 0`, maxWidth: "760px" },
  section: {
    marginTop: tokens.spacingVerticalXXL,
    display: "grid",
    gap: tokens.spacingVerticalM,
    "& h2": { margin: 0 },
  },
  list: { listStyleType: "none", margin: 0, padding: 0, display: "grid", gap: "4px", maxWidth: "760px" },
  participant: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    backgroundColor: tokens.colorNeutralBackground1,
    borderRadius: tokens.borderRadiusMedium,
    boxShadow: tokens.shadow2,
  },
  who: { flexGrow: 1, display: "grid" },
  invite: {
    display: "grid",
    gridTemplateColumns: "2fr 2fr 1fr auto",
    gap: tokens.spacingHorizontalM,
    alignItems: "start",
    maxWidth: "760px",
  },
  inviteButton: { marginTop: "26px" },
  recordings: { marginTop: tokens.spacingVerticalXXL },
});

export function MeetingPage() {
  const { meetingId = "" } = useParams();
  const { user } = useAuth();
  const load = useCallback(() => getMeeting(meetingId), [meetingId]);
  const { data, error, loading, reload, setData } = useLoad(load);
  // The meeting the signed-in user was just removed from (an event says so): its content goes.
  const [removedFrom, setRemovedFrom] = useState<string | null>(null);
  const removed = removedFrom === meetingId;

  // Live: title, times and status as they are stored; participants read again when they change.
  useMeetingEvents(removed ? null : meetingId, (event) => {
    const change = meetingChange(event, user?.id ?? "");
    if (change === null) return;
    if (change.kind === "removed") {
      setRemovedFrom(meetingId);
      return;
    }
    if (change.kind === "patch" && data !== undefined) {
      setData({ ...data, meeting: change.apply(data.meeting) });
    }
    // What the event does not carry (the description, participants, the ETag): read in the background.
    reload();
  });
  useOnReconnect(() => {
    if (!removed) reload();
  });
  const polling = useLivePolling();
  useEffect(() => {
    if (!polling || removed || loading || data === undefined) return;
    const timer = setTimeout(reload, MEETING_POLL_MS);
    return () => {
      clearTimeout(timer);
    };
  }, [polling, removed, loading, data, reload]);

  if (removed) {
    return (
      <>
        <Title2 as="h1" block>
          Meeting
        </Title2>
        <MessageBar intent="warning" role="alert">
          <MessageBarBody>
            <MessageBarTitle>You were removed from this meeting</MessageBarTitle>
            Its details, recordings and call are no longer available to you.
          </MessageBarBody>
        </MessageBar>
        <p>
          <Link to="/">Back to your meetings</Link>
        </p>
      </>
    );
  }

  const gone = error instanceof ApiError && error.status === 404;
  if (data === undefined || gone) {
    if (error !== null) {
      return (
        <>
          <Title2 as="h1" block>
            {gone ? "Meeting not found" : "Meeting"}
          </Title2>
          <ErrorMessage error={error} onRetry={gone ? undefined : reload} />
          {gone && <Link to="/">Back to your meetings</Link>}
        </>
      );
    }
    return <Loading label="Loading the meeting" />;
  }
  return <MeetingView meeting={data.meeting} reload={reload} error={error} />;
}

function MeetingView({ meeting, reload, error }: { meeting: Meeting; reload: () => void; error: unknown }) {
  const styles = useStyles();
  const navigate = useNavigate();
  const { user } = useAuth();
  const role = roleOf(meeting, user?.id ?? "");
  const organizer = role === "organizer";
  const presenter = organizer || role === "presenter";
  const cancelled = meeting.status === "cancelled";

  const [cancelError, setCancelError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const [dialogOpen, setDialogOpen] = useState(false);

  const cancel = () => {
    setCancelling(true);
    setCancelError(null);
    cancelMeeting(meeting.id).then(
      () => {
        setCancelling(false);
        setDialogOpen(false);
        reload();
      },
      (e: unknown) => {
        setCancelling(false);
        setDialogOpen(false);
        setCancelError(e);
      },
    );
  };

  return (
    <>
      <div className={styles.head}>
        <Title2 as="h1" block>
          {meeting.title}
        </Title2>
        {cancelled && (
          <Badge appearance="filled" color="danger" size="large">
            Cancelled
          </Badge>
        )}
      </div>
      <Text className={styles.when}>
        {formatRange(meeting.startsAt, meeting.endsAt)}
        {!cancelled && " · Scheduled"} · organized by {meeting.organizerId}
      </Text>
      {(meeting.recordingPolicy === "consent" || meeting.autoCaptions) && (
        <div className={styles.badges}>
          {meeting.recordingPolicy === "consent" && (
            <Badge appearance="tint" color="informative" size="large">
              Recording needs everyone&apos;s consent
            </Badge>
          )}
          {meeting.autoCaptions && (
            <Badge appearance="tint" color="informative" size="large">
              Live captions start with the call
            </Badge>
          )}
        </div>
      )}
      {error !== null && <ErrorMessage error={error} onRetry={reload} />}
      <div className={styles.actions}>
        <Button
          appearance="primary"
          disabled={cancelled}
          onClick={() => {
            void navigate(`/meetings/${meeting.id}/call`);
          }}
        >
          Join
        </Button>
        {organizer && !cancelled && (
          <>
            <Link to={`/meetings/${meeting.id}/edit`} className={styles.editLink}>
              Edit
            </Link>
            <Dialog
              open={dialogOpen}
              onOpenChange={(_, data) => {
                setDialogOpen(data.open);
              }}
            >
              <DialogTrigger disableButtonEnhancement>
                <Button>Cancel meeting</Button>
              </DialogTrigger>
              <DialogSurface>
                <DialogBody>
                  <DialogTitle>Cancel “{meeting.title}”?</DialogTitle>
                  <DialogContent>
                    Everyone invited loses access to the call, and its room is deleted. This cannot be undone.
                  </DialogContent>
                  <DialogActions>
                    <DialogTrigger disableButtonEnhancement>
                      <Button>Keep it</Button>
                    </DialogTrigger>
                    <Button appearance="primary" onClick={cancel} disabled={cancelling}>
                      Cancel the meeting
                    </Button>
                  </DialogActions>
                </DialogBody>
              </DialogSurface>
            </Dialog>
          </>
        )}
      </div>
      {cancelError !== null && <ErrorMessage error={cancelError} />}
      {meeting.description && (
        <Text as="p" block className={styles.description}>
          {meeting.description}
        </Text>
      )}

      <Participants meeting={meeting} organizer={organizer && !cancelled} reload={reload} />

      <div className={styles.recordings}>
        <RecordingsPanel
          meetingId={meeting.id}
          canUpload={presenter}
          canManage={organizer}
          participants={meeting.participants}
        />
      </div>

      <AskSection meetingId={meeting.id} />
    </>
  );
}

function Participants({
  meeting,
  organizer,
  reload,
}: {
  meeting: Meeting;
  organizer: boolean;
  reload: () => void;
}) {
  const styles = useStyles();
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const act = (userId: string, work: () => Promise<unknown>) => {
    setBusy(userId);
    setActionError(null);
    work().then(
      () => {
        setBusy(null);
        reload();
      },
      (e: unknown) => {
        setBusy(null);
        setActionError(e);
      },
    );
  };

  const participants = [...meeting.participants].sort((a, b) =>
    a.userId === meeting.organizerId
      ? -1
      : b.userId === meeting.organizerId
        ? 1
        : a.userId.localeCompare(b.userId),
  );

  return (
    <section className={styles.section} aria-labelledby="participants-heading">
      <Title3 as="h2" block id="participants-heading">
        Participants
      </Title3>
      <ul className={styles.list} aria-labelledby="participants-heading">
        {participants.map((p) => {
          const isOrganizer = p.userId === meeting.organizerId;
          return (
            <li key={p.userId} className={styles.participant}>
              <span className={styles.who}>
                <Text weight="semibold">{p.userId}</Text>
                {p.displayName ? <Text size={200}>{p.displayName}</Text> : null}
              </span>
              {organizer && !isOrganizer ? (
                <>
                  <Select
                    aria-label={`Role of ${p.userId}`}
                    value={p.role}
                    disabled={busy === p.userId}
                    onChange={(_, data) => {
                      act(p.userId, () => putParticipant(meeting.id, p.userId, data.value as Role));
                    }}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </Select>
                  <Button
                    aria-label={`Remove ${p.userId}`}
                    disabled={busy === p.userId}
                    onClick={() => {
                      act(p.userId, () => removeParticipant(meeting.id, p.userId));
                    }}
                  >
                    Remove
                  </Button>
                </>
              ) : (
                <Text>{isOrganizer ? "organizer, presenter" : p.role}</Text>
              )}
            </li>
          );
        })}
      </ul>
      {actionError !== null && <ErrorMessage error={actionError} />}
      {organizer && <InviteForm meeting={meeting} onInvited={reload} />}
    </section>
  );
}

function InviteForm({ meeting, onInvited }: { meeting: Meeting; onInvited: () => void }) {
  const styles = useStyles();
  const [userId, setUserId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<Role>("attendee");
  const [errors, setErrors] = useState<{ userId?: string; displayName?: string; role?: string }>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [sending, setSending] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const id = userId.trim();
    const problem = participantProblem(
      id,
      meeting.participants.map((p) => ({ userId: p.userId, displayName: "", role: p.role })),
      meeting.organizerId,
    );
    setErrors(problem === null ? {} : { userId: problem });
    setFailure(null);
    if (problem !== null) return;
    setSending(true);
    putParticipant(meeting.id, id, role, displayName.trim() || null).then(
      () => {
        setSending(false);
        setUserId("");
        setDisplayName("");
        onInvited();
      },
      (e: unknown) => {
        setSending(false);
        const fields =
          e instanceof ApiError
            ? {
                userId: e.fieldMessage("userId"),
                displayName: e.fieldMessage("displayName"),
                role: e.fieldMessage("role"),
              }
            : {};
        setErrors(fields);
        if (Object.values(fields).every((m) => m === undefined)) setFailure(e);
      },
    );
  };

  const state = (message: string | undefined) =>
    message === undefined ? {} : { validationState: "error" as const, validationMessage: message };

  return (
    <form onSubmit={submit} aria-label="Invite" noValidate>
      <Title3 as="h3" block style={{ fontSize: tokens.fontSizeBase400 }}>
        Invite
      </Title3>
      <div className={styles.invite}>
        <Field label="User id" {...state(errors.userId)}>
          <Input
            value={userId}
            onChange={(_, data) => {
              setUserId(data.value);
            }}
          />
        </Field>
        <Field label="Display name" {...state(errors.displayName)}>
          <Input
            value={displayName}
            maxLength={100}
            onChange={(_, data) => {
              setDisplayName(data.value);
            }}
          />
        </Field>
        <Field label="Role" {...state(errors.role)}>
          <Select
            value={role}
            onChange={(_, data) => {
              setRole(data.value as Role);
            }}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </Select>
        </Field>
        <Button type="submit" appearance="primary" className={styles.inviteButton} disabled={sending}>
          Invite
        </Button>
      </div>
      {failure !== null && <ErrorMessage error={failure} />}
    </form>
  );
}
