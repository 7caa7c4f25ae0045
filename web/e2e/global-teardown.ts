// Stops the devhost global-setup started (SIGINT, as Ctrl-C: it drains and exits) and removes its DATA_DIR.
// Errors devhost logged while the tests ran are printed: a page can look right over a failing job.
import { readFileSync, rmSync } from "node:fs";

const STOP_TIMEOUT_MS = 15_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.E2E_DEVHOST_PID);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    process.kill(pid, "SIGINT");
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
  const dataDir = process.env.E2E_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  const logPath = process.env.E2E_DEVHOST_LOG;
  if (logPath) {
    const problems = readFileSync(logPath, "utf8")
      .split("\n")
      .filter((line) => /\bERROR\b|Traceback/.test(line));
    if (problems.length > 0) {
      console.log(`e2e: devhost logged ${problems.length} error lines (${logPath}):\n${problems.join("\n")}`);
    }
  }
}
