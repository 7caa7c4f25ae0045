import { describe, expect, it } from "vitest";

import {
  acceptAttribute,
  checkFile,
  contentTypeFor,
  DEFAULT_CONTENT_TYPES,
  DEFAULT_MAX_UPLOAD_BYTES,
  formatNames,
  uploadRules,
} from "./uploadRules";

const rules = uploadRules({});
const file = (name: string, type: string, size = 1000) => ({ name, type, size });

describe("uploadRules", () => {
  it("falls back to DESIGN's list and 4 GiB when client-config is silent", () => {
    expect(rules.contentTypes).toEqual(DEFAULT_CONTENT_TYPES);
    expect(rules.maxBytes).toBe(4 * 1024 ** 3);
    expect(uploadRules({ uploadContentTypes: [], maxUploadBytes: 0 }).maxBytes).toBe(
      DEFAULT_MAX_UPLOAD_BYTES,
    );
  });

  it("takes the deployment's list and limit when given", () => {
    const custom = uploadRules({ uploadContentTypes: ["Audio/WAV"], maxUploadBytes: 10 });
    expect(custom).toEqual({ contentTypes: ["audio/wav"], maxBytes: 10 });
  });
});

describe("contentTypeFor", () => {
  it.each([
    ["talk.wav", "audio/wav", "audio/wav"],
    ["talk.wav", "audio/x-wav", "audio/x-wav"],
    ["talk.wav", "audio/wave", "audio/wav"], // an alias
    ["talk.m4a", "audio/x-m4a", "audio/mp4"], // what Chrome and Windows report
    ["talk.m4a", "", "audio/mp4"], // no type at all: the extension decides
    ["talk.FLAC", "", "audio/flac"],
    ["talk.webm", "", "video/webm"],
    ["talk.webm", "audio/webm;codecs=opus", "audio/webm"], // parameters dropped
    ["talk.mp3", "audio/mp3", "audio/mpeg"],
    ["talk.opus", "", "audio/ogg"],
    ["talk.mp4", "application/octet-stream", "video/mp4"],
  ])("%s given as %j is declared %s", (name, type, expected) => {
    expect(contentTypeFor({ name, type }, DEFAULT_CONTENT_TYPES)).toBe(expected);
  });

  it("refuses what is no recording, and what the deployment does not take", () => {
    expect(contentTypeFor({ name: "notes.txt", type: "text/plain" }, DEFAULT_CONTENT_TYPES)).toBeNull();
    expect(contentTypeFor({ name: "noextension", type: "" }, DEFAULT_CONTENT_TYPES)).toBeNull();
    expect(contentTypeFor({ name: "talk.flac", type: "" }, ["audio/wav"])).toBeNull();
  });

  it("declares an audio-only WebM where only audio/webm is taken", () => {
    expect(contentTypeFor({ name: "talk.webm", type: "" }, ["audio/webm"])).toBe("audio/webm");
  });
});

describe("checkFile", () => {
  it("passes a recording with the content type to declare", () => {
    expect(checkFile(file("standup.m4a", ""), rules)).toEqual({ ok: true, contentType: "audio/mp4" });
  });

  it("names the file and the formats when the type is wrong", () => {
    const verdict = checkFile(file("notes.txt", "text/plain"), rules);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.message).toBe(
      '"notes.txt" is not a recording this app takes: choose an audio or video file (WAV, MP3, M4A, MP4, WebM, Ogg or FLAC).',
    );
  });

  it("names the file, its size and the limit when it is too big", () => {
    const verdict = checkFile(file("allday.wav", "audio/wav", 4 * 1024 ** 3 + 1), rules);
    expect(!verdict.ok && verdict.message).toBe(
      '"allday.wav" is over 4 GB: a recording can be at most 4 GB.',
    );
    const huge = checkFile(file("week.mp4", "video/mp4", 6 * 1024 ** 3), rules);
    expect(!huge.ok && huge.message).toBe('"week.mp4" is 6 GB: a recording can be at most 4 GB.');
    expect(checkFile(file("edge.wav", "audio/wav", 4 * 1024 ** 3), rules).ok).toBe(true);
  });

  it("refuses an empty file", () => {
    const verdict = checkFile(file("empty.wav", "audio/wav", 0), rules);
    expect(!verdict.ok && verdict.message).toMatch(/"empty.wav" is empty/);
  });
});

describe("formatNames and acceptAttribute", () => {
  it("lists each format once", () => {
    expect(formatNames(["audio/wav", "audio/x-wav", "audio/flac"])).toBe("WAV or FLAC");
    expect(formatNames(["audio/wav"])).toBe("WAV");
  });

  it("offers the types and their extensions to the file picker", () => {
    const accept = acceptAttribute(["audio/mp4", "audio/flac"]).split(",");
    expect(accept).toEqual(expect.arrayContaining(["audio/mp4", "audio/flac", ".m4a", ".flac"]));
    expect(accept).not.toContain(".wav");
  });
});
