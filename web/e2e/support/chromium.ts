// Which Chromium the browser tests drive. Playwright never downloads one here (make sets
// PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1): the tests use the system's, and fail, never skip, without it.
import { accessSync, constants } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export const INSTALL_HINT =
  "The browser tests need Chromium. Debian/Ubuntu: `apt-get install chromium` (as root); elsewhere " +
  "install Chromium or Google Chrome and set CHROMIUM_PATH to its executable.";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH when set (it must then exist), else the first system Chromium found, else null. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const chosen = env.CHROMIUM_PATH;
  if (chosen !== undefined && chosen !== "") return executable(chosen) ? chosen : null;
  return CANDIDATES.find(executable) ?? null;
}

/** Chromium in a container or CI: no sandbox (root), no GPU, and nothing phoning home mid-test. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
