// The signed-in user's one live connection: @azure/web-pubsub-client on the URL negotiate answers. This
// module (and the SDK with it) is loaded after the first page has rendered (LiveProvider.tsx).
import { WebPubSubClient, WebPubSubJsonProtocol } from "@azure/web-pubsub-client";

import type { LiveHub } from "./hub";

/** What connect() needs of the client: the SDK's WebPubSubClient, or a fake in tests. */
export interface LiveClient {
  on(event: "connected" | "disconnected" | "stopped", listener: () => void): void;
  on(event: "group-message" | "server-message", listener: (e: { message: { data: unknown } }) => void): void;
  start(): Promise<void>;
  stop(): void;
}

export type ClientFactory = (getClientAccessUrl: () => Promise<string>) => LiveClient;

/** After the client gives up reconnecting (or never connected): the next try from scratch. */
export const RESTART_MS = [2_000, 5_000, 10_000, 20_000, 30_000];

export const sdkClient: ClientFactory = (getClientAccessUrl) =>
  new WebPubSubClient(
    { getClientAccessUrl },
    {
      // The plain protocol, not the reliable one: a dropped connection shows at once as "reconnecting"
      // (pages poll meanwhile) instead of up to 30 s of silent recovery, and the pages re-read what they
      // show when the connection is back, which covers what a recovery would have replayed.
      protocol: WebPubSubJsonProtocol(),
      autoReconnect: true,
      // A few quick tries (each negotiates again: the URL's token lives 15 minutes), then "offline" and
      // connect()'s own slower retries.
      reconnectRetryOptions: { maxRetries: 3, retryDelayInMs: 1_000, mode: "Fixed" },
    },
  );

/**
 * Connects and keeps connecting until stopped: events go to `hub.deliver`, the connection's state to
 * `hub.setStatus`. Returns the function that stops it all (sign-out, unmount).
 */
export function connect(
  hub: LiveHub,
  negotiate: () => Promise<string>,
  makeClient: ClientFactory = sdkClient,
): () => void {
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let client: LiveClient | null = null;

  const restartLater = () => {
    if (stopped) return;
    hub.setStatus("offline");
    const wait = RESTART_MS[Math.min(failures, RESTART_MS.length - 1)] ?? 30_000;
    failures += 1;
    timer = setTimeout(start, wait);
  };

  function start(): void {
    if (stopped) return;
    const current = makeClient(negotiate);
    client = current;
    current.on("connected", () => {
      if (stopped || client !== current) return;
      failures = 0;
      hub.setStatus("connected");
    });
    current.on("disconnected", () => {
      if (!stopped && client === current) hub.setStatus("reconnecting");
    });
    // The client gave up: a new one, later (a new negotiate, new groups: meetings added meanwhile).
    current.on("stopped", () => {
      if (client === current) restartLater();
    });
    const deliver = (e: { message: { data: unknown } }) => {
      if (!stopped && client === current) hub.deliver(e.message.data);
    };
    current.on("group-message", deliver);
    current.on("server-message", deliver);
    current.start().catch(() => {
      // The first connection failed (negotiate refused, no realtime configured, network): no "stopped"
      // comes for a client that never started.
      if (client === current) {
        client = null;
        restartLater();
      }
    });
  }

  start();
  return () => {
    stopped = true;
    clearTimeout(timer);
    const current = client;
    client = null;
    current?.stop();
  };
}
