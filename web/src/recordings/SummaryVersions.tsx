// The summary's versions (who made each and how), read when opened and again when the summary changes.
import {
  Button,
  makeStyles,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  tokens,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";

import { ErrorMessage } from "../components/ErrorMessage";
import { listSummaryVersions, type SummaryVersion } from "./recordingApi";

const useStyles = makeStyles({ box: { marginBlock: tokens.spacingVerticalM } });

const KIND_TEXT: Record<SummaryVersion["kind"], string> = {
  generated: "Generated",
  edited: "Edited",
  approved: "Approved",
  speakers: "Speakers named",
};

export function SummaryVersions({
  meetingId,
  recordingId,
  current,
  people,
}: {
  meetingId: string;
  recordingId: string;
  /** The version shown: the list is read again when it changes. */
  current: number;
  people: ReadonlyMap<string, string>;
}) {
  const styles = useStyles();
  const [open, setOpen] = useState(false);
  const [versions, setVersions] = useState<SummaryVersion[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!open) return;
    let live = true;
    listSummaryVersions(meetingId, recordingId).then(
      (items) => {
        if (!live) return;
        setVersions(items);
        setError(null);
      },
      (failure: unknown) => {
        if (live) setError(failure);
      },
    );
    return () => {
      live = false;
    };
  }, [open, meetingId, recordingId, current]);

  return (
    <div className={styles.box}>
      <Button
        appearance="subtle"
        aria-expanded={open}
        onClick={() => {
          setOpen((value) => !value);
        }}
      >
        Versions
      </Button>
      {open && error !== null && <ErrorMessage error={error} />}
      {open && error === null && versions === null && <Spinner size="tiny" label="Loading the versions" />}
      {open && versions !== null && (
        <Table size="small" aria-label="Summary versions">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Version</TableHeaderCell>
              <TableHeaderCell>Kind</TableHeaderCell>
              <TableHeaderCell>By</TableHeaderCell>
              <TableHeaderCell>At</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {[...versions].reverse().map((v) => (
              <TableRow key={v.version}>
                <TableCell>
                  {v.version}
                  {v.version === current ? " (shown)" : ""}
                </TableCell>
                <TableCell>{KIND_TEXT[v.kind]}</TableCell>
                <TableCell>{v.by === null ? "Summarizer" : (people.get(v.by) ?? v.by)}</TableCell>
                <TableCell>{new Date(v.at).toLocaleString()}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}
