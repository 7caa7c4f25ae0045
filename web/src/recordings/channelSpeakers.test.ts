import { describe, expect, it } from "vitest";

import { channelsOf, duplicateSpeaker, participantLabel } from "./channelSpeakers";

describe("channelsOf", () => {
  it("numbers channels from 0 and leaves out the channels nobody speaks on", () => {
    expect(channelsOf(["alice", null, "bob", "", null])).toEqual([
      { channel: 0, userId: "alice" },
      { channel: 2, userId: "bob" },
    ]);
  });

  it("sends nothing when no channel is assigned", () => {
    expect(channelsOf([null, null])).toEqual([]);
  });
});

describe("duplicateSpeaker", () => {
  it("finds a person chosen for two channels", () => {
    expect(duplicateSpeaker(["alice", "bob", "alice"])).toBe("alice");
    expect(duplicateSpeaker(["alice", null, null, "bob"])).toBeNull();
  });
});

describe("participantLabel", () => {
  it("names a participant by display name and id, or id alone", () => {
    expect(participantLabel({ userId: "bob", displayName: "Bob Builder", role: "attendee" })).toBe(
      "Bob Builder (bob)",
    );
    expect(participantLabel({ userId: "alice", displayName: null, role: "presenter" })).toBe("alice");
  });
});
