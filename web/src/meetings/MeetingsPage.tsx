import { Badge, Caption1, Text, Title2, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { LoadMore } from "../components/LoadMore";
import { Loading } from "../components/Loading";
import { formatRange } from "../lib/time";
import { useLoad } from "../lib/useLoad";
import { ALL_MEETINGS } from "../live/hub";
import { useLivePolling, useMeetingEvents, useOnReconnect } from "../live/LiveProvider";
import { listMeetings, type MeetingSummary } from "./api";
import { applyToList, meetingChange } from "./liveUpdates";

/** While the live channel is down, the list is read again this often. */
export const LIST_POLL_MS = 5000;

const useStyles = makeStyles({
  top: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    gap: tokens.spacingHorizontalL,
  },
  newLink: {
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    borderRadius: tokens.borderRadiusMedium,
    textDecoration: "none",
    fontWeight: tokens.fontWeightSemibold,
    ":hover": { backgroundColor: tokens.colorBrandBackgroundHover },
  },
  section: { marginTop: tokens.spacingVerticalXXL, "& h2": { margin: `0 0 ${tokens.spacingVerticalS}` } },
  list: {
    listStyleType: "none",
    padding: 0,
    margin: `${tokens.spacingVerticalM} 0`,
    display: "grid",
    gap: "6px",
  },
  item: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "baseline",
    gap: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalL}`,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow2,
  },
  title: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400 },
  when: { color: tokens.colorNeutralForeground2 },
  empty: { color: tokens.colorNeutralForeground3 },
});

/** The continuation token binds `from` and `to`: every page of a list asks with the same ones. */
interface Query {
  from?: string;
  to?: string;
}

function MeetingSection({
  heading,
  query,
  keep,
  emptyText,
}: {
  heading: string;
  query: Query;
  keep: (meeting: MeetingSummary) => boolean;
  emptyText: string;
}) {
  const styles = useStyles();
  const userId = useAuth().user?.id;
  const first = useCallback(() => listMeetings(query), [query]);
  const { data, error, loading, reload, setData } = useLoad(first);
  const [more, setMore] = useState<{ items: MeetingSummary[]; token: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  // Live: a meeting changed in place, one the user was invited to appears, one they left goes.
  useMeetingEvents(ALL_MEETINGS, (event) => {
    const change = meetingChange(event, userId ?? "");
    if (change === null) return;
    const shown =
      (data?.items.some((m) => m.id === event.meetingId) ?? false) ||
      (more?.items.some((m) => m.id === event.meetingId) ?? false);
    if (change.kind === "invited" || (change.kind === "read" && event.data.userId === userId)) {
      reload();
      return;
    }
    if (change.kind === "patch" && !shown) {
      // Moved into this list's range (its end changed): read the list.
      const endsAt = typeof event.data.endsAt === "string" ? event.data.endsAt : null;
      if (endsAt !== null && keep({ endsAt } as MeetingSummary)) reload();
      return;
    }
    if (!shown || change.kind === "read") return;
    if (data !== undefined) setData({ ...data, items: applyToList(data.items, event.meetingId, change) });
    if (more !== null) setMore({ ...more, items: applyToList(more.items, event.meetingId, change) });
  });
  useOnReconnect(reload);
  const polling = useLivePolling();
  useEffect(() => {
    if (!polling || error !== null || loading) return;
    const timer = setTimeout(reload, LIST_POLL_MS);
    return () => {
      clearTimeout(timer);
    };
  }, [polling, error, loading, data, reload]);

  const token = more === null ? (data?.continuationToken ?? null) : more.token;
  const items = [...(data?.items ?? []), ...(more?.items ?? [])].filter(keep);
  const id = `meetings-${heading.toLowerCase()}`;

  const loadMore = () => {
    if (token === null) return;
    setLoadingMore(true);
    setMoreError(null);
    listMeetings({ ...query, continuationToken: token }).then(
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
  const retry = () => {
    setMore(null);
    setMoreError(null);
    reload();
  };

  return (
    <section className={styles.section} aria-labelledby={id}>
      <Title3 as="h2" block id={id}>
        {heading}
      </Title3>
      {error !== null ? (
        <ErrorMessage error={error} onRetry={retry} />
      ) : loading && data === undefined ? (
        <Loading label={`Loading ${heading.toLowerCase()} meetings`} />
      ) : (
        <>
          {items.length === 0 && token === null ? (
            <Text as="p" block className={styles.empty}>
              {emptyText}
            </Text>
          ) : (
            <ul className={styles.list} aria-labelledby={id}>
              {items.map((meeting) => (
                <li key={meeting.id} className={styles.item}>
                  <Link to={`/meetings/${meeting.id}`} className={styles.title}>
                    {meeting.title}
                  </Link>
                  <Text className={styles.when}>{formatRange(meeting.startsAt, meeting.endsAt)}</Text>
                  {meeting.status === "cancelled" ? (
                    <Badge appearance="filled" color="danger">
                      Cancelled
                    </Badge>
                  ) : (
                    <Caption1>Scheduled</Caption1>
                  )}
                  <Caption1>
                    {meeting.organizerId === userId ? "Organizer" : capitalise(meeting.role)}
                  </Caption1>
                </li>
              ))}
            </ul>
          )}
          <LoadMore hasMore={token !== null} loading={loadingMore} error={moreError} onMore={loadMore} />
        </>
      )}
    </section>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function MeetingsPage() {
  const styles = useStyles();
  // One "now" for the page's lifetime: the continuation tokens are bound to the query that made them.
  const [queries] = useState(() => {
    const now = new Date().toISOString();
    return { upcoming: { from: now }, past: { to: now }, now: Date.parse(now) };
  });
  const upcoming = useCallback((m: MeetingSummary) => Date.parse(m.endsAt) > queries.now, [queries.now]);
  const past = useCallback((m: MeetingSummary) => Date.parse(m.endsAt) <= queries.now, [queries.now]);

  return (
    <>
      <div className={styles.top}>
        <Title2 as="h1" block>
          Meetings
        </Title2>
        <Link to="/meetings/new" className={styles.newLink}>
          New meeting
        </Link>
      </div>
      <MeetingSection
        heading="Upcoming"
        query={queries.upcoming}
        keep={upcoming}
        emptyText="No upcoming meetings"
      />
      <MeetingSection heading="Past" query={queries.past} keep={past} emptyText="No past meetings" />
    </>
  );
}
