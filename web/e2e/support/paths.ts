import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (web/e2e/support -> three levels up). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const WEB = resolve(ROOT, "web");
/** Playwright's outputDir: screenshots, traces, devhost's log. Kept, gitignored. */
export const RESULTS = resolve(WEB, "test-results");
