// The live channel's bookkeeping, without the Web PubSub client (connection.ts brings that, lazily): who
// listens to which meeting, which events were seen already, and how the connection is doing.
//
// Events are `{id, type, time, meetingId, data}` (README, "Live events"). Delivery is at least once and
// the same change keeps its id, so an id seen once is never handed out again.

export type LiveEventType =
  | "meeting.updated"
  | "meeting.cancelled"
  | "participant.added"
  | "participant.removed"
  | "recording.created"
  | "recording.status"
  | "transcript.ready"
  | "summary.ready"
  | "callRecording.state"
  | "caption";

export interface LiveEvent {
  id: string;
  type: LiveEventType | (string & {});
  time: string;
  meetingId: string;
  data: Record<string, unknown>;
}

/**
 * connecting: the first connection is being made; connected: events arrive; reconnecting: the connection
 * dropped and is being made again; offline: no connection and none being made (pages poll meanwhile).
 */
export type LiveStatus = "connected" | "connecting" | "reconnecting" | "offline";

export type LiveHandler = (event: LiveEvent) => void;

/** Subscribe to this to hear every meeting's events (the meetings list). */
export const ALL_MEETINGS = "*";

/** How many event ids are remembered: far more than arrive between two duplicates of one event. */
const SEEN_LIMIT = 2000;

/** What a message's data must look like to be an event; anything else is dropped. */
export function asLiveEvent(data: unknown): LiveEvent | null {
  if (typeof data === "string") {
    try {
      return asLiveEvent(JSON.parse(data) as unknown);
    } catch {
      return null;
    }
  }
  if (typeof data !== "object" || data === null) return null;
  const e = data as Partial<Record<keyof LiveEvent, unknown>>;
  if (typeof e.id !== "string" || typeof e.type !== "string" || typeof e.meetingId !== "string") return null;
  const body = typeof e.data === "object" && e.data !== null ? (e.data as Record<string, unknown>) : {};
  return {
    id: e.id,
    type: e.type,
    time: typeof e.time === "string" ? e.time : "",
    meetingId: e.meetingId,
    data: body,
  };
}

export class LiveHub {
  private readonly handlers = new Map<string, Set<LiveHandler>>();
  private readonly seen = new Set<string>();
  private readonly statusListeners = new Set<() => void>();
  private current: LiveStatus = "connecting";
  private connections = 0;

  get status(): LiveStatus {
    return this.current;
  }

  /** How many times the connection came up: a page re-reads when it grows (it may have missed events). */
  get connectedCount(): number {
    return this.connections;
  }

  /** `meetingId` or ALL_MEETINGS; returns the unsubscribe. */
  subscribe(meetingId: string, handler: LiveHandler): () => void {
    let set = this.handlers.get(meetingId);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(meetingId, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(meetingId) === set) this.handlers.delete(meetingId);
    };
  }

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  setStatus(status: LiveStatus): void {
    if (status === this.current) return;
    if (status === "connected") this.connections += 1;
    this.current = status;
    for (const listener of [...this.statusListeners]) listener();
  }

  /** A message from the connection (a group's or the server's): handed to the meeting's subscribers once. */
  deliver(data: unknown): void {
    const event = asLiveEvent(data);
    if (event === null || this.seen.has(event.id)) return;
    this.seen.add(event.id);
    if (this.seen.size > SEEN_LIMIT) {
      // A Set iterates in insertion order: the oldest id goes first.
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const targets = [
      ...(this.handlers.get(event.meetingId) ?? []),
      ...(this.handlers.get(ALL_MEETINGS) ?? []),
    ];
    for (const handler of targets) {
      try {
        handler(event);
      } catch (error) {
        // One page's bug must not keep the event from the others.
        console.error("live event handler failed", error);
      }
    }
  }

  /** Forget everything (sign-out): the next user starts afresh. */
  reset(): void {
    this.seen.clear();
    this.connections = 0;
    this.setStatus("connecting");
  }
}
