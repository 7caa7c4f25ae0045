// The transcript beside the player: a line per segment (a button that seeks there), the line being
// played marked aria-current and kept in view without taking focus, and find-in-transcript.
import { Caption1, Field, Input, makeStyles, mergeClasses, Text, tokens } from "@fluentui/react-components";
import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";

import { formatTime, spokenTime } from "./format";
import type { Transcript } from "./recordingApi";
import { highlightParts, matchCountText, searchLines, type Range } from "./search";

/** After the user scrolls the transcript, following playback waits this long not to pull it away. */
const USER_SCROLL_PAUSE_MS = 5_000;
/** How long the scroll events of a smooth scroll the page started keep coming. */
const OWN_SCROLL_MS = 1_000;

const useStyles = makeStyles({
  search: { display: "flex", alignItems: "end", gap: tokens.spacingHorizontalM, flexWrap: "wrap" },
  count: { color: tokens.colorNeutralForeground3, paddingBottom: tokens.spacingVerticalSNudge },
  scroller: {
    marginTop: tokens.spacingVerticalM,
    overflowY: "auto",
    maxHeight: "60vh",
    position: "relative",
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    "@media (min-width: 960px)": { maxHeight: "calc(100vh - 260px)" },
  },
  list: { listStyleType: "none", margin: 0, padding: 0 },
  line: {
    display: "grid",
    gridTemplateColumns: "4.5em minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalS,
    width: "100%",
    textAlign: "start",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    border: "none",
    borderLeft: `${tokens.strokeWidthThickest} solid transparent`,
    backgroundColor: "transparent",
    color: tokens.colorNeutralForeground1,
    font: "inherit",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":focus-visible": {
      outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}`,
      outlineOffset: "-2px",
    },
  },
  current: {
    backgroundColor: tokens.colorBrandBackground2,
    borderLeft: `${tokens.strokeWidthThickest} solid ${tokens.colorBrandStroke1}`,
    ":hover": { backgroundColor: tokens.colorBrandBackground2Hover },
  },
  time: { color: tokens.colorNeutralForeground3, fontVariantNumeric: "tabular-nums", gridRow: "1 / span 2" },
  speaker: { fontWeight: tokens.fontWeightSemibold },
  text: { gridColumn: 2 },
  mark: { backgroundColor: tokens.colorPaletteYellowBackground3, color: "inherit", borderRadius: "2px" },
  empty: { display: "block", padding: tokens.spacingHorizontalM },
});

export interface TranscriptViewProps {
  transcript: Transcript;
  /** Speaker id -> name shown (see speakers.ts). */
  names: ReadonlyMap<string, string>;
  /** The segment being played, -1 for none. */
  currentIndex: number;
  /** Whether the player plays: the current line is followed only then (a paused reader scrolls freely). */
  following: boolean;
  /** A line to bring into view once (the page was opened at its time), -1 for none. */
  revealIndex?: number;
  onSeek: (seconds: number) => void;
}

export function TranscriptView({
  transcript,
  names,
  currentIndex,
  following,
  revealIndex = -1,
  onSeek,
}: TranscriptViewProps) {
  const styles = useStyles();
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);
  const scroller = useRef<HTMLDivElement>(null);
  const lastUserScroll = useRef(0);
  const ownScrollUntil = useRef(0);

  const texts = useMemo(() => transcript.segments.map((s) => s.text), [transcript]);
  const { ranges, total } = useMemo(() => searchLines(texts, deferredQuery), [texts, deferredQuery]);
  const searching = deferredQuery.trim() !== "";

  // Keep the line being played in view, inside the transcript's own scroll box: the page does not jump
  // and focus stays where the user left it.
  useEffect(() => {
    const box = scroller.current;
    if (!following || currentIndex < 0 || box === null) return;
    if (Date.now() - lastUserScroll.current < USER_SCROLL_PAUSE_MS) return;
    const line = box.querySelector<HTMLElement>(`[data-index="${currentIndex}"]`);
    if (line !== null) reveal(box, line, ownScrollUntil);
  }, [currentIndex, following]);

  // The line the page was opened at: in view in the transcript, and the transcript in view in the page.
  useEffect(() => {
    const box = scroller.current;
    if (revealIndex < 0 || box === null) return;
    const line = box.querySelector<HTMLElement>(`[data-index="${revealIndex}"]`);
    if (line === null) return;
    // (jsdom has no scrollIntoView: tests go without.)
    if ("scrollIntoView" in box) box.scrollIntoView({ block: "nearest" });
    reveal(box, line, ownScrollUntil);
  }, [revealIndex]);

  // The first match comes into view as the user types.
  useEffect(() => {
    const box = scroller.current;
    if (!searching || box === null) return;
    const first = ranges.findIndex((r) => r.length > 0);
    const line = first < 0 ? null : box.querySelector<HTMLElement>(`[data-index="${first}"]`);
    if (line !== null) reveal(box, line, ownScrollUntil);
  }, [ranges, searching]);

  return (
    <div>
      <div className={styles.search}>
        <Field label="Find in transcript" style={{ flexGrow: 1, maxWidth: "24rem" }}>
          <Input
            type="search"
            value={query}
            onChange={(_, data) => {
              setQuery(data.value);
            }}
          />
        </Field>
        <Text className={styles.count} aria-live="polite">
          {searching ? matchCountText(total) : ""}
        </Text>
      </div>
      <div
        ref={scroller}
        className={styles.scroller}
        onScroll={() => {
          // A scroll the page itself started (following, a match) is not the user reading elsewhere.
          if (Date.now() > ownScrollUntil.current) lastUserScroll.current = Date.now();
        }}
      >
        {transcript.segments.length === 0 ? (
          <Text className={styles.empty}>No speech was found in this recording.</Text>
        ) : (
          <ol className={styles.list} aria-label="Transcript">
            {transcript.segments.map((segment, index) => (
              <Line
                key={index}
                index={index}
                start={segment.start}
                speaker={segment.speaker == null ? null : (names.get(segment.speaker) ?? null)}
                text={segment.text}
                ranges={ranges[index] ?? NO_RANGES}
                current={index === currentIndex}
                onSeek={onSeek}
              />
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}

const NO_RANGES: Range[] = [];

/** Scrolls `box` so `line` shows a third of the way down, if it is not in view already. */
function reveal(box: HTMLElement, line: HTMLElement, ownScrollUntil: { current: number }) {
  // offsetTop is relative to the box: it is the lines' positioned ancestor.
  const top = line.offsetTop;
  const bottom = top + line.offsetHeight;
  if (top >= box.scrollTop && bottom <= box.scrollTop + box.clientHeight) return;
  ownScrollUntil.current = Date.now() + OWN_SCROLL_MS;
  box.scrollTo({ top: Math.max(0, top - box.clientHeight / 3), behavior: "smooth" });
}

interface LineProps {
  index: number;
  start: number;
  speaker: string | null;
  text: string;
  ranges: readonly Range[];
  current: boolean;
  onSeek: (seconds: number) => void;
}

// Memoized: playback changes the current line a few times a second; only two lines re-render for it.
const Line = memo(function Line({ index, start, speaker, text, ranges, current, onSeek }: LineProps) {
  const styles = useStyles();
  return (
    <li>
      <button
        type="button"
        data-index={index}
        className={mergeClasses(styles.line, current && styles.current)}
        aria-current={current ? "true" : undefined}
        onClick={() => {
          onSeek(start);
        }}
      >
        <Caption1 className={styles.time}>
          <time dateTime={`PT${Math.floor(start)}S`} title={spokenTime(start)}>
            {formatTime(start)}
          </time>
        </Caption1>{" "}
        {/* The spaces keep the button's accessible name "0:05 Bob hello..." (whitespace is no grid item). */}
        {speaker !== null && (
          <>
            <span className={styles.speaker}>{speaker}</span>{" "}
          </>
        )}
        <span className={styles.text}>
          {highlightParts(text, ranges).map((part, i) =>
            part.match ? (
              <mark key={i} className={styles.mark}>
                {part.text}
              </mark>
            ) : (
              <span key={i}>{part.text}</span>
            ),
          )}
        </span>
      </button>
    </li>
  );
});
