// The recordings panel the meeting page embeds. The heading is here at once; the list, the upload and
// its dialogs load as their own chunk, so the first page a user sees does not carry them.
import { makeStyles, Spinner, Title3, tokens } from "@fluentui/react-components";
import { lazy, Suspense } from "react";

import type { Participant } from "./channelSpeakers";

export interface RecordingsPanelProps {
  meetingId: string;
  /** Organizer and presenters may upload and record. */
  canUpload: boolean;
  /** The organizer may delete recordings and regenerate summaries. */
  canManage: boolean;
  /** The meeting's participants: who may be named as the speaker of a channel of an unmixed recording. */
  participants?: Participant[];
}

const RecordingsPanelBody = lazy(() => import("./RecordingsPanelBody"));

const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL },
  heading: { display: "block" },
});

export function RecordingsPanel(props: RecordingsPanelProps) {
  const styles = useStyles();
  const headingId = `recordings-${props.meetingId}`;
  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <Title3 as="h2" id={headingId} className={styles.heading}>
        Recordings
      </Title3>
      <Suspense fallback={<Spinner size="small" label="Loading recordings" />}>
        <RecordingsPanelBody {...props} />
      </Suspense>
    </section>
  );
}
