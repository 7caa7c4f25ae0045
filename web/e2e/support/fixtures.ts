// What every browser test shares: devhost's address as baseURL, signing in as someone, the API as someone
// (for checks behind the UI), screenshots kept as artifacts, and the accessibility check of a page.
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";

export { expect };

function baseUrl(): string {
  const url = process.env.E2E_BASE_URL;
  if (!url)
    throw new Error("E2E_BASE_URL is not set: run the tests through playwright.config.ts (global-setup)");
  return url;
}

export const test = base.extend<{ asUser: (userId: string) => Promise<APIRequestContext> }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixture's dependencies from this pattern
  baseURL: async ({}, provide) => {
    await provide(baseUrl());
  },
  /** The app's API as a user (`Bearer dev:<id>`), to set up or check what the UI cannot show. */
  asUser: async ({ playwright }, provide) => {
    const contexts: APIRequestContext[] = [];
    await provide(async (userId) => {
      const context = await playwright.request.newContext({
        baseURL: `${baseUrl()}/api/`,
        extraHTTPHeaders: { Authorization: `Bearer dev:${userId}` },
      });
      contexts.push(context);
      return context;
    });
    await Promise.all(contexts.map((c) => c.dispose()));
  },
});

/** Open the app and sign in through the sign-in form (dev mode: any user id). */
export async function signIn(page: Page, userId: string, path = "/"): Promise<void> {
  await page.goto(path);
  await page.getByRole("textbox", { name: "Sign in as", exact: true }).fill(userId);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${userId}`)).toBeVisible();
}

/** A full-page screenshot kept as test-results/<test>/<name>.png, whether the test passes or not. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

const BLOCKING = new Set(["serious", "critical"]);

/**
 * Fluent UI's focus management (Tabster) puts `<i tabindex="0" aria-hidden="true" data-tabster-dummy>`
 * around lists, tabs and dialogs: sentinels that hand focus on at once and must stay hidden from screen
 * readers. axe's aria-hidden-focus flags them; it is a known false positive (microsoft/tabster#288,
 * microsoft/fluentui#25133), which Accessibility Insights drops the same way: only those nodes, only
 * for that rule. Any other aria-hidden focusable element still fails.
 */
function tabsterSentinel(ruleId: string, html: string): boolean {
  return (
    ruleId === "aria-hidden-focus" &&
    /^<i\b/.test(html) &&
    (html.includes("data-tabster-dummy") || html.includes('data-is-focus-trap-zone-bumper="true"'))
  );
}

/**
 * axe-core on the page as it is now (WCAG 2.x A and AA rules and best practices): no serious or critical
 * violation. Every violation found is printed (rule, impact, help URL, the elements), blocking or not, so
 * that it can be fixed; the blocking ones fail the test.
 */
export async function checkAccessibility(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  const violations = results.violations
    .map((v) => ({
      id: v.id,
      impact: v.impact ?? "unknown",
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes
        .filter((n) => !tabsterSentinel(v.id, n.html))
        .map((n) => `${n.target.join(" ")} ${n.html}: ${n.failureSummary ?? ""}`.replace(/\s+/g, " ")),
    }))
    .filter((v) => v.nodes.length > 0);
  if (violations.length > 0) {
    const text = violations
      .map(
        (v) =>
          `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes.map((n) => `      ${n}`).join("\n")}`,
      )
      .join("\n");
    console.log(`axe on ${name} (${page.url()}): ${violations.length} violations\n${text}`);
    await testInfo.attach(`axe-${name}.json`, {
      body: JSON.stringify(violations, null, 2),
      contentType: "application/json",
    });
  }
  const blocking = violations.filter((v) => BLOCKING.has(v.impact)).map((v) => `${v.id} (${v.impact})`);
  expect(blocking, `serious or critical accessibility violations on ${name}`).toEqual([]);
}
