import {
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Spinner,
  Tab,
  TabList,
  Text,
  Title2,
  tokens,
} from "@fluentui/react-components";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";

import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { useLivePolling, useMeetingEvents, useOnReconnect } from "../live/LiveProvider";
import { parseStartAt } from "../search/searchApi";
import { currentSegmentIndex, lastStartedIndex } from "./followAlong";
import { formatBytes, formatTime } from "./format";
import {
  approveSummary,
  downloadArtifact,
  getMeeting,
  getRecording,
  getSummary,
  getTranscript,
  regenerateSummary,
  saveSummary,
  summaryETag,
  type ArtifactFormat,
  type Meeting,
  type Recording,
  type Summary,
  type SummaryEdit,
  type Transcript,
} from "./recordingApi";
import { newerVersion, recordingChange } from "./liveUpdates";
import { RecordingPlayer } from "./RecordingPlayer";
import { speakerNames } from "./speakers";
import { errorText, isProcessing, sourceDeletedText, stageText, statusLabel } from "./statusText";
import { SpeakerNaming } from "./SpeakerNaming";
import { SummaryEditor } from "./SummaryEditor";
import { SummaryVersions } from "./SummaryVersions";
import { SummaryView } from "./SummaryView";
import { TranscriptView } from "./TranscriptView";

/** How often the recording is read while the server works on it (the UI contract says 2 s). */
export const PAGE_POLL_MS = 2000;
/** Waiting for someone's upload or a call being recorded: nothing changes fast. */
const SLOW_POLL_MS = 10_000;

const useStyles = makeStyles({
  header: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXS },
  title: { overflowWrap: "anywhere" },
  meta: { color: tokens.colorNeutralForeground3 },
  status: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
    marginBlock: tokens.spacingVerticalL,
    maxWidth: "36rem",
  },
  layout: {
    display: "grid",
    gridTemplateColumns: "minmax(0, 1fr)",
    gap: tokens.spacingHorizontalXXL,
    marginTop: tokens.spacingVerticalL,
    "@media (min-width: 960px)": { gridTemplateColumns: "minmax(0, 2fr) minmax(0, 3fr)" },
  },
  side: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    "@media (min-width: 960px)": { position: "sticky", top: tokens.spacingVerticalL, alignSelf: "start" },
  },
  panel: { paddingTop: tokens.spacingVerticalM },
  actions: {
    display: "flex",
    flexWrap: "wrap",
    gap: tokens.spacingHorizontalS,
    marginBlock: tokens.spacingVerticalM,
  },
});

type Loaded<T> =
  | { state: "idle" }
  | { state: "loading" }
  | { state: "notReady" }
  | { state: "ready"; value: T }
  | {
      state: "error";
      error: unknown;
    };

/**
 * An artifact (transcript, summary) fetched when the recording lists it, and again when `generation`
 * changes (a regenerated summary); a 409 (not ready after all) is retried. The last value stays shown
 * while a new one is made.
 */
function useArtifact<T>(
  ready: boolean,
  fetch: () => Promise<T>,
  generation = 0,
): { loaded: Loaded<T>; last: T | null; replace: (value: T) => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "idle" });
  const [last, setLast] = useState<T | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    let retry: ReturnType<typeof setTimeout> | undefined;
    fetch().then(
      (value) => {
        if (!live) return;
        setLoaded({ state: "ready", value });
        setLast(value);
      },
      (error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 409) {
          setLoaded({ state: "notReady" });
          retry = setTimeout(() => {
            setAttempt((n) => n + 1);
          }, PAGE_POLL_MS);
        } else {
          setLoaded({ state: "error", error });
        }
      },
    );
    return () => {
      live = false;
      clearTimeout(retry);
    };
  }, [ready, fetch, attempt, generation]);

  // Ready but not answered yet: loading (derived, so the effect sets no state before its request).
  // A value the page got from a change it made (a speaker named, the summary edited) is shown at once.
  const replace = useCallback((value: T) => {
    setLoaded({ state: "ready", value });
    setLast(value);
  }, []);
  return { loaded: ready && loaded.state === "idle" ? { state: "loading" } : loaded, last, replace };
}

