import { describe, expect, it, vi } from "vitest";

import { ALL_MEETINGS, LiveHub, type LiveEvent } from "./hub";

function event(id: string, meetingId = "m1", type = "meeting.updated"): LiveEvent {
  return { id, type, time: "2030-01-01T00:00:00Z", meetingId, data: { title: id } };
}

describe("LiveHub", () => {
  it("hands an event to its meeting's subscribers once, however often it is delivered", () => {
    const hub = new LiveHub();
    const handler = vi.fn();
    hub.subscribe("m1", handler);
    hub.deliver(event("e1"));
    hub.deliver(event("e1"));
    hub.deliver(JSON.stringify(event("e1"))); // the same id as text: still a duplicate
    hub.deliver(event("e2"));
    expect(handler.mock.calls.map(([e]) => (e as LiveEvent).id)).toEqual(["e1", "e2"]);
  });

  it("dispatches by meeting, and every meeting's events to ALL_MEETINGS", () => {
    const hub = new LiveHub();
    const one = vi.fn();
    const two = vi.fn();
    const all = vi.fn();
    hub.subscribe("m1", one);
    hub.subscribe("m2", two);
    hub.subscribe(ALL_MEETINGS, all);
    hub.deliver(event("a", "m1"));
    hub.deliver(event("b", "m2"));
    expect(one.mock.calls.map(([e]) => (e as LiveEvent).id)).toEqual(["a"]);
    expect(two.mock.calls.map(([e]) => (e as LiveEvent).id)).toEqual(["b"]);
    expect(all.mock.calls.map(([e]) => (e as LiveEvent).id)).toEqual(["a", "b"]);
  });

  it("stops calling a handler once unsubscribed, and drops what is not an event", () => {
    const hub = new LiveHub();
    const handler = vi.fn();
    const unsubscribe = hub.subscribe("m1", handler);
    hub.deliver({ type: "meeting.updated", meetingId: "m1" }); // no id
    hub.deliver("not json");
    hub.deliver(null);
    unsubscribe();
    hub.deliver(event("e1"));
    expect(handler).not.toHaveBeenCalled();
  });

  it("keeps other subscribers served when one handler throws", () => {
    const hub = new LiveHub();
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const after = vi.fn();
    hub.subscribe("m1", () => {
      throw new Error("page bug");
    });
    hub.subscribe("m1", after);
    hub.deliver(event("e1"));
    expect(after).toHaveBeenCalledTimes(1);
    error.mockRestore();
  });

  it("counts the times the connection came up and tells status listeners", () => {
    const hub = new LiveHub();
    const listener = vi.fn();
    hub.onStatus(listener);
    expect(hub.status).toBe("connecting");
    hub.setStatus("connected");
    hub.setStatus("connected");
    hub.setStatus("reconnecting");
    hub.setStatus("connected");
    expect(hub.connectedCount).toBe(2);
    expect(listener).toHaveBeenCalledTimes(3);
    hub.reset();
    expect(hub.status).toBe("connecting");
    expect(hub.connectedCount).toBe(0);
  });
});
