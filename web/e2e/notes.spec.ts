// Issue 18's notes in the browser, on one completed recording shared by the file's tests (made once, through
// the API, in beforeAll: the upload flow itself is meeting-to-notes' subject): evidence buttons seek the
// player; the speakers are the unmixed channels' participants by name (nothing left to name); the organizer
// edits the summary, approves it and reads its versions; the header's search finds a word of the
// transcript and opens the recording at that moment, and the meeting by its title; asking the meeting
// answers with sources that play.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { request, type APIRequestContext, type Locator, type Page } from "@playwright/test";

import { checkAccessibility, expect, screenshot, signIn, test } from "./support/fixtures";
import { makeTwoVoiceRecording } from "./support/recording";
import { expectOneH1 } from "./support/ui";

interface Span {
  start: number;
  end: number;
  quote: string;
}
interface Item {
  evidence: Span[];
  unverified: boolean;
}
interface Transcript {
  speakers: { id: string; userId: string | null; displayName: string | null }[];
  segments: { start: number; end: number; speaker: string | null; text: string }[];
}
interface Summary {
  overview: string;
  keyPoints: Item[];
  decisions: Item[];
  actionItems: Item[];
  chapters: Item[];
  openQuestions: Item[];
  version: number;
}

const BOB_NAME = "Bob Builder";
// As in meeting-to-notes: the local pipeline may wait for its queue trigger's backoff, then ~20 s.
const PROCESSING_TIMEOUT_MS = 240_000;

let alice: APIRequestContext;
let meetingId = "";
let recordingId = "";
let title = "";
let transcript: Transcript;
let summary: Summary;

// The tests share the recording and change its summary in turn: one after the other, in this order.
test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(PROCESSING_TIMEOUT_MS + 60_000);
  const baseURL = process.env.E2E_BASE_URL;
  if (!baseURL) throw new Error("E2E_BASE_URL is not set: run the tests through playwright.config.ts");
  alice = await request.newContext({
    baseURL: `${baseURL}/api/`,
    extraHTTPHeaders: { Authorization: "Bearer dev:alice" },
  });
  title = `Notes review ${Date.now().toString(36)}`;
  const startsAt = new Date(Date.now() + 10 * 60_000);
  const created = await alice.post("meetings", {
    data: {
      title,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 60 * 60_000).toISOString(),
      participants: [{ userId: "bob", role: "attendee", displayName: BOB_NAME }],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  meetingId = ((await created.json()) as { id: string }).id;

  const file = makeTwoVoiceRecording(mkdtempSync(join(tmpdir(), "e2e-notes-")), "review.wav");
  const bytes = readFileSync(file.path);
  const recording = await alice.post(`meetings/${meetingId}/recordings`, {
    data: {
      fileName: "review.wav",
      contentType: "audio/wav",
      sizeBytes: bytes.length,
      channels: [
        { channel: 0, userId: "alice" },
        { channel: 1, userId: "bob" },
      ],
    },
  });
  expect(recording.status(), await recording.text()).toBe(201);
  const answer = (await recording.json()) as {
    id: string;
    upload: { url: string; method: string; headers: Record<string, string> };
  };
  recordingId = answer.id;
  const uploaded = await fetch(answer.upload.url, {
    method: answer.upload.method,
    headers: answer.upload.headers,
    body: bytes,
  });
  expect(uploaded.ok, `upload answered ${uploaded.status}`).toBe(true);

  await expect
    .poll(
      async () => {
        const got = await alice.get(`meetings/${meetingId}/recordings/${recordingId}`);
        const status = ((await got.json()) as { status: string }).status;
        if (status === "failed") throw new Error("the recording failed to process");
        return status;
      },
      { timeout: PROCESSING_TIMEOUT_MS, intervals: [1_000] },
    )
    .toBe("completed");
  transcript = (await (
    await alice.get(`meetings/${meetingId}/recordings/${recordingId}/transcript`)
  ).json()) as Transcript;
  summary = (await (
    await alice.get(`meetings/${meetingId}/recordings/${recordingId}/summary`)
  ).json()) as Summary;
});

test.afterAll(async () => {
  await alice.dispose();
});

/**
 * A word bob said, well into the recording (so that opening there is a real move), as the recognizer
 * heard it: the local pipeline's transcript is not the script word for word ("budget" may be "body").
 */
function bobsWord(): string {
  const names = new Map(transcript.speakers.map((s) => [s.id, s.displayName ?? s.userId ?? s.id]));
  const segment = transcript.segments.find(
    (s) => s.start > 1 && names.get(s.speaker ?? "") === BOB_NAME && /\b[a-z]{5,}\b/i.test(s.text),
  );
  expect(segment, JSON.stringify(transcript.segments)).toBeDefined();
  return (/\b[a-z]{5,}\b/i.exec(segment?.text ?? "") ?? [""])[0].toLowerCase();
}

const recordingPath = () => `/meetings/${meetingId}/recordings/${recordingId}`;

function player(page: Page): Locator {
  return page.getByLabel("Recording player");
}

