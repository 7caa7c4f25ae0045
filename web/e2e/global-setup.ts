// Starts the app the browser tests run against: `<repo>/.venv/bin/python -m devhost serve --port 0` in a
// fresh DATA_DIR with AUTH_MODE=dev, serving the built client (web/dist) at / and the API at /api, as
// `make run` does. Its address goes to the tests through E2E_BASE_URL; global-teardown stops it.
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

import { findChromium, INSTALL_HINT } from "./support/chromium";
import { RESULTS, ROOT, WEB } from "./support/paths";

const BANNER = /Serving \d+ functions on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 60_000;

function missingTools(): string[] {
  // The scenario makes its own recording: two voices (espeak-ng), one per channel (ffmpeg).
  return ["espeak-ng", "ffmpeg", "ffprobe"].filter(
    (tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).error !== undefined,
  );
}

function checkPrerequisites(): string {
  const problems: string[] = [];
  const chromium = findChromium();
  if (chromium === null) {
    const chosen = process.env.CHROMIUM_PATH;
    problems.push(
      chosen
        ? `CHROMIUM_PATH=${chosen} is not an executable. ${INSTALL_HINT}`
        : `No Chromium found. ${INSTALL_HINT}`,
    );
  }
  const missing = missingTools();
  if (missing.length > 0) {
    problems.push(
      `Missing ${missing.join(", ")}: the scenario synthesizes its recording with them. ` +
        "Debian/Ubuntu: `apt-get install espeak-ng ffmpeg`.",
    );
  }
  const python = join(ROOT, ".venv", "bin", "python");
  if (!existsSync(python)) problems.push(`${python} does not exist: run \`make .venv/.dev\` first.`);
  if (!existsSync(join(WEB, "dist", "index.html"))) {
    problems.push("web/dist/index.html does not exist: build the client first (`make web`).");
  }
  if (problems.length > 0) throw new Error(`The browser tests cannot run:\n- ${problems.join("\n- ")}`);
  return python;
}

export default async function globalSetup(): Promise<void> {
  const python = checkPrerequisites();
  mkdirSync(RESULTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), "video-signaling-e2e-"));
  const logPath = join(RESULTS, "devhost.log");
  const log = createWriteStream(logPath);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AUTH_MODE: "dev",
    DATA_DIR: dataDir,
    PYTHONUNBUFFERED: "1",
  };
  // Never look like Azure (the app refuses dev auth there), whatever the calling shell has.
  delete env.WEBSITE_INSTANCE_ID;
  delete env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  const server = spawn(python, ["-m", "devhost", "serve", "--port", "0"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stderr.pipe(log, { end: false });
  // Whatever happens to the runner, devhost does not outlive it.
  process.on("exit", () => server.kill("SIGKILL"));
  try {
    await serve(server, log, logPath, dataDir);
  } catch (error) {
    server.kill("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function serve(
  server: ChildProcessByStdio<null, Readable, Readable>,
  log: WriteStream,
  logPath: string,
  dataDir: string,
): Promise<void> {
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `devhost printed no "Serving ... on" banner in ${START_TIMEOUT_MS / 1000} s: see ${logPath}`,
        ),
      );
    }, START_TIMEOUT_MS);
    let found = false;
    // Every line goes to the log, the banner's included; reading goes on so that the pipe never fills.
    createInterface({ input: server.stdout }).on("line", (line) => {
      log.write(`${line}\n`);
      const match = BANNER.exec(line);
      if (!found && match?.[1] !== undefined) {
        found = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on("exit", (code) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`devhost exited (code ${code}) before serving: see ${logPath}`));
    });
  });
  const origin = new URL(url).origin;

  process.env.E2E_BASE_URL = origin;
  process.env.E2E_DEVHOST_PID = String(server.pid);
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_DEVHOST_LOG = logPath;

  // The client must be served where the API is, as `make run` serves it: the tests are about that app.
  const page = await fetch(`${origin}/`).catch((error: unknown) => error);
  const html = page instanceof Response && page.ok ? await page.text() : "";
  if (!html.includes('id="root"')) {
    const got = page instanceof Response ? `HTTP ${page.status}` : String(page);
    throw new Error(`devhost does not serve the web client (web/dist) at ${origin}/ (${got}).`);
  }
  console.log(`e2e: devhost on ${origin} (DATA_DIR ${dataDir}, log ${logPath})`);
}
