import { Badge, Button, Text, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { useLoad } from "../lib/useLoad";
import {
  allowedActions,
  controlCallRecording,
  currentCallRecording,
  listRecordings,
  STATE_TEXT,
  type CallAction,
  type CallRecordingView,
} from "./callRecording";

const useStyles = makeStyles({
  section: {
    marginTop: tokens.spacingVerticalXXL,
    display: "grid",
    gap: tokens.spacingVerticalM,
    maxWidth: "760px",
    "& h2": { margin: 0 },
  },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalM, alignItems: "center" },
});

/** Another presenter may start or stop the recording: the state is read again this often. */
const POLL_MS = 10_000;

const LABELS: Record<CallAction, string> = {
  start: "Start recording",
  pause: "Pause recording",
  resume: "Resume recording",
  stop: "Stop recording",
};

/** Organizer and presenters: record the meeting's call with ACS, showing the state the API reports. */
export function CallRecordingControls({ meetingId }: { meetingId: string }) {
  const styles = useStyles();
  const load = useCallback(() => listRecordings(meetingId).then(currentCallRecording), [meetingId]);
  const { data, error, reload, setData } = useLoad<CallRecordingView>(load);
  const [busy, setBusy] = useState<CallAction | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [stopped, setStopped] = useState(false);

  useEffect(() => {
    const timer = window.setInterval(reload, POLL_MS);
    return () => {
      window.clearInterval(timer);
    };
  }, [reload]);

  const view = data ?? { state: "none" as const, recording: null };
  const allowed = allowedActions(view.state);

  const act = (action: CallAction) => {
    setBusy(action);
    setActionError(null);
    setStopped(false);
    controlCallRecording(meetingId, action, view.recording?.id ?? null).then(
      (recording) => {
        setBusy(null);
        // The answer is the recording as the API now holds it: show that, then read the list again.
        setData(currentCallRecording([recording]));
        setStopped(action === "stop");
        reload();
      },
      (e: unknown) => {
        setBusy(null);
        setActionError(e);
        reload();
      },
    );
  };

  return (
    <section className={styles.section} aria-labelledby="call-recording-heading">
      <Title3 as="h2" block id="call-recording-heading">
        Call recording
      </Title3>
      <div className={styles.row}>
        <Badge
          appearance={view.state === "none" ? "outline" : "filled"}
          color={view.state === "active" ? "danger" : view.state === "paused" ? "warning" : "informative"}
        >
          {data === undefined && error === null ? "Reading the state…" : STATE_TEXT[view.state]}
        </Badge>
        {view.recording?.call && (
          <Text size={200}>
            {view.recording.call.content}, {view.recording.call.channels}, {view.recording.call.format}
          </Text>
        )}
      </div>
      <div className={styles.row}>
        {(["start", "pause", "resume", "stop"] as const).map((action) => (
          <Button
            key={action}
            appearance={action === "start" ? "primary" : "secondary"}
            disabled={busy !== null || data === undefined || !allowed[action]}
            onClick={() => {
              act(action);
            }}
          >
            {LABELS[action]}
          </Button>
        ))}
      </div>
      {stopped && (
        <Text>
          Stopped. ACS delivers the file to the meeting&apos;s recordings, where it is transcribed and
          summarized.
        </Text>
      )}
      {actionError !== null && <ErrorMessage error={actionError} />}
      {error !== null && <ErrorMessage error={error} onRetry={reload} />}
    </section>
  );
}