/** The player must know its duration before it can seek. */
async function playerReady(page: Page): Promise<void> {
  await expect
    .poll(() => player(page).evaluate((el) => (el as HTMLMediaElement).readyState), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(1);
}

async function playerAt(page: Page): Promise<number> {
  return player(page).evaluate((el) => (el as HTMLMediaElement).currentTime);
}

test("evidence buttons play where an item was said; the speakers are the participants by name", async ({
  page,
}, testInfo) => {
  await signIn(page, "alice", recordingPath());
  await expect(page.getByRole("heading", { level: 1, name: "review.wav", exact: true })).toBeVisible();

  // Unmixed: every channel is a participant, shown by the meeting's name for them; nobody to name.
  const lines = page.getByRole("tabpanel").getByRole("button", { name: /^\d+:\d\d / });
  await expect(lines).toHaveCount(transcript.segments.length);
  await expect(lines.filter({ hasText: "alice" }).first()).toBeVisible();
  await expect(lines.filter({ hasText: BOB_NAME }).first()).toBeVisible();
  await expect(lines.filter({ hasText: /Speaker [A-Z]\b/ })).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Unnamed speakers" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Name / })).toHaveCount(0);

  // Every item of the offline summary checks out, and the page offers each span as a button.
  const items = [
    ...summary.keyPoints,
    ...summary.decisions,
    ...summary.actionItems,
    ...summary.openQuestions,
  ];
  expect(items.length).toBeGreaterThan(0);
  expect(items.filter((i) => i.unverified)).toEqual([]);
  const spans = items.flatMap((i) => i.evidence);
  // The latest span: seeking there is a real move from where the player is (the start).
  const span = spans.reduce((a, b) => (b.start > a.start ? b : a));
  expect(span.start).toBeGreaterThan(1);

  await page.getByRole("tab", { name: "Summary", exact: true }).click();
  const evidence = page.getByRole("tabpanel").getByRole("button", { name: /^Play from \d+:\d\d: “/ });
  await expect(evidence).toHaveCount(spans.length);
  await expect(page.getByText("not found in the transcript")).toHaveCount(0);
  await playerReady(page);
  const button = page
    .getByRole("tabpanel")
    .getByRole("button", { name: `Play from ${clock(span.start)}: “${span.quote}”`, exact: true })
    .first();
  await button.click();
  await expect.poll(() => playerAt(page)).toBeCloseTo(span.start, 1);
  await expectOneH1(page);
  await screenshot(page, testInfo, "notes-01-evidence");
  await checkAccessibility(page, testInfo, "summary-with-evidence");
});

test("the organizer edits the summary, approves it, and reads its versions", async ({ page }, testInfo) => {
  await signIn(page, "alice", recordingPath());
  await page.getByRole("tab", { name: "Summary", exact: true }).click();
  const panel = page.getByRole("tabpanel");
  await expect(panel.getByRole("heading", { name: "Overview", exact: true })).toBeVisible();

  const overview = `Budget approved; hiring decided next Tuesday (${Date.now().toString(36)}).`;
  await panel.getByRole("button", { name: "Edit", exact: true }).click();
  const form = page.getByRole("form", { name: "Edit the summary" });
  await form.getByRole("textbox", { name: "Overview", exact: true }).fill(overview);
  const saved = page.waitForResponse(
    (r) => r.request().method() === "PUT" && r.url().endsWith(`/recordings/${recordingId}/summary`),
  );
  await form.getByRole("button", { name: "Save", exact: true }).click();
  const put = await saved;
  expect(put.status(), await put.text()).toBe(200);
  expect(put.request().headers()["if-match"]).toBeTruthy();
  await expect(form).toBeHidden();
  await expect(panel.getByText(overview)).toBeVisible();
  await expect(panel.getByText("Edited by alice")).toBeVisible();

  await panel.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(panel.getByText(/^Approved by alice on .+ · Edited by alice$/)).toBeVisible();
  await expect(panel.getByRole("button", { name: "Approve", exact: true })).toHaveCount(0);

  await panel.getByRole("button", { name: "Versions", exact: true }).click();
  const versions = panel.getByRole("table", { name: "Summary versions" });
  const rows = versions.getByRole("row");
  // Newest first: approved, edited, then the generated one (a header row above them).
  await expect(rows.nth(1)).toContainText("Approved");
  await expect(rows.nth(1)).toContainText("(shown)");
  await expect(rows.nth(2)).toContainText("Edited");
  await expect(rows.last()).toContainText("Generated");
  await expect(rows.last()).toContainText("Summarizer");

  // What the page shows is what is stored.
  const stored = (await (
    await alice.get(`meetings/${meetingId}/recordings/${recordingId}/summary`)
  ).json()) as Summary & { approvedBy: string | null; editedBy: string | null };
  expect(stored.overview).toBe(overview);
  expect(stored.approvedBy).toBe("alice");
  expect(stored.editedBy).toBe("alice");
  await expectOneH1(page);
  await screenshot(page, testInfo, "notes-02-approved-versions");
  await checkAccessibility(page, testInfo, "summary-approved");
});

test("the header's search finds a word of the transcript and opens the recording there", async ({
  page,
}, testInfo) => {
  const word = bobsWord();

  await signIn(page, "alice");
  const box = page.getByRole("search").getByRole("textbox", { name: "Search meetings", exact: true });
  await box.fill(word);
  await box.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/search\\?q=${word}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Search", exact: true })).toBeVisible();
  const group = page.getByRole("region", { name: title, exact: true });
  await expect(group).toBeVisible();
  const hits = group.getByRole("link").filter({ has: page.locator("mark") });
  await expect(hits.first()).toBeVisible();
  const marks = await hits.locator("mark").allTextContents();
  expect(marks.map((m) => m.toLowerCase())).toContain(word);
  // The transcript's hit on that segment's words: a link to the recording at its time.
  const hit = hits
    .filter({ hasText: /Transcript/ })
    .filter({ has: page.locator("mark", { hasText: new RegExp(word, "i") }) })
    .first();
  const href = (await hit.getAttribute("href")) ?? "";
  expect(href).toMatch(new RegExp(`^/meetings/${meetingId}/recordings/${recordingId}\\?t=\\d+(\\.\\d+)?$`));
  const at = Number(new URL(href, "http://x").searchParams.get("t"));
  await expect(hit).toContainText(clock(at));
  await expectOneH1(page);
  await screenshot(page, testInfo, "notes-03-search");
  await checkAccessibility(page, testInfo, "search-results");

  await hit.click();
  await expect(page).toHaveURL(new RegExp(`/recordings/${recordingId}\\?t=`));
  await expect(page.getByRole("heading", { level: 1, name: "review.wav", exact: true })).toBeVisible();
  await playerReady(page);
  await expect.poll(() => playerAt(page)).toBeCloseTo(at, 1);
  // The line said then is the current one, with the word in it, in view.
  const current = page
    .getByRole("tabpanel")
    .getByRole("button", { name: /^\d+:\d\d / })
    .and(page.locator('[aria-current="true"]'));
  await expect(current).toHaveCount(1);
  await expect(current).toContainText(new RegExp(word, "i"));
  await expect(current).toBeInViewport();
  await screenshot(page, testInfo, "notes-04-opened-at-hit");

  // The meeting itself, by the start of a word of its title nobody said: "Meetings" links to it.
  const titleWord = title.split(" ").at(-1) ?? "";
  const search = page.getByRole("search").getByRole("textbox", { name: "Search meetings", exact: true });
  await search.fill(`NOTES ${titleWord.slice(0, -1)}`);
  await search.press("Enter");
  const titled = page.getByRole("region", { name: "Meetings", exact: true });
  const meetingLink = titled.getByRole("link", { name: title, exact: true });
  await expect(meetingLink).toHaveAttribute("href", `/meetings/${meetingId}`);
  expect(await meetingLink.locator("mark").allTextContents()).toEqual(["Notes", titleWord]);
  await expectOneH1(page);
  await checkAccessibility(page, testInfo, "search-meetings-by-title");
  await meetingLink.click();
  await expect(page.getByRole("heading", { level: 1, name: title, exact: true })).toBeVisible();
});

test("asking the meeting answers with sources that play their moment", async ({ page }, testInfo) => {
  await signIn(page, "alice", `/meetings/${meetingId}`);
  await expect(page.getByRole("heading", { level: 1, name: title, exact: true })).toBeVisible();
  await expect(
    page.getByRole("heading", { level: 2, name: "Ask about this meeting", exact: true }),
  ).toBeVisible();
  await page
    .getByRole("textbox", { name: "Question", exact: true })
    .fill(`What was said about ${bobsWord()}?`);
  const asked = page.waitForResponse(
    (r) => r.request().method() === "POST" && r.url().endsWith(`/api/meetings/${meetingId}/ask`),
  );
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  const response = await asked;
  expect(response.status(), await response.text()).toBe(200);
  const answer = (await response.json()) as {
    answer: string;
    sources: { recordingId: string; start: number; quote: string }[];
  };
  expect(answer.sources.length).toBeGreaterThan(0);
  await expect(page.getByText(answer.answer.split("\n")[0] ?? "", { exact: false }).first()).toBeVisible();
  const sources = page.getByRole("list", { name: "Sources", exact: true }).getByRole("link");
  await expect(sources).toHaveCount(answer.sources.length);
  const source = answer.sources[0] as { recordingId: string; start: number; quote: string };
  await expect(sources.first()).toContainText(`Play from ${clock(source.start)}`);
  await expect(sources.first()).toContainText(source.quote);
  await expectOneH1(page);
  await screenshot(page, testInfo, "notes-05-ask");
  await checkAccessibility(page, testInfo, "meeting-ask");

  await sources.first().click();
  await expect(page).toHaveURL(new RegExp(`/recordings/${source.recordingId}\\?t=`));
  await playerReady(page);
  await expect.poll(() => playerAt(page)).toBeCloseTo(source.start, 1);
});

function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
