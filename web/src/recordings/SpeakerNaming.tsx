// Naming the speakers a diarizing model told apart (organizer): a button per unnamed speaker opening a
// dialog that picks a participant or takes a name; the transcript the server answers replaces the shown one.
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
  makeStyles,
  Select,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useState, type FormEvent } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import {
  nameSpeaker,
  type Meeting,
  type NameSpeakerBody,
  type Speaker,
  type Transcript,
} from "./recordingApi";

const useStyles = makeStyles({
  list: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "center",
    gap: tokens.spacingHorizontalS,
    marginBlock: tokens.spacingVerticalS,
    listStyleType: "none",
    padding: 0,
  },
  item: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalXS },
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
});

/** Speakers known neither by a participant nor by a name: the ones worth naming. */
export function unnamedSpeakers(speakers: readonly Speaker[]): Speaker[] {
  return speakers.filter((s) => s.userId == null && !s.displayName?.trim());
}

/** What the dialog sends: the participant if one is picked, else the typed name; null when neither. */
export function namingBody(userId: string, displayName: string): NameSpeakerBody | null {
  if (userId !== "") return { userId };
  const name = displayName.trim();
  return name === "" ? null : { displayName: name };
}

export interface SpeakerNamingProps {
  meetingId: string;
  recordingId: string;
  transcript: Transcript;
  names: ReadonlyMap<string, string>;
  participants: Meeting["participants"];
  onNamed: (transcript: Transcript) => void;
}

export function SpeakerNaming({
  meetingId,
  recordingId,
  transcript,
  names,
  participants,
  onNamed,
}: SpeakerNamingProps) {
  const styles = useStyles();
  const speakers = unnamedSpeakers(transcript.speakers);
  if (speakers.length === 0) return null;
  return (
    <ul className={styles.list} aria-label="Unnamed speakers">
      {speakers.map((speaker) => (
        <li key={speaker.id} className={styles.item}>
          <NameSpeakerDialog
            meetingId={meetingId}
            recordingId={recordingId}
            speakerId={speaker.id}
            label={names.get(speaker.id) ?? speaker.id}
            participants={participants}
            onNamed={onNamed}
          />
        </li>
      ))}
    </ul>
  );
}

function NameSpeakerDialog({
  meetingId,
  recordingId,
  speakerId,
  label,
  participants,
  onNamed,
}: {
  meetingId: string;
  recordingId: string;
  speakerId: string;
  label: string;
  participants: Meeting["participants"];
  onNamed: (transcript: Transcript) => void;
}) {
  const styles = useStyles();
  const [open, setOpen] = useState(false);
  const [userId, setUserId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [saving, setSaving] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = namingBody(userId, displayName);
    setError(null);
    setMissing(body === null);
    if (body === null) return;
    setSaving(true);
    try {
      const named = await nameSpeaker(meetingId, recordingId, speakerId, body);
      setOpen(false);
      onNamed(named);
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <Text>{label}</Text>
      <Button
        size="small"
        onClick={() => {
          setUserId("");
          setDisplayName("");
          setError(null);
          setMissing(false);
          setOpen(true);
        }}
      >
        Name {label}
      </Button>
      <Dialog
        open={open}
        onOpenChange={(_, data) => {
          setOpen(data.open);
        }}
      >
        <DialogSurface>
          <form onSubmit={(event) => void submit(event)}>
            <DialogBody>
              <DialogTitle>Name {label}</DialogTitle>
              <DialogContent className={styles.form}>
                <Field label="Participant">
                  <Select
                    value={userId}
                    onChange={(_, data) => {
                      setUserId(data.value);
                    }}
                  >
                    <option value="">Not a participant</option>
                    {participants.map((p) => (
                      <option key={p.userId} value={p.userId}>
                        {p.displayName ?? p.userId}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field
                  label="Display name"
                  hint="Used when no participant is chosen."
                  validationMessage={missing ? "Choose a participant or type a name." : undefined}
                >
                  <Input
                    value={displayName}
                    maxLength={100}
                    disabled={userId !== ""}
                    onChange={(_, data) => {
                      setDisplayName(data.value);
                    }}
                  />
                </Field>
                {error !== null && <ErrorMessage error={error} />}
              </DialogContent>
              <DialogActions>
                <Button type="submit" appearance="primary" disabled={saving}>
                  Save
                </Button>
                <Button
                  onClick={() => {
                    setOpen(false);
                  }}
                >
                  Cancel
                </Button>
              </DialogActions>
            </DialogBody>
          </form>
        </DialogSurface>
      </Dialog>
    </>
  );
}
