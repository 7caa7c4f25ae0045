import { Title3 } from "@fluentui/react-components";

export interface RecordingsPanelProps {
  meetingId: string;
  /** Organizer and presenters may upload and record. */
  canUpload: boolean;
  /** The organizer may delete recordings and regenerate summaries. */
  canManage: boolean;
}

// Placeholder of the scaffold: the recordings helper builds this panel (list, upload, progress).
export function RecordingsPanel({ meetingId }: RecordingsPanelProps) {
  return (
    <section aria-labelledby={`recordings-${meetingId}`}>
      <Title3 as="h2" id={`recordings-${meetingId}`}>
        Recordings
      </Title3>
    </section>
  );
}
