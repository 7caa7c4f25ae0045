// The live channel for React: one connection per signed-in user (LiveProvider), and the hooks the pages
// use: useMeetingEvents (a meeting's events, or every meeting's), useLiveStatus, useLivePolling (poll
// only while the connection is down) and useOnReconnect (read again what may have been missed).
//
// Only this file and hub.ts are in the first page's code: the Web PubSub client (connection.ts) is
// imported after the first page has rendered.
import {
  createContext,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from "react";

import { api } from "../api/client";
import { call } from "../api/errors";
import { LiveHub, type LiveHandler, type LiveStatus } from "./hub";

/** Starts the connection feeding `hub`; returns what stops it. Replaceable in tests (a fake client). */
export type StartLive = (hub: LiveHub, negotiate: () => Promise<string>) => Promise<() => void>;

async function negotiate(): Promise<string> {
  const { data } = await call(api.GET("/realtime/negotiate"));
  return data.url;
}

const startSdk: StartLive = async (hub, getUrl) => {
  const { connect } = await import("./connection");
  return connect(hub, getUrl);
};

// Without a provider (a page rendered alone in a test) nothing connects: pages see "offline" and poll.
const offlineHub = new LiveHub();
offlineHub.setStatus("offline");

const LiveContext = createContext<LiveHub>(offlineHub);

/**
 * The signed-in user's connection: started after the first render (so the first page does not wait for
 * the SDK), stopped at sign-out or when the user changes. `hub` and `start` are for tests.
 */
export function LiveProvider({
  userId,
  children,
  hub: given,
  start = startSdk,
}: {
  userId: string;
  children: ReactNode;
  hub?: LiveHub;
  start?: StartLive;
}) {
  const [own] = useState(() => new LiveHub());
  const hub = given ?? own;

  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    hub.reset();
    // After the page has painted: the SDK's chunk and the WebSocket never delay what the user came for.
    const timer = setTimeout(() => {
      start(hub, negotiate).then(
        (stopIt) => {
          if (cancelled) stopIt();
          else stop = stopIt;
        },
        () => {
          // The chunk did not load (a new deployment, the network): pages poll.
          if (!cancelled) hub.setStatus("offline");
        },
      );
    }, 0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      stop?.();
    };
  }, [hub, start, userId]);

  return <LiveContext.Provider value={hub}>{children}</LiveContext.Provider>;
}

export function useLiveHub(): LiveHub {
  return useContext(LiveContext);
}

export function useLiveStatus(): LiveStatus {
  const hub = useLiveHub();
  return useSyncExternalStore(
    (listener) => hub.onStatus(listener),
    () => hub.status,
  );
}

/** Whether a page should poll: only while events cannot arrive. */
export function useLivePolling(): boolean {
  return useLiveStatus() !== "connected";
}

/**
 * `handler` gets each event of `meetingId` once (ALL_MEETINGS: of every meeting); null: none. The latest
 * handler is called, so it may close over the page's current state without resubscribing.
 */
export function useMeetingEvents(meetingId: string | null, handler: LiveHandler): void {
  const hub = useLiveHub();
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    if (meetingId === null) return;
    return hub.subscribe(meetingId, (event) => {
      latest.current(event);
    });
  }, [hub, meetingId]);
}

/**
 * Calls `reread` each time the connection comes up after the page was shown: events published while it
 * was down (or before it first connected) never arrive, so what the page shows is read again.
 */
export function useOnReconnect(reread: () => void): void {
  const hub = useLiveHub();
  const count = useSyncExternalStore(
    (listener) => hub.onStatus(listener),
    () => hub.connectedCount,
  );
  const seen = useRef(count);
  const latest = useRef(reread);
  useEffect(() => {
    latest.current = reread;
  });
  useEffect(() => {
    if (count === seen.current) return;
    seen.current = count;
    // 0: the hub was reset (another user); their first connection re-reads.
    if (count > 0) latest.current();
  }, [count]);
}