/** The recording: player, transcript that follows it, summary, downloads; progress until it is done. */
export default function RecordingPage() {
  const styles = useStyles();
  const { meetingId = "", recordingId = "" } = useParams();
  const { user } = useAuth();
  const [searchParams] = useSearchParams();
  const startAt = parseStartAt(searchParams.get("t"));
  const [recording, setRecording] = useState<Recording | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [meeting, setMeeting] = useState<Meeting | null>(null);
  const [tick, setTick] = useState(0);
  const [tab, setTab] = useState<"transcript" | "summary">("transcript");
  const [time, setTime] = useState(() => startAt ?? 0);
  const [playing, setPlaying] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [regenerating, setRegenerating] = useState(false);
  const [summaryGeneration, setSummaryGeneration] = useState(0);
  const [editing, setEditing] = useState(false);
  const [changingSummary, setChangingSummary] = useState(false);
  const [summaryError, setSummaryError] = useState<unknown>(null);
  // The summary changed on the server since it was read (412): only a reload helps.
  const [summaryConflict, setSummaryConflict] = useState(false);
  const [confirmingRegenerate, setConfirmingRegenerate] = useState(false);
  const mediaRef = useRef<HTMLMediaElement | null>(null);
  // Where the player goes once it knows its media (opened with ?t= before the player was there).
  const pendingStart = useRef<number | null>(null);

  useEffect(() => {
    let live = true;
    getRecording(meetingId, recordingId).then(
      (value) => {
        if (!live) return;
        setRecording(value);
        setLoadError(null);
      },
      (error: unknown) => {
        if (live) setLoadError(error);
      },
    );
    return () => {
      live = false;
    };
  }, [meetingId, recordingId, tick]);

  // The meeting says who may regenerate (its organizer) and names speakers known only by user id.
  useEffect(() => {
    let live = true;
    getMeeting(meetingId).then(
      (data) => {
        if (live) setMeeting(data);
      },
      () => undefined, // the recording's own error says what matters
    );
    return () => {
      live = false;
    };
  }, [meetingId]);

  // Live: the recording's progress as it is stored; what the event does not carry is read.
  const versions = useRef(new Map<string, number>());
  useMeetingEvents(meetingId, (event) => {
    const change = recordingChange(event);
    if (change === null || change.recordingId !== recordingId) return;
    if (change.kind === "read" || event.type === "summary.ready" || event.type === "transcript.ready") {
      // Ready artifacts: the recording lists them (and their formats) once read. A new summary is read
      // when the status turns from summarizing to completed (below), whether that came live or polled.
      setTick((n) => n + 1);
      return;
    }
    if (newerVersion(versions.current, recordingId, change.version)) {
      setRecording((current) => (current === null ? current : change.apply(current)));
    }
  });
  const polling = useLivePolling();
  useOnReconnect(() => {
    setTick((n) => n + 1);
  });

  const status = recording?.status;
  // Summarized (again): the new summary replaces the old one.
  const previousStatus = useRef(status);
  useEffect(() => {
    if (previousStatus.current === "summarizing" && status === "completed") {
      setSummaryGeneration((n) => n + 1);
    }
    previousStatus.current = status;
  }, [status]);

  // Polled only while the live channel is down.
  useEffect(() => {
    if (!polling || status === undefined || status === "completed" || status === "failed") return;
    const every = isProcessing(status) ? PAGE_POLL_MS : SLOW_POLL_MS;
    const timer = setTimeout(() => {
      setTick((n) => n + 1);
    }, every);
    return () => {
      clearTimeout(timer);
    };
  }, [status, recording, polling]);

  useEffect(() => {
    if (recording !== null) document.title = `${recording.fileName} – video-signaling`;
  }, [recording]);

  const fetchTranscript = useCallback(() => getTranscript(meetingId, recordingId), [meetingId, recordingId]);
  const fetchSummary = useCallback(() => getSummary(meetingId, recordingId), [meetingId, recordingId]);
  const artifacts = recording?.artifacts ?? [];
  const transcript = useArtifact<Transcript>(artifacts.includes("transcript.json"), fetchTranscript);
  const summary = useArtifact<Summary>(artifacts.includes("summary.json"), fetchSummary, summaryGeneration);

  // User id -> the meeting's display name: speakers known only by id, who edited or approved the summary.
  const people = useMemo(() => {
    const known = new Map<string, string>();
    for (const p of meeting?.participants ?? []) if (p.displayName) known.set(p.userId, p.displayName);
    return known;
  }, [meeting]);

  const names = useMemo(
    () => speakerNames(transcript.last?.speakers ?? [], people),
    [transcript.last, people],
  );

  const segments = transcript.last?.segments;
  const currentIndex = useMemo(() => currentSegmentIndex(segments ?? [], time), [segments, time]);

  const seek = useCallback((seconds: number) => {
    const element = mediaRef.current;
    if (element !== null) element.currentTime = seconds;
    setTime(seconds);
  }, []);

  // Opened at a moment (`?t=`: a search hit, an answer's source): the transcript at that line, and the
  // player there as soon as it can seek (a player without its metadata yet seeks when it has them).
  const [openedAt, setOpenedAt] = useState(startAt);
  if (openedAt !== startAt) {
    // Another moment of the same recording (a link followed while here): adjusted while rendering.
    setOpenedAt(startAt);
    if (startAt !== null) {
      setTab("transcript");
      setTime(startAt);
    }
  }
  useEffect(() => {
    if (startAt === null) return;
    const element = mediaRef.current;
    if (element !== null && element.readyState >= HTMLMediaElement.HAVE_METADATA) {
      element.currentTime = startAt;
      pendingStart.current = null;
    } else {
      pendingStart.current = startAt;
    }
  }, [startAt]);
  const onPlayerReady = useCallback((element: HTMLMediaElement) => {
    if (pendingStart.current === null) return;
    element.currentTime = pendingStart.current;
    pendingStart.current = null;
  }, []);
  const revealIndex = useMemo(
    () => (startAt === null || segments === undefined ? -1 : lastStartedIndex(segments, startAt)),
    [segments, startAt],
  );

  const download = (artifact: ArtifactFormat) => {
    if (recording === null) return;
    setActionError(null);
    downloadArtifact(meetingId, recordingId, recording.fileName, artifact).catch(setActionError);
  };

  const regenerate = async (force = false) => {
    setActionError(null);
    setConfirmingRegenerate(false);
    setRegenerating(true);
    try {
      setRecording(
        await (force
          ? regenerateSummary(meetingId, recordingId, true)
          : regenerateSummary(meetingId, recordingId)),
      );
      setEditing(false);
    } catch (error) {
      setActionError(error);
    } finally {
      setRegenerating(false);
    }
  };

  /** Saves or approves the summary shown; a 412 means someone else changed it since it was read. */
  const changeSummary = async (change: (etag: string) => Promise<Summary>) => {
    if (summary.last === null) return;
    setSummaryError(null);
    setSummaryConflict(false);
    setChangingSummary(true);
    try {
      summary.replace(await change(summaryETag(summary.last)));
      setEditing(false);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) setSummaryConflict(true);
      else setSummaryError(error);
    } finally {
      setChangingSummary(false);
    }
  };

  const reloadSummary = () => {
    setSummaryConflict(false);
    setSummaryError(null);
    setEditing(false);
    setSummaryGeneration((n) => n + 1);
  };

  if (loadError !== null && recording === null) {
    return (
      <section>
        <Link to={`/meetings/${encodeURIComponent(meetingId)}`}>Back to meeting</Link>
        <Title2 as="h1">Recording</Title2>
        <ErrorMessage
          error={loadError}
          onRetry={() => {
            setTick((n) => n + 1);
          }}
        />
      </section>
    );
  }
  if (recording === null) return <Loading label="Loading the recording" />;

  const isOrganizer = meeting !== null && user !== null && meeting.organizerId === user.id;
  const playable = recording.status !== "awaiting_upload" && recording.status !== "recording";
  const done = recording.status === "completed";

  return (
    <article>
      <div className={styles.header}>
        <Link to={`/meetings/${encodeURIComponent(meetingId)}`}>Back to meeting</Link>
        <Title2 as="h1" className={styles.title}>
          {recording.fileName}
        </Title2>
        <Caption1 className={styles.meta}>
          {[
            recording.durationSeconds !== null ? formatTime(recording.durationSeconds) : null,
            formatBytes(recording.sizeBytes),
            recording.language !== null ? languageName(recording.language) : null,
            `added ${new Date(recording.createdAt).toLocaleString()} by ${recording.createdBy}`,
          ]
            .filter(Boolean)
            .join(" · ")}
        </Caption1>
      </div>

      {!done && (
        <div className={styles.status}>
          <Text weight="semibold">{statusLabel(recording.status)}</Text>
          {isProcessing(recording.status) && (
            <>
              <ProgressBar
                aria-label="Processing progress"
                aria-valuetext={stageText(recording.stage, recording.progress)}
                value={Math.min(1, Math.max(0, recording.progress))}
                thickness="large"
              />
              <Caption1>{stageText(recording.stage, recording.progress)}</Caption1>
            </>
          )}
          {recording.status === "awaiting_upload" && <Text>Waiting for the file to be uploaded.</Text>}
          {recording.status === "recording" && <Text>The meeting&apos;s call is being recorded.</Text>}
          {recording.status === "failed" && recording.error !== null && (
            <MessageBar intent="error" role="alert">
              <MessageBarBody>
                <MessageBarTitle>{errorText(recording.error.code)}</MessageBarTitle>
                {recording.error.detail}
              </MessageBarBody>
            </MessageBar>
          )}
          {recording.error?.code === "retrying" && isProcessing(recording.status) && (
            <Caption1 className={styles.meta}>
              {errorText("retrying")} ({recording.error.detail})
            </Caption1>
          )}
        </div>
      )}

      {actionError !== null && <ErrorMessage error={actionError} />}

      <div className={styles.layout}>
        <div className={styles.side}>
          {recording.sourceDeletedAt ? (
            // Retention deleted the audio (GET .../media would answer 410): say so instead of a player.
            <Text className={styles.meta} role="status">
              {sourceDeletedText(recording.sourceDeletedAt)}
            </Text>
          ) : playable ? (
            <RecordingPlayer
              meetingId={meetingId}
              recordingId={recordingId}
              contentType={recording.contentType}
              mediaRef={mediaRef}
              onTime={setTime}
              onPlayingChange={setPlaying}
              onReady={onPlayerReady}
            />
          ) : (
            <Text className={styles.meta}>The player appears once the file is here.</Text>
          )}
        </div>

        <div>
          <TabList
            selectedValue={tab}
            onTabSelect={(_, data) => {
              setTab(data.value === "summary" ? "summary" : "transcript");
            }}
          >
            <Tab value="transcript" id="tab-transcript">
              Transcript
            </Tab>
            <Tab value="summary" id="tab-summary">
              Summary
            </Tab>
          </TabList>

          {tab === "transcript" && (
            <div role="tabpanel" aria-labelledby="tab-transcript" className={styles.panel}>
              {transcript.last !== null ? (
                <>
                  <div className={styles.actions}>
                    {(["vtt", "srt", "txt", "json"] as const).map((format) => (
                      <Button
                        key={format}
                        size="small"
                        onClick={() => {
                          download({ kind: "transcript", format });
                        }}
                      >
                        Download {format.toUpperCase()}
                      </Button>
                    ))}
                  </div>
                  {isOrganizer && (
                    <SpeakerNaming
                      meetingId={meetingId}
                      recordingId={recordingId}
                      transcript={transcript.last}
                      names={names}
                      participants={meeting.participants}
                      onNamed={(named) => {
                        transcript.replace(named);
                        // The server wrote a summary version with the new name: read it.
                        setSummaryGeneration((n) => n + 1);
                      }}
                    />
                  )}
                  <TranscriptView
                    transcript={transcript.last}
                    names={names}
                    currentIndex={currentIndex}
                    following={playing}
                    revealIndex={revealIndex}
                    onSeek={seek}
                  />
                </>
              ) : (
                <NotYet
                  loaded={transcript.loaded}
                  what="transcript"
                  failed={recording.status === "failed"}
                  retry={() => {
                    setTick((n) => n + 1);
                  }}
                />
              )}
            </div>
          )}

          {tab === "summary" && (
            <div role="tabpanel" aria-labelledby="tab-summary" className={styles.panel}>
              {(isOrganizer || summary.last !== null) && (
                <div className={styles.actions}>
                  {isOrganizer && (
                    <Button
                      disabled={
                        regenerating ||
                        recording.status === "summarizing" ||
                        !artifacts.includes("transcript.json")
                      }
                      onClick={() => {
                        // A person's words are not replaced without asking (the versions are kept).
                        const reviewed =
                          summary.last !== null &&
                          (summary.last.editedBy != null || summary.last.approvedBy != null);
                        if (reviewed) setConfirmingRegenerate(true);
                        else void regenerate();
                      }}
                    >
                      Regenerate
                    </Button>
                  )}
                  {isOrganizer && summary.last !== null && !editing && (
                    <Button
                      disabled={changingSummary || recording.status === "summarizing"}
                      onClick={() => {
                        setSummaryError(null);
                        setSummaryConflict(false);
                        setEditing(true);
                      }}
                    >
                      Edit
                    </Button>
                  )}
                  {isOrganizer && summary.last !== null && !editing && summary.last.approvedBy == null && (
                    <Button
                      disabled={changingSummary || recording.status === "summarizing"}
                      onClick={() =>
                        void changeSummary((etag) => approveSummary(meetingId, recordingId, etag))
                      }
                    >
                      Approve
                    </Button>
                  )}
                  {summary.last !== null && artifacts.includes("summary.md") && (
                    <Button
                      onClick={() => {
                        download({ kind: "summary", format: "md" });
                      }}
                    >
                      Download Markdown
                    </Button>
                  )}
                </div>
              )}
              {recording.status === "summarizing" && summary.last !== null && (
                <MessageBar intent="info">
                  <MessageBarBody>
                    A new summary is being made. Until it is ready, this is the previous one.
                  </MessageBarBody>
                </MessageBar>
              )}
              {summaryConflict && (
                <MessageBar intent="warning" role="alert">
                  <MessageBarBody>
                    <MessageBarTitle>Someone else changed the summary</MessageBarTitle>
                    Reload it to see their version{editing ? " (your changes here are lost)" : ""}.
                  </MessageBarBody>
                  <MessageBarActions>
                    <Button onClick={reloadSummary}>Reload summary</Button>
                  </MessageBarActions>
                </MessageBar>
              )}
              {summaryError !== null && <ErrorMessage error={summaryError} />}
              {summary.last !== null && editing ? (
                <SummaryEditor
                  summary={summary.last}
                  saving={changingSummary}
                  onSave={(body: SummaryEdit) =>
                    void changeSummary((etag) => saveSummary(meetingId, recordingId, body, etag))
                  }
                  onCancel={() => {
                    setEditing(false);
                    setSummaryError(null);
                    setSummaryConflict(false);
                  }}
                />
              ) : summary.last !== null ? (
                <>
                  <SummaryView summary={summary.last} onSeek={seek} people={people} />
                  <SummaryVersions
                    meetingId={meetingId}
                    recordingId={recordingId}
                    current={summary.last.version}
                    people={people}
                  />
                </>
              ) : (
                <NotYet
                  loaded={summary.loaded}
                  what="summary"
                  failed={recording.status === "failed"}
                  retry={() => {
                    setTick((n) => n + 1);
                  }}
                />
              )}
            </div>
          )}
        </div>
      </div>
      <Dialog
        open={confirmingRegenerate}
        onOpenChange={(_, data) => {
          setConfirmingRegenerate(data.open);
        }}
      >
        <DialogSurface>
          <DialogBody>
            <DialogTitle>Regenerate the summary?</DialogTitle>
            <DialogContent>
              A person edited or approved this summary. A new one replaces it; the earlier versions are kept.
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={() => void regenerate(true)}>
                Regenerate anyway
              </Button>
              <Button
                onClick={() => {
                  setConfirmingRegenerate(false);
                }}
              >
                Cancel
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </article>
  );
}

/** "en" -> "English", in the user's language; the code itself where the browser cannot name it. */
function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(undefined, { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function NotYet<T>({
  loaded,
  what,
  failed,
  retry,
}: {
  loaded: Loaded<T>;
  what: string;
  failed: boolean;
  retry: () => void;
}) {
  if (loaded.state === "error") return <ErrorMessage error={loaded.error} onRetry={retry} />;
  if (loaded.state === "loading") return <Spinner size="small" label={`Loading the ${what}`} />;
  if (failed) return <Text>There is no {what}: processing failed.</Text>;
  return (
    <Text>The {what} is not ready yet. It appears here when it is; this page checks every few seconds.</Text>
  );
}
