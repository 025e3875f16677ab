import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { createLogger } from "../src/log.ts";
import { openDatabase } from "../src/store/connection.ts";
import { migrate } from "../src/store/migrate.ts";
import { appendingStore } from "../test/support/appending-store.ts";
import { type BenchSettings, loadBenchSettings } from "./config.ts";
import { chooseDatabase, describeServer, dropSchema, NEEDS_A_SERVER } from "./database.ts";
import { evaluate, formatTable, type ScenarioReport } from "./report.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";
import { scenarios } from "./scenarios/index.ts";

/**
 * `npm run bench [scenario...]`: runs the registered scenarios (all, or those named) against a
 * PostgreSQL server, in a schema of their own that is dropped at the end, and prints a table and
 * then one JSON document (also written to bench/results/latest.json). Exit 0 when every scenario
 * ran (missed targets are reported, not failed), 1 when one failed or no server answers,
 * 2 on bad settings, 130 when interrupted.
 */
const RESULTS = new URL("./results/latest.json", import.meta.url);
const DUPLICATE_SIGNAL_MS = 1000;
const startedAt = new Date();

function progress(message: string): void {
  const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

async function main(): Promise<number> {
  let settings: BenchSettings;
  let selected: Scenario[];
  try {
    settings = loadBenchSettings(process.env, process.argv.slice(2));
    selected = selectScenarios(settings.only);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }

  const chosen = await chooseDatabase(settings.databaseUrl);
  if (chosen.url === undefined) {
    process.stderr.write(`${chosen.problem}\n${NEEDS_A_SERVER}\n`);
    return 1;
  }
  const databaseUrl = chosen.url;

  const controller = new AbortController();
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches this process twice: from the terminal and relayed by the tsx CLI above it.
    if (controller.signal.aborted && Date.now() - interruptedAt < DUPLICATE_SIGNAL_MS) return;
    if (controller.signal.aborted) {
      process.stderr.write(`second ${signal}: exiting now; the schema may be left behind\n`);
      process.exit(130);
    }
    interruptedAt = Date.now();
    progress(`${signal}: stopping, then dropping the bench schema`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  // A closed stdout (`npm run bench | head`) must not skip the schema's drop.
  process.stdout.on("error", () => {});
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const logger = createLogger("warn");
  const db = await openDatabase({ databaseUrl, dataDir: ".ledger", poolSize: settings.clients + 2, logger });
  try {
    progress(`PostgreSQL at ${db.location} (${chosen.source}); schema ${schema}`);
    progress("the embedded PGlite is not a benchmark target; these figures are for a PostgreSQL server");
    await migrate(db.pool, schema, logger);
    const server = await describeServer(db.pool);
    const context: ScenarioContext = {
      settings,
      databaseUrl,
      schema,
      db,
      store: appendingStore({ pool: db.pool, schema, prepareStatements: true }),
      signal: controller.signal,
      progress,
    };
    const reports: ScenarioReport[] = [];
    for (const scenario of selected) {
      reports.push(await runScenario(scenario, context));
    }
    const document = {
      startedAt: startedAt.toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      git: gitRevision(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        memoryMb: Math.round(os.totalmem() / 2 ** 20),
        platform: `${os.platform()} ${os.release()}`,
        node: process.version,
      },
      database: { location: db.location, source: chosen.source, server },
      settings: { ...settings, databaseUrl: undefined },
      scenarios: reports,
      targets: {
        met: reports.flatMap((r) => r.rows).filter((r) => r.met === true).length,
        missed: reports.flatMap((r) => r.rows).filter((r) => r.met === false).length,
      },
    };
    const json = JSON.stringify(document, null, 2);
    mkdirSync(new URL(".", RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${json}\n`);
    const heading =
      `plugin-ledger bench: PostgreSQL ${server.version} at ${db.location}, Node ${process.version}, ` +
      `${document.machine.cpus} CPUs (the embedded PGlite is not a benchmark target)`;
    process.stdout.write(`${heading}\n\n${formatTable(reports)}\n\n${json}\n`);
    progress(`written to ${fileURLToPath(RESULTS)}`);
    return reports.some((r) => r.error) ? 1 : 0;
  } catch (error) {
    if (controller.signal.aborted) return 130;
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    return 1;
  } finally {
    await db.close().catch(() => {});
    await dropSchema(databaseUrl, schema).then(
      () => progress(`dropped schema ${schema}`),
      (error: Error) =>
        process.stderr.write(`could not drop schema ${schema} (${error.message}); drop it by hand\n`),
    );
  }
}

function selectScenarios(names: string[]): Scenario[] {
  if (names.length === 0) return scenarios;
  const known = new Set(scenarios.map((s) => s.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${[...known].join(", ")}`);
  }
  return scenarios.filter((s) => names.includes(s.name));
}

/** A failing scenario is reported and the others still run; an interruption stops everything. */
async function runScenario(scenario: Scenario, context: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const base = { name: scenario.name, summary: scenario.summary };
  try {
    const rows = (await scenario.run(context)).map(evaluate);
    return { ...base, seconds: (performance.now() - started) / 1000, rows };
  } catch (error) {
    if (context.signal.aborted) throw error;
    progress(`${scenario.name} failed: ${(error as Error).stack ?? error}`);
    const seconds = (performance.now() - started) / 1000;
    return { ...base, seconds, rows: [], error: (error as Error).message ?? String(error) };
  }
}

function gitRevision(): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain"], { encoding: "utf8" });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return null;
  }
}

process.exitCode = await main();
