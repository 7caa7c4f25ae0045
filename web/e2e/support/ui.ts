// Small helpers on the UI contract (/work/briefs/ui-contract.md): one h1 a page, native selects, and
// <input type="datetime-local"> values in the browser's time zone.
import { expect, type Locator, type Page } from "@playwright/test";

/** The browsers' time zone (playwright.config.ts): not UTC, so that a page mixing them up shows. */
export const TIME_ZONE = "Europe/Berlin";

/** A datetime-local input's value ("2026-01-31T09:05") for an instant, in TIME_ZONE. */
export function localInput(instant: Date, timeZone = TIME_ZONE): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}`;
}

export async function expectOneH1(page: Page): Promise<void> {
  await expect(page.locator("h1")).toHaveCount(1);
}

/** Choose the option of a native <select> whose text contains `text` (labels may add a role, a name). */
export async function selectOptionContaining(select: Locator, text: string): Promise<void> {
  await expect(select).toBeVisible();
  const options = await select
    .locator("option")
    .evaluateAll((all) => all.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent })));
  const found = options.find((o) => o.label.includes(text)) ?? options.find((o) => o.value === text);
  expect(found, `an option containing "${text}" among ${JSON.stringify(options)}`).toBeDefined();
  await select.selectOption(found?.value ?? text);
}
