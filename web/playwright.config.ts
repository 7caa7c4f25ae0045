// The browser tests (e2e/): the built client served by devhost (`python -m devhost serve`, as `make run`
// does) on embedded backends in a fresh DATA_DIR, driven in the system's headless Chromium.
// `make e2e` runs them; artifacts (screenshots, traces of failures, devhost's log) go to test-results/.
import { defineConfig } from "@playwright/test";

import { CHROMIUM_ARGS, findChromium } from "./e2e/support/chromium";

export default defineConfig({
  testDir: "./e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results",
  globalSetup: "./e2e/global-setup.ts",
  globalTeardown: "./e2e/global-teardown.ts",
  // One devhost and two CPUs shared with the transcription job: tests run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  // The scenario waits for a recording to be transcribed and summarized on the local pipeline.
  timeout: 180_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    // baseURL: devhost's address, known once global-setup has started it (see e2e/support/fixtures.ts).
    browserName: "chromium",
    headless: true,
    launchOptions: {
      // null when there is none: global-setup then fails with what to install.
      executablePath: findChromium() ?? undefined,
      args: CHROMIUM_ARGS,
    },
    locale: "en-US",
    timezoneId: "Europe/Berlin",
    viewport: { width: 1280, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
});
