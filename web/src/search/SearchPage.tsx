// The search page (`/search?q=`): what was said in any of the user's meetings, hits grouped by meeting
// (its title read once per meeting), each a link to the recording at that moment; "Load more" pages on.
import {
  Button,
  Caption1,
  makeStyles,
  Spinner,
  Text,
  Title2,
  Title3,
  tokens,
} from "@fluentui/react-components";
import { Fragment, useCallback, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { useLoad } from "../lib/useLoad";
import { getMeeting } from "../meetings/api";
import { formatTime } from "../recordings/format";
import {
  groupByMeeting,
  recordingAt,
  searchMeetings,
  snippetParts,
  type SearchHit,
  type SearchResults,
} from "./searchApi";

const useStyles = makeStyles({
  summary: { color: tokens.colorNeutralForeground3, display: "block", marginBottom: tokens.spacingVerticalL },
  group: { marginBlock: tokens.spacingVerticalL, "& h2": { margin: `0 0 ${tokens.spacingVerticalS}` } },
  meetingLink: { color: "inherit" },
  list: { listStyleType: "none", margin: 0, padding: 0, display: "grid", gap: "6px", maxWidth: "900px" },
  hit: {
    display: "grid",
    gridTemplateColumns: "4.5em minmax(0, 1fr)",
    columnGap: tokens.spacingHorizontalS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow2,
    color: tokens.colorNeutralForeground1,
    textDecoration: "none",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
    ":focus-visible": { outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}` },
  },
  time: { color: tokens.colorBrandForeground1, fontVariantNumeric: "tabular-nums", gridRow: "1 / span 2" },
  meta: { color: tokens.colorNeutralForeground3 },
  snippet: { gridColumn: 2 },
  mark: { backgroundColor: tokens.colorPaletteYellowBackground3, color: "inherit", borderRadius: "2px" },
  empty: { color: tokens.colorNeutralForeground3, display: "block" },
});

const KIND_TEXT: Record<SearchHit["kind"], string> = { transcript: "Transcript", summary: "Summary" };

/** The snippet with its highlighted words as <mark>: text nodes only, whatever the snippet holds. */
export function Snippet({ hit, className }: { hit: SearchHit; className?: string }) {
  const styles = useStyles();
  return (
    <span className={className}>
      {snippetParts(hit.snippet, hit.highlights).map((part, i) =>
        part.match ? (
          <mark key={i} className={styles.mark}>
            {part.text}
          </mark>
        ) : (
          // A text node, not a span: the link's accessible name keeps the spaces around a match.
          <Fragment key={i}>{part.text}</Fragment>
        ),
      )}
    </span>
  );
}

function Hit({ hit }: { hit: SearchHit }) {
  const styles = useStyles();
  return (
    <li>
      <Link to={recordingAt(hit.meetingId, hit.recordingId, hit.start)} className={styles.hit}>
        {hit.start === null ? (
          <span className={styles.time} />
        ) : (
          <time className={styles.time} dateTime={`PT${Math.floor(hit.start)}S`}>
            {formatTime(hit.start)}
          </time>
        )}{" "}
        {/* The spaces keep the link's accessible name "0:05 Transcript · Bob: ..." readable. */}
        <Caption1 className={styles.meta}>
          {KIND_TEXT[hit.kind]}
          {hit.speaker ? ` · ${hit.speaker}` : ""}
        </Caption1>{" "}
        <Snippet hit={hit} className={styles.snippet} />
      </Link>
    </li>
  );
}

/**
 * Meeting id -> title, for the meetings whose hits came without one: read once per meeting; null when it
 * cannot be read (the id is shown).
 */
function useMeetingTitles(meetingIds: readonly string[]): ReadonlyMap<string, string | null> {
  const [titles, setTitles] = useState<ReadonlyMap<string, string | null>>(new Map());
  const key = meetingIds.join("\n");
  useEffect(() => {
    let live = true;
    const wanted = key === "" ? [] : key.split("\n");
    for (const id of wanted) {
      if (titles.has(id)) continue;
      getMeeting(id).then(
        ({ meeting }) => {
          if (live) setTitles((previous) => new Map(previous).set(id, meeting.title));
        },
        () => {
          if (live) setTitles((previous) => new Map(previous).set(id, null));
        },
      );
    }
    return () => {
      live = false;
    };
    // `titles` is read, not followed: a title arriving must not ask for the others again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return titles;
}

function Results({ q }: { q: string }) {
  const styles = useStyles();
  const first = useCallback(() => searchMeetings(q), [q]);
  const { data, error, loading, reload } = useLoad<SearchResults>(first);
  // Later pages (the page is keyed by the query: a new query starts from its first page).
  const [more, setMore] = useState<{ items: SearchHit[]; token: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const items = useMemo(() => [...(data?.items ?? []), ...(more?.items ?? [])], [data, more]);
  const token = more === null ? (data?.continuationToken ?? null) : more.token;
  const groups = useMemo(() => groupByMeeting(items), [items]);
  const titles = useMeetingTitles(
    groups.filter((g) => !g.hits.some((h) => h.meetingTitle)).map((g) => g.meetingId),
  );

  const loadMore = () => {
    if (token === null) return;
    setLoadingMore(true);
    setMoreError(null);
    searchMeetings(q, token).then(
      (page) => {
        setMore((previous) => ({
          items: [...(previous?.items ?? []), ...page.items],
          token: page.continuationToken,
        }));
        setLoadingMore(false);
      },
      (e: unknown) => {
        setMoreError(e);
        setLoadingMore(false);
      },
    );
  };

  if (error !== null) {
    return (
      <ErrorMessage
        error={error}
        onRetry={() => {
          setMore(null);
          reload();
        }}
      />
    );
  }
  if (loading && data === undefined) return <Loading label="Searching" />;
  if (items.length === 0) {
    return (
      <Text as="p" className={styles.empty}>
        No results for “{q}”
      </Text>
    );
  }
  return (
    <>
      <Caption1 className={styles.summary}>
        {items.length} {items.length === 1 ? "result" : "results"}
        {token !== null ? " so far" : ""} in {groups.length} {groups.length === 1 ? "meeting" : "meetings"}
      </Caption1>
      {groups.map((group) => {
        const title = group.hits.find((h) => h.meetingTitle)?.meetingTitle ?? titles.get(group.meetingId);
        const id = `search-meeting-${group.meetingId}`;
        return (
          <section key={group.meetingId} className={styles.group} aria-labelledby={id}>
            <Title3 as="h2" block id={id}>
              <Link to={`/meetings/${encodeURIComponent(group.meetingId)}`} className={styles.meetingLink}>
                {title ?? (title === null ? `Meeting ${group.meetingId}` : "Meeting")}
              </Link>
            </Title3>
            <ul className={styles.list} aria-labelledby={id}>
              {group.hits.map((hit, i) => (
                <Hit key={`${hit.recordingId}-${hit.kind}-${hit.start}-${i}`} hit={hit} />
              ))}
            </ul>
          </section>
        );
      })}
      {moreError !== null && <ErrorMessage error={moreError} onRetry={loadMore} />}
      {token !== null && (
        <Button
          onClick={loadMore}
          disabled={loadingMore}
          icon={loadingMore ? <Spinner size="tiny" /> : undefined}
        >
          Load more
        </Button>
      )}
    </>
  );
}

export default function SearchPage() {
  const [params] = useSearchParams();
  const q = (params.get("q") ?? "").trim();
  useEffect(() => {
    document.title = q === "" ? "Search – video-signaling" : `${q} – Search – video-signaling`;
  }, [q]);
  return (
    <>
      <Title2 as="h1" block>
        Search
      </Title2>
      {q === "" ? (
        <Text as="p">Type what to look for in the search box above: words said in any of your meetings.</Text>
      ) : (
        <Results key={q} q={q} />
      )}
    </>
  );
}
