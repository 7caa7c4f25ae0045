// The search page (`/search?q=`): what was said in any of the user's meetings, hits grouped by meeting
// (under its title), each a link to the recording at that moment; "Load more" pages on.
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
        // The meeting's title as it is now (every hit carries it).
        const title = group.hits[0]?.meetingTitle ?? group.meetingId;
        const id = `search-meeting-${group.meetingId}`;
        return (
          <section key={group.meetingId} className={styles.group} aria-labelledby={id}>
            <Title3 as="h2" block id={id}>
              <Link to={`/meetings/${encodeURIComponent(group.meetingId)}`} className={styles.meetingLink}>
                {title}
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
