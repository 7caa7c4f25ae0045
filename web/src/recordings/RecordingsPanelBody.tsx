// The recordings panel's content, loaded after the meeting page (RecordingsPanel.tsx is the light shell).
import {
  Button,
  Caption1,
  Checkbox,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  makeStyles,
  mergeClasses,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Field,
  ProgressBar,
  Select,
  Spinner,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link } from "react-router-dom";

import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { useLivePolling, useMeetingEvents, useOnReconnect } from "../live/LiveProvider";
import { channelsOf, duplicateSpeaker, MAX_CHANNELS, participantLabel } from "./channelSpeakers";
import { formatBytes, formatTime } from "./format";
import {
  createRecording,
  deleteRecording,
  getRecording,
  listRecordings,
  renewUpload,
  type CreateRecordingBody,
  type Recording,
} from "./recordingApi";
import { newerVersion, recordingChange } from "./liveUpdates";
import type { RecordingsPanelProps } from "./RecordingsPanel";
import { errorText, isProcessing, POLL_MS, stageText, statusLabel, uploadAgainHelps } from "./statusText";
import { acceptAttribute, checkFile, contentTypeFor, formatNames, uploadRules } from "./uploadRules";
import { failUpload, forgetUpload, getUpload, sendFile, useUploads, type LocalUpload } from "./uploadStore";

/** A call being recorded changes rarely: its list is read less often. */
const SLOW_POLL_MS = 10_000;

