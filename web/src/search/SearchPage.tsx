// The search page (`/search?q=`): first the user's meetings whose title holds the words ("Meetings", each a
// link to the meeting), then what was said in any of them, hits grouped by meeting (under its title), each
// a link to the recording at that moment; "Load more" pages on.
import { Badge, Caption1, makeStyles, Text, Title2, Title3, tokens } from "@fluentui/react-components";
import { Fragment, useCallback, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { ErrorMessage } from "../components/ErrorMessage";
import { LoadMore } from "../components/LoadMore";
import { Loading } from "../components/Loading";
import { formatRange } from "../lib/time";
import { useLoad } from "../lib/useLoad";
import { formatTime } from "../recordings/format";
import {
  groupByMeeting,
  recordingAt,
  searchMeetings,
  snippetParts,
  type SearchHit,
  type SearchResults,
  type TitleHit,
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
  titled: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "baseline",
    columnGap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalXS} 0`,
  },
  when: { color: tokens.colorNeutralForeground3 },
});

const KIND_TEXT: Record<SearchHit["kind"], string> = { transcript: "Transcript", summary: "Summary" };

/** The snippet with its highlighted words as <mark>: text nodes only, whatever the snippet holds. */
export function Snippet({ hit, className }: { hit: SearchHit; className?: string }) {
  return <Marked text={hit.snippet} highlights={hit.highlights} className={className} />;
}

/** Text with its highlight ranges as <mark> elements: text nodes only, never HTML. */
function Marked({
  text,
  highlights,
  className,
}: {
  text: string;
  highlights: readonly unknown[];
  className?: string;
}) {
  const styles = useStyles();
  return (
    <span className={className}>
      {snippetParts(text, highlights).map((part, i) =>
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

/** The meetings whose title holds the words, most recent first: each a link to the meeting. */
function TitleHits({ meetings }: { meetings: readonly TitleHit[] }) {
  const styles = useStyles();
  const id = "search-meetings-by-title";
  return (
    <section className={styles.group} aria-labelledby={id}>
      <Title3 as="h2" block id={id}>
        Meetings
      </Title3>
      <ul className={styles.list} aria-labelledby={id}>
        {meetings.map((meeting) => (
          <li key={meeting.meetingId} className={styles.titled}>
            <Link to={`/meetings/${encodeURIComponent(meeting.meetingId)}`}>
              <Marked text={meeting.title} highlights={meeting.highlights} />
            </Link>
            <Text className={styles.when}>{formatRange(meeting.startsAt, meeting.endsAt)}</Text>
            {meeting.status === "cancelled" && (
              <Badge appearance="filled" color="danger">
                Cancelled
              </Badge>
            )}
          </li>
        ))}
      </ul>
    </section>
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
  // Only the first page names meetings by title (later ones carry none).
  const titled = data?.meetings ?? [];

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
  if (items.length === 0 && titled.length === 0) {
    return (
      <Text as="p" className={styles.empty}>
        No results for “{q}”
      </Text>
    );
  }
  return (
    <>
      {titled.length > 0 && <TitleHits meetings={titled} />}
      {items.length > 0 && (
        <Caption1 className={styles.summary}>
          {items.length} {items.length === 1 ? "result" : "results"}
          {token !== null ? " so far" : ""} in {groups.length} {groups.length === 1 ? "meeting" : "meetings"}
        </Caption1>
      )}
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
      <LoadMore hasMore={token !== null} loading={loadingMore} error={moreError} onMore={loadMore} />
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
