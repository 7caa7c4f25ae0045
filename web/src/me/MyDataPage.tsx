import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Spinner,
  Text,
  Title2,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useCallback, useEffect, useState, type FormEvent } from "react";

import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { DEV_USER_ID } from "../auth/devAuth";
import { leaveSignOutNotice } from "../auth/signOutNotice";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { formatDateTime } from "../lib/time";
import { downloadExport, getErasure, requestErasure, type Erasure } from "./api";
import { erasureFacts, erasureStatus } from "./erasureText";

/** How often the erasure job is read while it runs. */
export const ERASURE_POLL_MS = 2000;

const useStyles = makeStyles({
  section: {
    marginTop: tokens.spacingVerticalXXL,
    display: "grid",
    gap: tokens.spacingVerticalM,
    maxWidth: "760px",
    justifyItems: "start",
    "& h2": { margin: 0 },
    "& p": { margin: 0 },
  },
  explained: { margin: 0, paddingLeft: tokens.spacingHorizontalXL, display: "grid", gap: "4px" },
  row: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalM },
  form: { display: "grid", gap: tokens.spacingVerticalM, justifyItems: "start", width: "100%" },
  field: { width: "min(100%, 420px)" },
  job: {
    display: "grid",
    gap: tokens.spacingVerticalS,
    width: "100%",
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusMedium,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    "& h3": { margin: 0 },
  },
  facts: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
});

export default function MyDataPage() {
  return (
    <>
      <Title2 as="h1" block>
        Your data
      </Title2>
      <ExportSection />
      <ErasureSection />
    </>
  );
}

function ExportSection() {
  const styles = useStyles();
  const { user } = useAuth();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const download = () => {
    if (user === null) return;
    setBusy(true);
    setError(null);
    downloadExport(user.id).then(
      () => {
        setBusy(false);
      },
      (e: unknown) => {
        setBusy(false);
        setError(e);
      },
    );
  };

  return (
    <section className={styles.section} aria-labelledby="export-heading">
      <Title3 as="h2" block id="export-heading">
        Download a copy
      </Title3>
      <Text as="p" block>
        One JSON file with everything the service holds about you: the meetings you organize, the meetings you
        are part of, what you said in recorded transcripts, the action items you own, and your calling
        identity.
      </Text>
      <div className={styles.row}>
        <Button appearance="primary" onClick={download} disabled={busy}>
          Download my data
        </Button>
        {busy && <Spinner size="tiny" label="Preparing the file" />}
      </div>
      {error !== null && <ErrorMessage error={error} onRetry={download} />}
    </section>
  );
}

/** The erasure as the page knows it: the job (null: none asked for), and whether it ran while shown. */
interface Job {
  erasure: Erasure | null;
  /** Seen queued or running here: its completion signs the user out (an old completed job does not). */
  watched: boolean;
}

