import { Badge, Button, Text, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useRef, useState } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { formatTime } from "../recordings/format";
import { useLoad } from "../lib/useLoad";
import { useMeetingEvents, useOnReconnect } from "../live/LiveProvider";
import { listRecordings } from "./callRecording";
import {
  applyCaption,
  asCaption,
  currentCaptions,
  speakerOf,
  startCaptions,
  stopCaptions,
  type CaptionLine,
} from "./captions";

const useStyles = makeStyles({
  section: {
    marginTop: tokens.spacingVerticalXXL,
    display: "grid",
    gap: tokens.spacingVerticalM,
    maxWidth: "760px",
    "& h2": { margin: 0 },
  },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalM, alignItems: "center" },
  caption: {
    minHeight: "3.5em",
    padding: tokens.spacingVerticalM,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackgroundInverted,
    color: tokens.colorNeutralForegroundInverted,
    fontSize: tokens.fontSizeBase400,
  },
  log: {
    maxHeight: "320px",
    overflowY: "auto",
    margin: 0,
    padding: 0,
    listStyleType: "none",
    display: "grid",
    gap: tokens.spacingVerticalXS,
  },
  time: { color: tokens.colorNeutralForeground3, fontFamily: tokens.fontFamilyMonospace },
  pending: { color: tokens.colorNeutralForeground3, fontStyle: "italic" },
});

/** Another presenter may turn captions on or off: the state is read again this often. */
const POLL_MS = 10_000;

/**
 * The call's live captions: the line being said (speaker and words, revised until final) and the live
 * transcript below it; organizer and presenters turn them on and off.
 */
export function LiveCaptions({ meetingId, canControl }: { meetingId: string; canControl: boolean }) {
  const styles = useStyles();
  const load = useCallback(() => listRecordings(meetingId).then(currentCaptions), [meetingId]);
  const { data, error, reload, setData } = useLoad(load);
  const [lines, setLines] = useState<CaptionLine[]>([]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const logRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const timer = window.setInterval(reload, POLL_MS);
    return () => {
      window.clearInterval(timer);
    };
  }, [reload]);
  useOnReconnect(reload);

  useMeetingEvents(meetingId, (event) => {
    if (event.type === "caption") {
      const line = asCaption(event.data);
      if (line !== null) setLines((current) => applyCaption(current, line));
    } else if (event.type === "recording.status" || event.type === "recording.created") {
      reload(); // captions turned on or off (by someone else, or the call ended)
    }
  });

  // Follow the transcript as it grows, unless the reader scrolled up to read.
  useEffect(() => {
    const log = logRef.current;
    if (log === null) return;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }, [lines]);

  const state = data?.state ?? "off";
  const act = (turnOn: boolean) => {
    setBusy(true);
    setActionError(null);
    (turnOn ? startCaptions(meetingId) : stopCaptions(meetingId)).then(
      (recording) => {
        setBusy(false);
        setData(currentCaptions([recording]));
        reload();
      },
      (e: unknown) => {
        setBusy(false);
        setActionError(e);
        reload();
      },
    );
  };

  const latest = lines.at(-1) ?? null;
  return (
    <section className={styles.section} aria-labelledby="captions-heading">
      <Title3 as="h2" block id="captions-heading">
        Live captions
      </Title3>
      <div className={styles.row}>
        <Badge appearance={state === "on" ? "filled" : "outline"} color="informative">
          {data === undefined && error === null
            ? "Reading the state…"
            : state === "on"
              ? "Captions on"
              : state === "starting"
                ? "Starting…"
                : "Captions off"}
        </Badge>
        {canControl && (
          <>
            <Button
              appearance="primary"
              disabled={busy || data === undefined || state !== "off"}
              onClick={() => {
                act(true);
              }}
            >
              Start captions
            </Button>
            <Button
              disabled={busy || data === undefined || state === "off"}
              onClick={() => {
                act(false);
              }}
            >
              Stop captions
            </Button>
          </>
        )}
      </div>
      <div className={styles.caption} role="status" aria-live="polite" aria-label="Current caption">
        {latest !== null && (
          <Text>
            <Text weight="semibold">{speakerOf(latest)}: </Text>
            {latest.text}
          </Text>
        )}
      </div>
      <Text weight="semibold" id="live-transcript-heading">
        Live transcript
      </Text>
      <ol
        className={styles.log}
        ref={logRef}
        role="log"
        aria-labelledby="live-transcript-heading"
        tabIndex={0}
      >
        {lines.map((line) => (
          <li key={line.captionId} className={line.final ? undefined : styles.pending}>
            <span className={styles.time}>{formatTime(line.start)}</span> <strong>{speakerOf(line)}</strong>:{" "}
            {line.text}
          </li>
        ))}
      </ol>
      {actionError !== null && <ErrorMessage error={actionError} />}
      {error !== null && <ErrorMessage error={error} onRetry={reload} />}
    </section>
  );
}
