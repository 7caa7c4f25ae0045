// A fake live client for page tests (never imported by the app): a LiveHub the test drives, in place of
// the Web PubSub connection. `status` says how it is; `deliver` is an event arriving.
import type { ReactNode } from "react";

import { LiveHub, type LiveEvent, type LiveStatus } from "./hub";
import { LiveProvider, type StartLive } from "./LiveProvider";

export interface FakeLive {
  hub: LiveHub;
  status: (status: LiveStatus) => void;
  deliver: (event: Partial<LiveEvent> & Pick<LiveEvent, "type" | "data">) => void;
  Wrapper: (props: { children: ReactNode }) => ReactNode;
}

let nextId = 0;

/** `connected`: the connection comes up as soon as the provider starts it (as the real one would). */
export function fakeLive({ connected = true, userId = "alice" } = {}): FakeLive {
  const hub = new LiveHub();
  const start: StartLive = (started) => {
    if (connected) started.setStatus("connected");
    return Promise.resolve(() => undefined);
  };
  return {
    hub,
    status: (status) => {
      hub.setStatus(status);
    },
    deliver: (event) => {
      nextId += 1;
      hub.deliver({ id: `event-${nextId}`, time: "2030-01-01T00:00:00Z", meetingId: "m1", ...event });
    },
    Wrapper: ({ children }) => (
      <LiveProvider userId={userId} hub={hub} start={start}>
        {children}
      </LiveProvider>
    ),
  };
}
