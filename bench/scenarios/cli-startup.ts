import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { buildIfStale } from "../../scripts/build.ts";
import { runningPlugins } from "../http-fixtures.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Measurement, Scenario } from "../scenario.ts";

const BIN = fileURLToPath(new URL("../../bin/plugin-ledger.js", import.meta.url));
const RUNS = 20;
// A quick pass (BENCH_SECONDS below 5, as CI's) only shows that the scenario runs.
const QUICK_RUNS = 5;
const HOLDER_WAIT_MS = 60_000;
// One more run of each command, untimed, reports its peak RSS from inside the process.
const REPORT_RSS = `--import=data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss-kb "+process.resourceUsage().maxRSS+"\\n"))`;

/**
 * `plugin-ledger status --json` as a process, as a release pipeline calls it: the wall time from
 * spawn to exit, the median of 20, on PostgreSQL and on the embedded default (a folder nobody
 * holds, so the call opens PGlite itself, and one another process holds, so it connects to that
 * process's socket), and `--help`. Baseline: `node -e 0`, alternating with the command so that a
 * neighbour's load falls on both alike. Targets (on an idle 2-core machine): 350 ms on
 * PostgreSQL, 600 ms embedded.
 */
export const cliStartup: Scenario = {
  name: "cli-startup",
  summary: "plugin-ledger status --json as a process, PostgreSQL and embedded, vs node -e 0",
  async run(context) {
    const { progress, signal } = context;
    if (await buildIfStale()) progress("cli-startup: dist/ was older than the sources; rebuilt it");
    const { ledger, schema } = await openBenchLedger(context, "startup");
    await runningPlugins(ledger);
    await ledger.close();
    const folder = mkdtempSync(path.join(tmpdir(), "pl-startup-"));
    const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), LOG_LEVEL: "warn" };
    const server = { ...base, DATABASE_URL: context.databaseUrl, LEDGER_SCHEMA: schema };
    const unheld = { ...base, LEDGER_DATA_DIR: path.join(folder, "unheld") };
    const held = { ...base, LEDGER_DATA_DIR: path.join(folder, "held") };
    const runs = context.settings.seconds < 5 ? QUICK_RUNS : RUNS;
    const measure = (metric: string, args: string[], env: Record<string, string>, below?: number) =>
      timed(metric, args, env, { runs, below, cwd: folder, signal, progress });
    let holder: ChildProcess | undefined;
    try {
      const rows: Measurement[] = [];
      rows.push(await measure("status --json, PostgreSQL", ["status", "--json"], server, 350));
      // The first call creates and migrates the folder; the timed ones find it ready, as every later call does.
      await runOnce(["status", "--json"], unheld, folder, signal);
      rows.push(
        await measure("status --json, embedded, folder nobody holds", ["status", "--json"], unheld, 600),
      );
      holder = await holdFolder(held, folder, signal);
      rows.push(
        await measure(
          "status --json, embedded, folder another process holds",
          ["status", "--json"],
          held,
          600,
        ),
      );
      rows.push(await measure("--help", ["--help"], base));
      return rows;
    } finally {
      holder?.kill("SIGTERM");
      if (holder && holder.exitCode === null) await new Promise((resolve) => holder?.once("close", resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  },
};

type Timing = {
  runs: number;
  below: number | undefined;
  cwd: string;
  signal: AbortSignal;
  progress: (message: string) => void;
};

async function timed(
  metric: string,
  args: string[],
  env: Record<string, string>,
  { runs, below, cwd, signal, progress }: Timing,
): Promise<Measurement> {
  progress(`cli-startup: ${metric}`);
  const command: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs && !signal.aborted; i++) {
    bare.push((await runOnce(["-e", "0"], env, cwd, signal, false)).ms);
    command.push((await runOnce(args, env, cwd, signal)).ms);
  }
  const rss = await runOnce(args, env, cwd, signal, true, [REPORT_RSS]);
  const maxRssKb = Number(/maxrss-kb (\d+)/.exec(rss.stderr)?.[1] ?? Number.NaN);
  const round = (ms: number) => Math.round(ms);
  return {
    metric: `${metric} (median of ${runs} processes)`,
    unit: "ms",
    value: round(median(command)),
    baseline: round(median(bare)),
    ...(below === undefined ? {} : { targets: [{ below }] }),
    details: {
      runsMs: command.map(round),
      nodeRunsMs: bare.map(round),
      maxRssMb: Math.round(maxRssKb / 1024),
    },
  };
}

/** One process to its exit: the CLI (through its bin, on dist, as users run it), or bare node. */
function runOnce(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  signal: AbortSignal,
  cli = true,
  nodeOptions: string[] = [],
): Promise<{ ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeOptions, ...(cli ? [BIN, ...args] : args)], {
      cwd,
      env,
      signal,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, stderr });
      else
        reject(new Error(`plugin-ledger ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n")[0]}`));
    });
  });
}

/**
 * A `plugin-ledger watch` on the folder, as a running bot would be: it takes the folder's lock and
 * serves it on the socket, which every later CLI call then connects to.
 */
async function holdFolder(env: Record<string, string>, cwd: string, signal: AbortSignal) {
  const child = spawn(process.execPath, [BIN, "watch"], {
    cwd,
    env,
    signal,
    stdio: ["ignore", "ignore", "inherit"],
  });
  child.on("error", () => {});
  const dir = env.LEDGER_DATA_DIR as string;
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const lock = path.join(dir, "ledger.lock");
    // The lock's first line is its holder's pid.
    const holds = existsSync(lock) && readFileSync(lock, "utf8").split("\n")[0]?.trim() === String(child.pid);
    if (holds && existsSync(path.join(dir, ".s.PGSQL.5432"))) return child;
    if (child.exitCode !== null)
      throw new Error(`plugin-ledger watch exited ${child.exitCode} before it held the folder`);
    if (Date.now() > deadline) throw new Error("plugin-ledger watch did not hold the folder within a minute");
    await sleep(50);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