const useStyles = makeStyles({
  dropZone: {
    display: "flex",
    alignItems: "center",
    flexWrap: "wrap",
    gap: tokens.spacingHorizontalM,
    padding: tokens.spacingHorizontalL,
    border: `${tokens.strokeWidthThick} dashed ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusLarge,
    marginBlock: tokens.spacingVerticalM,
  },
  dragging: {
    border: `${tokens.strokeWidthThick} dashed ${tokens.colorBrandStroke1}`,
    backgroundColor: tokens.colorBrandBackground2,
  },
  list: { listStyleType: "none", padding: 0, margin: 0 },
  item: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    paddingBlock: tokens.spacingVerticalM,
    borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  row: { display: "flex", alignItems: "center", flexWrap: "wrap", gap: tokens.spacingHorizontalM },
  name: { fontWeight: tokens.fontWeightSemibold, overflowWrap: "anywhere" },
  spacer: { flexGrow: 1 },
  progress: { maxWidth: "32rem" },
  detail: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  failed: { color: tokens.colorPaletteRedForeground1, fontWeight: tokens.fontWeightSemibold },
  channelChoice: { display: "block", marginBlockEnd: tokens.spacingVerticalS },
  channels: {
    display: "grid",
    gridTemplateColumns: "repeat(auto-fill, minmax(12rem, 1fr))",
    gap: tokens.spacingHorizontalM,
    marginBlockEnd: tokens.spacingVerticalM,
  },
});

interface Problem {
  id: number;
  text: string;
}

/** The meeting's recordings: upload (file picker or drop), progress, status until done, delete. */
export default function RecordingsPanelBody({
  meetingId,
  canUpload,
  canManage,
  participants = [],
}: RecordingsPanelProps) {
  const styles = useStyles();
  const { config, user } = useAuth();
  const rules = useMemo(() => uploadRules(config), [config]);
  const [recordings, setRecordings] = useState<Recording[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [dragging, setDragging] = useState(false);
  // An unmixed recording (one participant a channel, as ACS records them): who speaks on which channel.
  const [perChannel, setPerChannel] = useState(false);
  const [speakers, setSpeakers] = useState<(string | null)[]>(() =>
    Array<string | null>(MAX_CHANNELS).fill(null),
  );
  const [toDelete, setToDelete] = useState<Recording | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const fileInput = useRef<HTMLInputElement>(null);
  const againInput = useRef<HTMLInputElement>(null);
  const againFor = useRef<Recording | null>(null);
  const problemId = useRef(0);
  const allUploads = useUploads();
  const uploads = useMemo(
    () => new Map(allUploads.filter((u) => u.meetingId === meetingId).map((u) => [u.recordingId, u])),
    [allUploads, meetingId],
  );

  const refresh = useCallback(() => {
    setTick((n) => n + 1);
  }, []);

  useEffect(() => {
    let live = true;
    listRecordings(meetingId).then(
      (items) => {
        if (!live) return;
        setRecordings(items);
        setLoadError(null);
      },
      (error: unknown) => {
        if (live) setLoadError(error);
      },
    );
    return () => {
      live = false;
    };
  }, [meetingId, tick]);

  // Live: what an event says is applied at once; a recording the list does not have yet is read. An
  // event arriving while that read is on its way may be newer than its answer: one more read follows.
  const versions = useRef(new Map<string, number>());
  const reading = useRef(new Map<string, boolean>());
  const read = (recordingId: string) => {
    if (reading.current.has(recordingId)) {
      reading.current.set(recordingId, true);
      return;
    }
    reading.current.set(recordingId, false);
    const done = () => {
      const again = reading.current.get(recordingId) === true;
      reading.current.delete(recordingId);
      if (again) read(recordingId);
    };
    getRecording(meetingId, recordingId).then(
      (fresh) => {
        setRecordings((list) =>
          list === null
            ? list
            : list.some((r) => r.id === fresh.id)
              ? list.map((r) => (r.id === fresh.id ? fresh : r))
              : [fresh, ...list],
        );
        done();
      },
      () => {
        // Deleted meanwhile, or the network: the next event or read shows it.
        reading.current.delete(recordingId);
      },
    );
  };
  useMeetingEvents(meetingId, (event) => {
    const change = recordingChange(event);
    if (change === null) return;
    const known = recordings?.some((r) => r.id === change.recordingId) ?? false;
    if (change.kind === "patch" && known && !reading.current.has(change.recordingId)) {
      if (!newerVersion(versions.current, change.recordingId, change.version)) return;
      setRecordings((list) => (list ?? []).map((r) => (r.id === change.recordingId ? change.apply(r) : r)));
      return;
    }
    read(change.recordingId);
  });
  // Back from a time without events: read the list again.
  useOnReconnect(refresh);
  const polling = useLivePolling();

  // While the live channel is down, poll while the server works on something: processing, a call being
  // recorded, or a file just sent that the blob trigger has not queued yet.
  const pollEvery = useMemo(() => {
    if (recordings === null || !polling) return null;
    const waiting = recordings.some(
      (r) =>
        isProcessing(r.status) || (r.status === "awaiting_upload" && uploads.get(r.id)?.state === "sent"),
    );
    if (waiting) return POLL_MS;
    return recordings.some((r) => r.status === "recording") ? SLOW_POLL_MS : null;
  }, [recordings, uploads, polling]);

  useEffect(() => {
    if (pollEvery === null || loadError !== null) return;
    const timer = setTimeout(refresh, pollEvery);
    return () => {
      clearTimeout(timer);
    };
  }, [pollEvery, loadError, recordings, refresh]);

  // Leaving the page (not the route: uploads go on meanwhile) would stop the bytes: the browser asks.
  const uploading = [...uploads.values()].some((u) => u.state === "uploading");
  useEffect(() => {
    if (!uploading) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => {
      window.removeEventListener("beforeunload", warn);
    };
  }, [uploading]);

  const report = (text: string) => {
    problemId.current += 1;
    const id = problemId.current;
    setProblems((list) => [...list, { id, text }]);
  };

  const upload = async (file: File) => {
    const verdict = checkFile(file, rules);
    if (!verdict.ok) {
      report(verdict.message);
      return;
    }
    const twice = perChannel ? duplicateSpeaker(speakers) : null;
    if (twice !== null) {
      report(
        `"${file.name}" was not uploaded: ${twice} is chosen for two channels; each person speaks on one.`,
      );
      return;
    }
    const channels = perChannel ? channelsOf(speakers) : [];
    let created;
    try {
      created = await createRecording(meetingId, {
        fileName: file.name,
        // One of the deployment's types (client-config); the server checks it against its own list.
        contentType: verdict.contentType as CreateRecordingBody["contentType"],
        sizeBytes: file.size,
        language: null, // detected from the audio
        ...(channels.length > 0 ? { channels } : {}),
      });
    } catch (error) {
      report(`"${file.name}" could not be uploaded: ${errorMessage(error)}`);
      return;
    }
    const { upload: target, ...recording } = created;
    setRecordings((list) => [recording, ...(list ?? []).filter((r) => r.id !== recording.id)]);
    await sendFile(meetingId, recording.id, target, file);
    if (getUpload(recording.id)?.state === "sent") refresh();
  };

  const uploadFiles = (files: FileList | null) => {
    if (files === null || files.length === 0) return;
    setProblems([]);
    for (const file of Array.from(files)) void upload(file);
  };

  /** A new URL and the file again: the one still in memory, or one the user chooses now. */
  const tryAgain = async (recording: Recording, chosen?: File) => {
    const file = chosen ?? getUpload(recording.id)?.file ?? null;
    if (file === null) {
      againFor.current = recording;
      againInput.current?.click();
      return;
    }
    try {
      const renewed = await renewUpload(meetingId, recording.id);
      await sendFile(meetingId, recording.id, renewed.upload, file);
    } catch (error) {
      failUpload(meetingId, recording.id, file, error);
      return;
    }
    if (getUpload(recording.id)?.state === "sent") refresh();
  };

  const chosenAgain = (files: FileList | null) => {
    const recording = againFor.current;
    const file = files?.[0];
    againFor.current = null;
    if (recording === null || file === undefined) return;
    const verdict = checkFile(file, rules);
    if (!verdict.ok) {
      report(verdict.message);
      return;
    }
    // The upload URL is signed for the recording's declared type: another format is another recording.
    if (contentTypeFor(file, [recording.contentType]) === null) {
      report(
        `"${file.name}" is not a ${formatNames([recording.contentType])} file like "${recording.fileName}": ` +
          "choose the same recording again, or upload this one as a new recording.",
      );
      return;
    }
    void tryAgain(recording, file);
  };

  const confirmDelete = async () => {
    if (toDelete === null) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      getUpload(toDelete.id)?.cancel?.();
      await deleteRecording(meetingId, toDelete.id);
      forgetUpload(toDelete.id);
      setRecordings((list) => (list ?? []).filter((r) => r.id !== toDelete.id));
      setToDelete(null);
      refresh();
    } catch (error) {
      setDeleteError(error);
    } finally {
      setDeleting(false);
    }
  };

  const onDrag = (event: DragEvent<HTMLDivElement>, over: boolean) => {
    event.preventDefault();
    if (over) event.dataTransfer.dropEffect = "copy";
    setDragging(over);
  };

  return (
    <>
      {canUpload && (
        <div
          className={mergeClasses(styles.dropZone, dragging && styles.dragging)}
          onDragEnter={(e) => {
            onDrag(e, true);
          }}
          onDragOver={(e) => {
            onDrag(e, true);
          }}
          onDragLeave={(e) => {
            // Leaving for a child of the zone is not leaving the zone.
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) onDrag(e, false);
          }}
          onDrop={(e) => {
            onDrag(e, false);
            uploadFiles(e.dataTransfer.files);
          }}
        >
          <Button appearance="primary" onClick={() => fileInput.current?.click()}>
            Upload recording
          </Button>
          <Text>or drop a file here</Text>
          <Caption1 className={styles.detail}>
            {formatNames(rules.contentTypes)}, up to {formatBytes(rules.maxBytes)}
          </Caption1>
          <input
            ref={fileInput}
            type="file"
            aria-label="Recording file"
            accept={acceptAttribute(rules.contentTypes)}
            multiple
            style={{ display: "none" }}
            onChange={(e) => {
              uploadFiles(e.currentTarget.files);
              e.currentTarget.value = "";
            }}
          />
          <input
            ref={againInput}
            type="file"
            aria-label="Choose the file again"
            accept={acceptAttribute(rules.contentTypes)}
            style={{ display: "none" }}
            onChange={(e) => {
              chosenAgain(e.currentTarget.files);
              e.currentTarget.value = "";
            }}
          />
        </div>
      )}

      {canUpload && (
        <div className={styles.channelChoice}>
          <Checkbox
            label="One speaker per channel"
            checked={perChannel}
            onChange={(_, data) => {
              setPerChannel(data.checked === true);
            }}
          />
          {perChannel && (
            <div className={styles.channels}>
              {speakers.map((userId, index) => (
                <Field key={index} label={`Channel ${index + 1} speaker`}>
                  <Select
                    value={userId ?? ""}
                    onChange={(_, data) => {
                      setSpeakers((list) => list.map((u, i) => (i === index ? data.value || null : u)));
                    }}
                  >
                    <option value="">(nobody)</option>
                    {participants.map((p) => (
                      <option key={p.userId} value={p.userId}>
                        {participantLabel(p)}
                      </option>
                    ))}
                  </Select>
                </Field>
              ))}
            </div>
          )}
        </div>
      )}

      {problems.map((problem) => (
        <MessageBar key={problem.id} intent="error" role="alert">
          <MessageBarBody>{problem.text}</MessageBarBody>
          <MessageBarActions>
            <Button
              appearance="transparent"
              onClick={() => {
                setProblems((list) => list.filter((p) => p.id !== problem.id));
              }}
            >
              Dismiss
            </Button>
          </MessageBarActions>
        </MessageBar>
      ))}

      {loadError !== null && <ErrorMessage error={loadError} onRetry={refresh} />}

      {recordings === null && loadError === null && <Spinner size="small" label="Loading recordings" />}
      {recordings !== null && recordings.length === 0 && <Text>No recordings yet.</Text>}
      {recordings !== null && recordings.length > 0 && (
        <ul className={styles.list}>
          {recordings.map((recording) => (
            <RecordingItem
              key={recording.id}
              recording={recording}
              meetingId={meetingId}
              local={uploads.get(recording.id)}
              canUpload={canUpload}
              canManage={canManage}
              mine={recording.createdBy === user?.id}
              onTryAgain={() => void tryAgain(recording)}
              onDelete={() => {
                setDeleteError(null);
                setToDelete(recording);
              }}
            />
          ))}
        </ul>
      )}

      <Dialog
        open={toDelete !== null}
        onOpenChange={(_, data) => {
          if (!data.open && !deleting) setToDelete(null);
        }}
      >
        <DialogSurface>
          <DialogBody>
            <DialogTitle>Delete this recording?</DialogTitle>
            <DialogContent>
              <p>
                &ldquo;{toDelete?.fileName}&rdquo;, its transcript and its summary will be deleted for
                everyone. This cannot be undone.
              </p>
              {deleteError !== null && <ErrorMessage error={deleteError} />}
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" disabled={deleting} onClick={() => void confirmDelete()}>
                Delete recording
              </Button>
              <Button
                disabled={deleting}
                onClick={() => {
                  setToDelete(null);
                }}
              >
                Keep it
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </>
  );
}

interface ItemProps {
  recording: Recording;
  meetingId: string;
  local: LocalUpload | undefined;
  canUpload: boolean;
  canManage: boolean;
  /** Uploaded by the signed-in user: an upload they left half way may be taken up again. */
  mine: boolean;
  onTryAgain: () => void;
  onDelete: () => void;
}

function RecordingItem({
  recording,
  meetingId,
  local,
  canUpload,
  canManage,
  mine,
  onTryAgain,
  onDelete,
}: ItemProps) {
  const styles = useStyles();
  const { id, fileName, status, error } = recording;
  const uploadingHere = local?.state === "uploading";
  const uploadFailedHere = local?.state === "failed" && (status === "awaiting_upload" || status === "failed");
  // An upload this user started and left (a reload, a closed tab): nothing is on its way any more.
  const abandoned = status === "awaiting_upload" && local === undefined && mine;
  const serverFailed = status === "failed" && error !== null && !uploadFailedHere;
  const offerRetry =
    canUpload && (uploadFailedHere || abandoned || (serverFailed && uploadAgainHelps(error.code)));
  const label = uploadingHere ? "Uploading" : statusLabel(status);
  const detailId = `recording-${id}-detail`;

  return (
    <li className={styles.item} aria-describedby={detailId}>
      <div className={styles.row}>
        <Link
          to={`/meetings/${encodeURIComponent(meetingId)}/recordings/${encodeURIComponent(id)}`}
          className={styles.name}
        >
          {fileName}
        </Link>
        <Text className={status === "failed" && !uploadingHere ? styles.failed : undefined}>{label}</Text>
        {isProcessing(status) && (
          <Caption1 className={styles.detail}>{stageText(recording.stage, recording.progress)}</Caption1>
        )}
        <Caption1 className={styles.detail}>
          {[
            recording.durationSeconds !== null ? formatTime(recording.durationSeconds) : null,
            formatBytes(recording.sizeBytes),
            `added ${new Date(recording.createdAt).toLocaleString()} by ${recording.createdBy}`,
          ]
            .filter(Boolean)
            .join(" · ")}
        </Caption1>
        <div className={styles.spacer} />
        {canManage && (
          <Button appearance="subtle" aria-label={`Delete ${fileName}`} onClick={onDelete}>
            Delete
          </Button>
        )}
      </div>

      {uploadingHere && (
        <div className={styles.row}>
          <ProgressBar
            className={styles.progress}
            style={{ flexGrow: 1 }}
            aria-label="Upload progress"
            aria-valuetext={`${Math.floor((local.loaded / Math.max(1, local.total)) * 100)}%`}
            value={local.total > 0 ? local.loaded / local.total : 0}
            thickness="large"
          />
          <Caption1>
            {formatBytes(local.loaded)} of {formatBytes(local.total)}
          </Caption1>
          <Button size="small" onClick={() => local.cancel?.()}>
            Cancel upload
          </Button>
        </div>
      )}

      <div id={detailId}>
        {uploadFailedHere && (
          <Text>
            {local.error}
            {local.detail !== null && <Caption1 className={styles.detail}> ({local.detail})</Caption1>}
          </Text>
        )}
        {serverFailed && (
          <Text>
            {errorText(error.code)} <Caption1 className={styles.detail}>{error.detail}</Caption1>
          </Text>
        )}
        {abandoned && !offerRetry && <Caption1 className={styles.detail}>The file was never sent.</Caption1>}
        {abandoned && offerRetry && (
          <Caption1 className={styles.detail}>
            The upload did not finish: choose the file again to send it.
          </Caption1>
        )}
      </div>
      {offerRetry && (
        <div className={styles.row}>
          <Button onClick={onTryAgain}>Try again</Button>
        </div>
      )}
    </li>
  );
}
