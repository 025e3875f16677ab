import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin/plugin-ledger.js");

/** `signal`: set when the process was killed (by `killAfterMs`, a hang) rather than exiting. */
export type CliRun = { code: number | null; stdout: string; stderr: string; signal?: NodeJS.Signals | null };

/**
 * Runs the real CLI as a child process, with only the given ledger environment. `killAfterMs`:
 * a process still running then is killed (a hang), which shows as `signal`.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  killAfterMs?: number,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const killer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, signal });
    });
    child.stdin.end(input ?? "");
  });
}
