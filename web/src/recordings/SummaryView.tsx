// The summary: overview, key points, decisions, action items (owner, task, due), chapters that seek the
// player, open questions; what made it and when.
import {
  Caption1,
  makeStyles,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Subtitle1,
  Text,
  tokens,
} from "@fluentui/react-components";
import type { ReactNode } from "react";

import { formatTime } from "./format";
import type { Summary } from "./recordingApi";

const useStyles = makeStyles({
  section: { marginBlock: tokens.spacingVerticalL },
  // Fluent's Text is inline whatever its element: headings and paragraphs here are blocks.
  heading: { display: "block", marginBottom: tokens.spacingVerticalS },
  block: { display: "block" },
  none: { display: "block", color: tokens.colorNeutralForeground3 },
  list: { marginBlock: tokens.spacingVerticalS, paddingInlineStart: tokens.spacingHorizontalXXL },
  chapters: { listStyleType: "none", padding: 0, margin: 0 },
  chapter: {
    display: "grid",
    gridTemplateColumns: "4.5em minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalS,
    width: "100%",
    textAlign: "start",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalS}`,
    border: "none",
    backgroundColor: "transparent",
    color: tokens.colorNeutralForeground1,
    font: "inherit",
    cursor: "pointer",
    borderRadius: tokens.borderRadiusMedium,
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":focus-visible": { outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}` },
  },
  chapterTime: { color: tokens.colorNeutralForeground3, fontVariantNumeric: "tabular-nums" },
  chapterTitle: { fontWeight: tokens.fontWeightSemibold },
  chapterSummary: { gridColumn: 2, color: tokens.colorNeutralForeground2 },
  meta: { display: "block", color: tokens.colorNeutralForeground3 },
  said: {
    marginInlineStart: tokens.spacingHorizontalXS,
    padding: `0 ${tokens.spacingHorizontalXS}`,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: "transparent",
    color: tokens.colorBrandForeground1,
    font: "inherit",
    fontSize: tokens.fontSizeBase200,
    fontVariantNumeric: "tabular-nums",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":focus-visible": { outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}` },
  },
  unverified: {
    marginInlineStart: tokens.spacingHorizontalS,
    color: tokens.colorPaletteDarkOrangeForeground1,
    fontSize: tokens.fontSizeBase200,
  },
});

/** "2026-12-10" as the user's calendar says it; anything else ("next week") as it was said. */
export function dueText(due: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(due);
  if (match === null) return due;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(date.getTime())) return due;
  return date.toLocaleDateString(undefined, {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
  });
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  const styles = useStyles();
  return (
    <section className={styles.section}>
      <Subtitle1 as="h2" className={styles.heading}>
        {title}
      </Subtitle1>
      {children}
    </section>
  );
}

type Evidenced = Summary["decisions"][number];

/**
 * Where an item was said: a button per span that plays the recording from there (the quote as its
 * description), and a plain warning when the server could not find the item's quote in the transcript.
 */
export function EvidenceLinks({
  item,
  onSeek,
}: {
  item: Pick<Evidenced, "evidence" | "unverified">;
  onSeek: (seconds: number) => void;
}) {
  const styles = useStyles();
  return (
    <>
      {item.evidence.map((span, i) => (
        <button
          key={i}
          type="button"
          className={styles.said}
          title={`“${span.quote}”${span.speaker ? ` (${span.speaker})` : ""}`}
          aria-label={`Play from ${formatTime(span.start)}: “${span.quote}”`}
          onClick={() => {
            onSeek(span.start);
          }}
        >
          {formatTime(span.start)}
        </button>
      ))}
      {item.unverified && <span className={styles.unverified}>not found in the transcript</span>}
    </>
  );
}

function Items({
  items,
  empty,
  onSeek,
}: {
  items: readonly Evidenced[];
  empty: string;
  onSeek: (seconds: number) => void;
}) {
  const styles = useStyles();
  if (items.length === 0) return <Text className={styles.none}>{empty}</Text>;
  return (
    <ul className={styles.list}>
      {items.map((item, i) => (
        <li key={i}>
          {item.text} <EvidenceLinks item={item} onSeek={onSeek} />
        </li>
      ))}
    </ul>
  );
}

/** "Approved by Alice on 12/7/2026" / "Edited by Alice": who stands behind these words, if anyone. */
export function reviewText(summary: Summary, people: ReadonlyMap<string, string> = new Map()): string[] {
  const who = (id: string) => people.get(id) ?? id;
  const lines: string[] = [];
  if (summary.approvedBy != null) {
    const at = summary.approvedAt == null ? null : new Date(summary.approvedAt);
    const on = at === null || Number.isNaN(at.getTime()) ? "" : ` on ${at.toLocaleDateString()}`;
    lines.push(`Approved by ${who(summary.approvedBy)}${on}`);
  }
  if (summary.editedBy != null) lines.push(`Edited by ${who(summary.editedBy)}`);
  return lines;
}

export function SummaryView({
  summary,
  onSeek,
  people,
}: {
  summary: Summary;
  onSeek: (seconds: number) => void;
  /** User id -> display name, for who edited or approved it. */
  people?: ReadonlyMap<string, string>;
}) {
  const styles = useStyles();
  const generated = new Date(summary.generatedAt);
  const review = reviewText(summary, people);
  return (
    <div>
      {review.length > 0 && (
        <Text as="p" weight="semibold" className={styles.block}>
          {review.join(" · ")}
        </Text>
      )}
      <Section title="Overview">
        <Text as="p" className={styles.block}>
          {summary.overview || "No overview."}
        </Text>
      </Section>
      <Section title="Key points">
        <Items items={summary.keyPoints} empty="No key points." onSeek={onSeek} />
      </Section>
      <Section title="Decisions">
        <Items items={summary.decisions} empty="No decisions were recorded." onSeek={onSeek} />
      </Section>
      <Section title="Action items">
        {summary.actionItems.length === 0 ? (
          <Text className={styles.none}>No action items.</Text>
        ) : (
          <Table aria-label="Action items" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Owner</TableHeaderCell>
                <TableHeaderCell>Task</TableHeaderCell>
                <TableHeaderCell>Due</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {summary.actionItems.map((item, i) => (
                <TableRow key={i}>
                  <TableCell>{item.owner ?? <span className={styles.none}>Unassigned</span>}</TableCell>
                  <TableCell>
                    {item.task} <EvidenceLinks item={item} onSeek={onSeek} />
                  </TableCell>
                  <TableCell>
                    {item.due !== null ? (
                      <time dateTime={item.due}>{dueText(item.due)}</time>
                    ) : (
                      <span className={styles.none}>No date</span>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </Section>
      <Section title="Chapters">
        {summary.chapters.length === 0 ? (
          <Text className={styles.none}>No chapters.</Text>
        ) : (
          <ol className={styles.chapters}>
            {summary.chapters.map((chapter, i) => (
              <li key={i}>
                <button
                  type="button"
                  className={styles.chapter}
                  onClick={() => {
                    onSeek(chapter.start);
                  }}
                >
                  <span className={styles.chapterTime}>{formatTime(chapter.start)}</span>
                  <span className={styles.chapterTitle}>{chapter.title}</span>
                  {chapter.summary !== "" && <span className={styles.chapterSummary}>{chapter.summary}</span>}
                </button>
              </li>
            ))}
          </ol>
        )}
      </Section>
      <Section title="Open questions">
        <Items items={summary.openQuestions} empty="No open questions." onSeek={onSeek} />
      </Section>
      <Caption1 as="p" className={styles.meta}>
        Made by {summary.model}
        {Number.isNaN(generated.getTime()) ? "" : ` on ${generated.toLocaleString()}`}. Summaries can be
        wrong: check against the transcript.
      </Caption1>
    </div>
  );
}
