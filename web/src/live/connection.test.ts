import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { connect, RESTART_MS, type LiveClient } from "./connection";
import { LiveHub } from "./hub";

type Listener = (e: { message: { data: unknown } }) => void;

/** A stand-in for WebPubSubClient: the test fires its events. */
class FakeClient implements LiveClient {
  listeners = new Map<string, Listener[]>();
  stopped = false;
  constructor(
    readonly getUrl: () => Promise<string>,
    readonly startResult: Promise<void>,
  ) {}
  on(event: string, listener: Listener | (() => void)): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  start(): Promise<void> {
    return this.getUrl().then(() => this.startResult);
  }
  stop(): void {
    this.stopped = true;
  }
  fire(event: string, data?: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ message: { data } });
  }
}

const liveEvent = (id: string) => ({ id, type: "meeting.updated", time: "", meetingId: "m1", data: {} });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("connect", () => {
  it("reports the connection's state and delivers group and server messages", async () => {
    const hub = new LiveHub();
    const clients: FakeClient[] = [];
    const negotiate = vi.fn(() => Promise.resolve("ws://host/client/hubs/meetings?access_token=t"));
    connect(hub, negotiate, (getUrl) => {
      const client = new FakeClient(getUrl, Promise.resolve());
      clients.push(client);
      return client;
    });
    await vi.advanceTimersByTimeAsync(0);
    const client = clients[0];
    expect(negotiate).toHaveBeenCalledTimes(1);
    client?.fire("connected");
    expect(hub.status).toBe("connected");

    const seen: string[] = [];
    hub.subscribe("m1", (e) => seen.push(e.id));
    client?.fire("group-message", liveEvent("g1"));
    client?.fire("server-message", liveEvent("s1"));
    client?.fire("group-message", liveEvent("g1"));
    expect(seen).toEqual(["g1", "s1"]);

    client?.fire("disconnected");
    expect(hub.status).toBe("reconnecting");
    client?.fire("connected");
    expect(hub.status).toBe("connected");
    expect(hub.connectedCount).toBe(2);
  });

  it("goes offline when the client gives up, and starts a new one (a new negotiate) later", async () => {
    const hub = new LiveHub();
    const clients: FakeClient[] = [];
    const negotiate = vi.fn(() => Promise.resolve("ws://url"));
    connect(hub, negotiate, (getUrl) => {
      const client = new FakeClient(getUrl, Promise.resolve());
      clients.push(client);
      return client;
    });
    await vi.advanceTimersByTimeAsync(0);
    clients[0]?.fire("connected");
    clients[0]?.fire("disconnected");
    clients[0]?.fire("stopped");
    expect(hub.status).toBe("offline");
    await vi.advanceTimersByTimeAsync((RESTART_MS[0] ?? 0) - 1);
    expect(clients).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(clients).toHaveLength(2);
    expect(negotiate).toHaveBeenCalledTimes(2);
    clients[1]?.fire("connected");
    expect(hub.status).toBe("connected");
  });

  it("retries, more and more slowly, when it cannot connect at all", async () => {
    const hub = new LiveHub();
    let made = 0;
    connect(
      hub,
      () => Promise.reject(new Error("503")),
      (getUrl) => {
        made += 1;
        return new FakeClient(getUrl, Promise.resolve());
      },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.status).toBe("offline");
    await vi.advanceTimersByTimeAsync(RESTART_MS[0] ?? 0);
    expect(made).toBe(2);
    await vi.advanceTimersByTimeAsync(RESTART_MS[0] ?? 0);
    expect(made).toBe(2); // the second wait is longer
    await vi.advanceTimersByTimeAsync(RESTART_MS[1] ?? 0);
    expect(made).toBe(3);
  });

  it("stops the client and never restarts once stopped", async () => {
    const hub = new LiveHub();
    const clients: FakeClient[] = [];
    const stop = connect(
      hub,
      () => Promise.resolve("ws://url"),
      (getUrl) => {
        const client = new FakeClient(getUrl, Promise.resolve());
        clients.push(client);
        return client;
      },
    );
    await vi.advanceTimersByTimeAsync(0);
    clients[0]?.fire("connected");
    stop();
    expect(clients[0]?.stopped).toBe(true);
    clients[0]?.fire("stopped");
    clients[0]?.fire("group-message", liveEvent("late"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(clients).toHaveLength(1);
  });
});
