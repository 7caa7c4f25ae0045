import {
  Button,
  Card,
  CardHeader,
  Text,
  Title2,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";

import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { formatDateTime } from "../lib/time";
import { useLoad } from "../lib/useLoad";
import {
  answerRecordingNotice,
  getMeeting,
  joinMeeting,
  roleOf,
  type JoinInfo,
  type Meeting,
} from "../meetings/api";
import { CallRecordingControls } from "./CallRecordingControls";
import { LiveCaptions } from "./LiveCaptions";
import { createTokenRefresher, refreshDelay } from "./tokenRefresh";

// The ACS UI library is big: it loads only when this deployment makes real calls.
const AcsCall = lazy(() => import("./AcsCall"));

const useStyles = makeStyles({
  card: { maxWidth: "760px", marginTop: tokens.spacingVerticalL },
  facts: {
    display: "grid",
    gridTemplateColumns: "max-content 1fr",
    gap: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL}`,
    margin: 0,
  },
  term: { fontWeight: tokens.fontWeightSemibold },
  value: { margin: 0, fontFamily: tokens.fontFamilyMonospace, overflowWrap: "anywhere" },
  explain: { display: "grid", gap: tokens.spacingVerticalS },
  back: { display: "inline-block", marginTop: tokens.spacingVerticalM },
  answers: { display: "flex", gap: tokens.spacingHorizontalM },
});

// Default export: the route loads this page lazily.
export default function CallPage() {
  const { meetingId = "" } = useParams();
  const loadMeeting = useCallback(() => getMeeting(meetingId).then((v) => v.meeting), [meetingId]);
  const meeting = useLoad(loadMeeting);
  const loadJoin = useCallback(() => joinMeeting(meetingId), [meetingId]);
  const joined = useLoad(loadJoin);
  // The caller's answer to the recording notice, once given here (the join answer has the stored one).
  const [answered, setAnswered] = useState<boolean | null>(null);
  const styles = useStyles();
  const consent = joined.data?.consent;
  const mustAnswer = consent?.required === true && consent.accepted === null && answered === null;

  const title = meeting.data?.title;
  return (
    <>
      <Link to={`/meetings/${meetingId}`} className={styles.back}>
        Back to the meeting
      </Link>
      <Title2 as="h1" block>
        {title === undefined ? "Call" : `Call: ${title}`}
      </Title2>
      {meeting.error !== null && <ErrorMessage error={meeting.error} onRetry={meeting.reload} />}
      {joined.error !== null ? (
        <ErrorMessage error={joined.error} onRetry={retryable(joined.error) ? joined.reload : undefined} />
      ) : joined.data === undefined ? (
        <Loading label="Joining" />
      ) : mustAnswer ? (
        <RecordingNotice meetingId={meetingId} notice={consent.notice ?? ""} onAnswer={setAnswered} />
      ) : (
        <Call meetingId={meetingId} meeting={meeting.data} first={joined.data} />
      )}
    </>
  );
}

/** A lost connection or a call outside the room's window (409) may work later; 403/404 will not. */
function retryable(error: unknown): boolean {
  return !(error instanceof ApiError) || error.network || error.status === 409 || error.status >= 500;
}

function Call({
  meetingId,
  meeting,
  first,
}: {
  meetingId: string;
  meeting: Meeting | undefined;
  first: JoinInfo;
}) {
  const { config, user } = useAuth();
  const [latest, setLatest] = useState<JoinInfo>(first);
  const [refreshError, setRefreshError] = useState<unknown>(null);

  const refresher = useMemo(
    () =>
      createTokenRefresher(() => joinMeeting(meetingId), {
        initial: first,
        onJoined: (answer) => {
          setLatest(answer);
          setRefreshError(null);
        },
      }),
    [meetingId, first],
  );

  // Without the ACS UI library nothing else renews the token: join again before it expires.
  const local = config.calling !== "acs";
  useEffect(() => {
    if (!local) return;
    const timer = window.setTimeout(
      () => {
        refresher().catch(setRefreshError);
      },
      refreshDelay(Date.parse(latest.expiresOn), Date.now()),
    );
    return () => {
      window.clearTimeout(timer);
    };
  }, [local, latest.expiresOn, refresher]);

  const role = meeting !== undefined && user !== null ? roleOf(meeting, user.id) : latest.role;
  const presenter = role === "organizer" || role === "presenter";
  const displayName =
    meeting?.participants.find((p) => p.userId === user?.id)?.displayName ?? user?.name ?? user?.id ?? "";

  return (
    <>
      {refreshError !== null && <ErrorMessage error={refreshError} />}
      {local ? (
        <LocalCall joined={latest} />
      ) : (
        <Suspense fallback={<Loading label="Loading the call" />}>
          <AcsCall joined={first} displayName={displayName} refresher={refresher} />
        </Suspense>
      )}
      <LiveCaptions meetingId={meetingId} canControl={presenter} />
      {presenter && <CallRecordingControls meetingId={meetingId} />}
    </>
  );
}

/** The meeting records only with consent: the participant accepts or declines before entering the call. */
function RecordingNotice({
  meetingId,
  notice,
  onAnswer,
}: {
  meetingId: string;
  notice: string;
  onAnswer: (accepted: boolean) => void;
}) {
  const styles = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const answer = (accepted: boolean) => {
    setBusy(true);
    setError(null);
    answerRecordingNotice(meetingId, accepted)
      .then((stored) => {
        onAnswer(stored.accepted ?? accepted);
      })
      .catch((reason: unknown) => {
        setError(reason);
        setBusy(false);
      });
  };
  return (
    <Card className={styles.card} role="region" aria-label="Recording notice">
      <CardHeader
        header={
          <Title3 as="h2" block style={{ margin: 0 }}>
            Recording notice
          </Title3>
        }
      />
      <Text>{notice}</Text>
      {error !== null && <ErrorMessage error={error} />}
      <div className={styles.answers}>
        <Button
          appearance="primary"
          disabled={busy}
          onClick={() => {
            answer(true);
          }}
        >
          Accept
        </Button>
        <Button
          disabled={busy}
          onClick={() => {
            answer(false);
          }}
        >
          Decline
        </Button>
      </div>
    </Card>
  );
}

function LocalCall({ joined }: { joined: JoinInfo }) {
  const styles = useStyles();
  return (
    <Card className={styles.card}>
      <CardHeader
        header={
          <Title3 as="h2" block style={{ margin: 0 }}>
            Joined the meeting&apos;s room
          </Title3>
        }
      />
      <dl className={styles.facts}>
        <dt className={styles.term}>Room</dt>
        <dd className={styles.value}>{joined.roomId}</dd>
        <dt className={styles.term}>Role</dt>
        <dd className={styles.value}>{joined.role}</dd>
        <dt className={styles.term}>Token expires</dt>
        <dd className={styles.value}>{formatDateTime(joined.expiresOn)}</dd>
      </dl>
      <div className={styles.explain}>
        <Text weight="semibold">The call itself needs an Azure Communication Services resource.</Text>
        <Text>
          This server runs with the local stand-in for ACS: it makes rooms and tokens, so joining, roles and
          recording controls work, but no audio or video flows. To hold real calls, start the server with{" "}
          <code>COMMUNICATION=acs</code> and either <code>ACS_CONNECTION_STRING</code> (the resource&apos;s
          connection string) or <code>ACS_ENDPOINT</code> (with a managed identity or your{" "}
          <code>az login</code>); the README&apos;s section “Using a real ACS resource” has the steps. The
          token is renewed by joining again before it expires.
        </Text>
      </div>
    </Card>
  );
}