function ErasureSection() {
  const styles = useStyles();
  const { user, signOut } = useAuth();
  const [job, setJob] = useState<Job | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  // The job already asked for (a reload during an erasure follows it on); a 404 is none.
  useEffect(() => {
    let current = true;
    getErasure().then(
      (erasure) => {
        if (current) setJob({ erasure, watched: erasure !== null && erasure.status !== "completed" });
      },
      (e: unknown) => {
        if (current) setLoadError(e);
      },
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  // Read again every ERASURE_POLL_MS until it completes; a failed read stops until the user retries.
  const erasure = job?.erasure ?? null;
  useEffect(() => {
    if (erasure === null || erasure.status === "completed" || loadError !== null) return;
    let current = true;
    const timer = setTimeout(() => {
      getErasure().then(
        (next) => {
          if (current) setJob({ erasure: next, watched: true });
        },
        (e: unknown) => {
          if (current) setLoadError(e);
        },
      );
    }, ERASURE_POLL_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [erasure, loadError]);

  // Done: nothing of the user is left to sign in to. What was done goes to the sign-in page with them.
  const completedHere = job?.watched === true && erasure?.status === "completed";
  useEffect(() => {
    if (!completedHere) return;
    leaveSignOutNotice({
      title: "Your data is erased and you are signed out",
      lines: erasureFacts(erasure),
    });
    void signOut();
  }, [completedHere, erasure, signOut]);

  const started = useCallback((next: Erasure) => {
    setLoadError(null);
    setJob({ erasure: next, watched: next.status !== "completed" });
  }, []);

  const retry = () => {
    setLoadError(null);
    // Before the first answer: ask again; while following a job: the poll starts again by itself.
    if (job === undefined) setAttempt((n) => n + 1);
  };

  const running = erasure !== null && erasure.status !== "completed";
  return (
    <section className={styles.section} aria-labelledby="erase-heading">
      <Title3 as="h2" block id="erase-heading">
        Delete my data
      </Title3>
      <Text as="p" block>
        Deleting your data erases you from the service. It runs as a job, which picks up where it stopped if
        it is interrupted:
      </Text>
      <ul className={styles.explained}>
        <li>your calling identity (Azure Communication Services) is deleted;</li>
        <li>you are removed from every meeting you are part of;</li>
        <li>
          the meetings you organize are handed over to the person you name below, where they are a
          participant; the others are cancelled;
        </li>
        <li>
          in recordings&apos; transcripts and summaries, your words are replaced by “[removed]” and your name
          by “a former participant”, and the search index is updated;
        </li>
        <li>then everything kept under your account is deleted, and you are signed out.</li>
      </ul>
      <Text as="p" block>
        The audio of recordings is not edited: it is deleted when the recordings&apos; retention period ends.
        This cannot be undone; download a copy first if you want one.
      </Text>
      {loadError !== null && <ErrorMessage error={loadError} onRetry={retry} />}
      {job === undefined && loadError === null && <Loading label="Checking for an erasure under way" />}
      {erasure !== null && <ErasureJob erasure={erasure} />}
      {user !== null && (
        <ErasureForm
          userId={user.id}
          offered={job !== undefined && !running && !completedHere}
          onStarted={started}
        />
      )}
    </section>
  );
}

function ErasureJob({ erasure }: { erasure: Erasure }) {
  const styles = useStyles();
  const done = erasure.status === "completed";
  const facts = erasureFacts(erasure);
  const title = done
    ? `Your data was erased${erasure.completedAt === null ? "" : ` on ${formatDateTime(erasure.completedAt)}`}`
    : "Erasing your data";
  return (
    <div className={styles.job} role="status" aria-labelledby="erasure-job-heading">
      <Title3 as="h3" block id="erasure-job-heading" style={{ fontSize: tokens.fontSizeBase400 }}>
        {title}
      </Title3>
      <Text>{erasureStatus(erasure)}</Text>
      {!done && (
        <ProgressBar
          aria-label="Erasure progress"
          value={
            erasure.meetingsTotal === null || erasure.meetingsTotal === 0
              ? undefined
              : erasure.meetingsDone / erasure.meetingsTotal
          }
        />
      )}
      <ul className={styles.facts} aria-label={done ? "What was done" : "Done so far"}>
        {facts.map((fact) => (
          <li key={fact}>{fact}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The hand-over field and the button (while `offered`); the erasure starts only after the dialog's
 * confirmation. The dialog stays mounted when the form goes: unmounted while it closes, it would leave
 * the page aria-hidden (Fluent's modal focus trap restores the rest of the page only when it closes).
 */
function ErasureForm({
  userId,
  offered,
  onStarted,
}: {
  userId: string;
  offered: boolean;
  onStarted: (erasure: Erasure) => void;
}) {
  const styles = useStyles();
  const [newOrganizer, setNewOrganizer] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const handOver = newOrganizer.trim();

  const check = (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    let problem: string | null = null;
    if (handOver !== "" && !DEV_USER_ID.test(handOver)) problem = "1 to 128 letters, digits or . @ _ + -";
    else if (handOver === userId) problem = "Name someone else: your meetings cannot go to you.";
    setFieldError(problem);
    if (problem === null) setConfirming(true);
  };

  const erase = () => {
    setSending(true);
    requestErasure(handOver === "" ? null : handOver).then(
      (erasure) => {
        setSending(false);
        setConfirming(false);
        onStarted(erasure);
      },
      (e: unknown) => {
        setSending(false);
        setConfirming(false);
        const message = e instanceof ApiError ? e.fieldMessage("newOrganizer") : undefined;
        setFieldError(message ?? null);
        if (message === undefined) setFailure(e);
      },
    );
  };

  return (
    <>
      {offered && (
        <form className={styles.form} onSubmit={check} noValidate aria-label="Delete my data">
          <Field
            className={styles.field}
            label="Hand my meetings over to"
            hint="Optional: the user id of a participant of your meetings. Without one, your meetings are cancelled."
            validationState={fieldError === null ? "none" : "error"}
            validationMessage={fieldError ?? undefined}
          >
            <Input
              value={newOrganizer}
              onChange={(_, data) => {
                setNewOrganizer(data.value);
                setFieldError(null);
              }}
            />
          </Field>
          <Button type="submit" appearance="primary" disabled={sending}>
            Delete my data
          </Button>
          {failure !== null && <ErrorMessage error={failure} />}
        </form>
      )}
      <Dialog
        open={confirming}
        onOpenChange={(_, data) => {
          if (!sending) setConfirming(data.open);
        }}
      >
        <DialogSurface>
          <DialogBody>
            <DialogTitle>Delete all your data?</DialogTitle>
            <DialogContent>
              <MessageBar intent="warning">
                <MessageBarBody>
                  <MessageBarTitle>This cannot be undone.</MessageBarTitle>
                  {handOver === ""
                    ? "The meetings you organize will be cancelled."
                    : `The meetings you organize go to ${handOver} where they are a participant; the others are cancelled.`}
                </MessageBarBody>
              </MessageBar>
              <p>
                You leave every meeting, your words and name are taken out of transcripts and summaries, and
                you are signed out when it is done.
              </p>
            </DialogContent>
            <DialogActions>
              <Button
                disabled={sending}
                onClick={() => {
                  setConfirming(false);
                }}
              >
                Keep my data
              </Button>
              <Button appearance="primary" onClick={erase} disabled={sending}>
                Delete everything
              </Button>
              {sending && <Spinner size="tiny" label="Starting" />}
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </>
  );
}
