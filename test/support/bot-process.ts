import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "./cli.ts";

export type BotProcess = {
  child: ChildProcess;
  /** The exit code once the process has ended. */
  exited: Promise<number | null>;
  /** stdout and stderr so far, as they came. */
  output(): string;
  stderr(): string;
};

/**
 * The built CLI (`plugin-ledger bot`, or `args`) as a process with only `env` besides PATH and
 * HOME (LOG_LEVEL warn unless `env` says otherwise), its output collected.
 */
export function startBotProcess(args: string[], env: Record<string, string>): BotProcess {
  const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn" };
  const bin = path.join(ROOT, "bin/plugin-ledger.js");
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, exited, output: () => output, stderr: () => stderr };
}
