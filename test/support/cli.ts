import { type ChildProcessByStdio, spawn } from "node:child_process";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll } from "vitest";
import { openServerLedger, type TestDatabase } from "./databases.ts";

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
  const home = process.env.HOME ?? "/tmp";
  return spawnCli(args, { cwd: ROOT, env: { HOME: home, ...env }, input, killAfterMs });
}

/** The CLI in a folder of its own (`cwd`, also its HOME), with no database and no ledger settings at all. */
export function runOffline(args: string[], cwd: string): Promise<CliRun> {
  return spawnCli(args, { cwd, env: { HOME: cwd } });
}

function spawnCli(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string; killAfterMs?: number },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...options.env },
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
    const { killAfterMs } = options;
    const killer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, signal });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A CLI run with `--json`, its stdout parsed (undefined when it printed nothing). */
// biome-ignore lint/suspicious/noExplicitAny: a test reads the answer's fields as it expects them.
export type JsonRun = CliRun & { body: any };

export async function withJsonBody(run: Promise<CliRun>): Promise<JsonRun> {
  const done = await run;
  return { ...done, body: done.stdout ? JSON.parse(done.stdout) : undefined };
}

/** How many events a test ledger holds. */
export async function eventCount(ledger: TestDatabase): Promise<number> {
  const found = await ledger.db.pool.query(`SELECT count(*)::int AS n FROM "${ledger.schema}".events`);
  return found.rows[0].n as number;
}

export type LedgerCli = {
  /** The describe block's ledger, once `beforeAll` has opened it. */
  readonly ledger: TestDatabase;
  cli(...args: string[]): Promise<CliRun>;
  /** `cli(...args, "--json")` with its answer parsed. */
  json(...args: string[]): Promise<JsonRun>;
  eventCount(): Promise<number>;
};

/**
 * The CLI as a process against a fresh server ledger of its own, opened before the describe
 * block's tests and dropped after them. Call it in the describe block.
 */
export function ledgerCli(): LedgerCli {
  let opened: TestDatabase | undefined;
  beforeAll(async () => {
    opened = await openServerLedger();
  });
  afterAll(async () => {
    await opened?.close();
  });
  const ledger = () => {
    if (!opened) throw new Error("ledgerCli: the ledger opens in beforeAll");
    return opened;
  };
  const cli = (...args: string[]) => runCli(args, ledger().env);
  return {
    get ledger() {
      return ledger();
    },
    cli,
    json: (...args) => withJsonBody(cli(...args, "--json")),
    eventCount: () => eventCount(ledger()),
  };
}

/**
 * For tests that each open their own ledger (server or embedded, seeded or not): `open` keeps
 * the one it is given and closes it after the test. Call it in the describe block.
 */
export function ledgerPerTest(): (opening: Promise<TestDatabase>) => Promise<TestDatabase> {
  let current: TestDatabase | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (opening) => {
    current = await opening;
    return current;
  };
}

/** The CLI as a long-running process (`start --stay`, `bot`), its output piped to the test. */
export function startCli(
  args: string[],
  env: Record<string, string>,
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
