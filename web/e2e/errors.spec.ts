// Errors where the user is (UI contract): a file the app does not take is refused before anything is
// uploaded; a field error from the API shows beside its field; a lost connection offers a retry.
import type { APIRequestContext } from "@playwright/test";

import { expect, screenshot, signIn, test } from "./support/fixtures";
import { localInput } from "./support/ui";

async function createMeeting(api: APIRequestContext, title: string): Promise<string> {
  const startsAt = new Date(Date.now() + 60 * 60_000);
  const response = await api.post("meetings", {
    data: {
      title,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 30 * 60_000).toISOString(),
      participants: [{ userId: "bob", role: "attendee" }],
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

test("a file of a type the app does not take is refused, and nothing is uploaded", async ({
  page,
  asUser,
}, testInfo) => {
  const alice = await asUser("alice");
  const meetingId = await createMeeting(alice, "Wrong file");
  const sent: string[] = [];
  page.on("request", (request) => {
    if (request.method() !== "GET") sent.push(`${request.method()} ${request.url()}`);
  });

  await signIn(page, "alice", `/meetings/${meetingId}`);
  await expect(page.getByRole("heading", { level: 1, name: "Wrong file", exact: true })).toBeVisible();
  await page.getByLabel("Recording file").setInputFiles({
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("not a recording\n"),
  });

  const alert = page.getByRole("alert").filter({ hasText: "notes.txt" });
  await expect(alert).toBeVisible();
  await screenshot(page, testInfo, "wrong-type");
  expect(sent.filter((line) => /\/recordings|\/_devhost\/blobs/.test(line))).toEqual([]);
  const recordings = await alice.get(`meetings/${meetingId}/recordings`);
  expect(recordings.status()).toBe(200);
  expect(((await recordings.json()) as { items: unknown[] }).items).toEqual([]);
  await expect(page.getByRole("link", { name: "notes.txt", exact: true })).toHaveCount(0);
});

test("a field error the API answers shows beside its field", async ({ page }, testInfo) => {
  await signIn(page, "alice", "/meetings/new");
  await expect(page.getByRole("heading", { level: 1, name: "New meeting", exact: true })).toBeVisible();
  // A meeting of 25 hours: valid to the form (ends after it starts), refused by the API on endsAt.
  const startsAt = new Date(Date.now() + 60 * 60_000);
  await page.getByLabel("Title").fill("Too long a meeting");
  await page.getByLabel("Starts").fill(localInput(startsAt));
  await page.getByLabel("Ends").fill(localInput(new Date(startsAt.getTime() + 25 * 60 * 60_000)));

  const answered = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/meetings",
  );
  await page.getByRole("button", { name: "Create meeting", exact: true }).click();
  const response = await answered;
  expect(response.status()).toBe(400);
  const problem = (await response.json()) as { errors: { field: string; message: string }[] };
  const endsError = problem.errors.find((e) => e.field.endsWith("endsAt"));
  expect(endsError).toBeDefined();

  // Beside its field: Fluent's Field ties the validation message to the input (aria-describedby).
  const ends = page.getByLabel("Ends");
  await expect(ends).toHaveAccessibleDescription(new RegExp(endsError?.message ?? "-"));
  await expect(ends).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Title")).not.toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/meetings\/new$/);
  await screenshot(page, testInfo, "field-error");
});

test("a lost connection shows a retry, and the retry loads the page", async ({ page, asUser }, testInfo) => {
  await createMeeting(await asUser("alice"), "After the outage");
  await signIn(page, "alice");
  await expect(page.getByRole("heading", { level: 1, name: "Meetings", exact: true })).toBeVisible();

  // The API unreachable (the client's config still loads): the list's requests never get an answer.
  // Each part of the page that could not load says so where it is, with a retry (the list may have two:
  // upcoming and past).
  const offline = (url: URL) => url.pathname.startsWith("/api/meetings");
  await page.route(offline, (route) => route.abort("internetdisconnected"));
  await page.reload();
  const alerts = page.getByRole("alert");
  await expect(alerts.first()).toBeVisible();
  for (const alert of await alerts.all()) {
    await expect(alert).toContainText("Cannot reach the server");
    await expect(alert.getByRole("button", { name: "Retry", exact: true })).toBeVisible();
  }
  await expect(page.getByRole("link", { name: "After the outage", exact: true })).toHaveCount(0);
  await screenshot(page, testInfo, "connection-lost");

  await page.unroute(offline);
  const retries = page.getByRole("button", { name: "Retry", exact: true });
  for (let left = await retries.count(); left > 0; left--) {
    await retries.first().click();
    await expect(retries).toHaveCount(left - 1);
  }
  await expect(page.getByRole("link", { name: "After the outage", exact: true })).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
});
