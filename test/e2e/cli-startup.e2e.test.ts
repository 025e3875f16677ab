import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ledgerPerTest, ROOT, runCli } from "../support/cli.ts";
import { freshDataDir, openEmbeddedLedger, openServerLedger, uniqueSchema } from "../support/databases.ts";

/**
 * What a quick verb loads: the packages that only some verbs need (the bot's, the HTTP server's,
 * the chart's, the migration runner's, the embedded database's) must not be loaded by the others,
 * whose start-up they would slow by tenths of a second each. The packages every call needs are
 * bundled into the CLI (scripts/bundle-cli.ts), so a quick verb loads none from node_modules.
 */
const HOOK = pathToFileURL(path.join(ROOT, "test/support/loaded-modules.mjs")).href;
const VERB_ONLY = ["telegraf", "fastify", "@fastify/swagger", "vega", "vega-lite", "@resvg/resvg-js"];
const MIGRATION_RUNNER = "node-pg-migrate";
const EMBEDDED = "@electric-sql/pglite";

/** Runs the CLI as users do (bin, on dist) and answers the packages and the CLI modules it loaded. */
async function packagesLoadedBy(args: string[], env: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-modules-"));
  try {
    const file = path.join(dir, "loaded.txt");
    const run = await runCli(args, { ...env, NODE_OPTIONS: `--import=${HOOK}`, LOADED_MODULES_FILE: file });
    const packages = new Set<string>();
    const cli: string[] = [];
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1];
      if (name) packages.add(name);
      const own = /\/dist\/src\/cli\/([^/]+\.js)$/.exec(line)?.[1];
      if (own) cli.push(own);
    }
    return { run, packages: [...packages], cli };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("what plugin-ledger loads to start", () => {
  const open = ledgerPerTest();

  it("status --json on PostgreSQL loads no package from node_modules: not the verb-only ones, the migration runner nor PGlite", async () => {
    const ledger = await open(openServerLedger());
    const { run, packages, cli } = await packagesLoadedBy(["status", "--json"], ledger.env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plugins: [] });
    expect(cli).toContain("main.js"); // the trace sees what the process loads
    expect(packages).toEqual([]);
  });

  it("loads the migration runner when the schema has migrations to apply", async () => {
    const ledger = await open(openServerLedger());
    const fresh = uniqueSchema("fresh");
    try {
      const { run, packages } = await packagesLoadedBy(["status", "--json"], {
        ...ledger.env,
        LEDGER_SCHEMA: fresh,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(packages).toContain(MIGRATION_RUNNER);
    } finally {
      await ledger.db.pool.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
    }
  });

  it("status --json on an embedded folder another process holds does not load PGlite", async () => {
    const ledger = await open(openEmbeddedLedger());
    const { run, packages } = await packagesLoadedBy(["status", "--json"], ledger.env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plugins: [] });
    expect(packages).not.toContain(EMBEDDED);
    expect(packages).not.toContain(MIGRATION_RUNNER);
    for (const name of VERB_ONLY) expect(packages).not.toContain(name);
  });

  it("status --json on an embedded folder nobody holds loads PGlite, and the runner only the first time", async () => {
    const dataDir = freshDataDir();
    try {
      const env = { LEDGER_DATA_DIR: dataDir };
      const first = await packagesLoadedBy(["status", "--json"], env);
      expect(first.run.code, first.run.stderr).toBe(0);
      expect(first.packages).toContain(EMBEDDED);
      expect(first.packages).toContain(MIGRATION_RUNNER);
      const again = await packagesLoadedBy(["status", "--json"], env);
      expect(again.run.code, again.run.stderr).toBe(0);
      expect(again.packages).toContain(EMBEDDED);
      expect(again.packages).not.toContain(MIGRATION_RUNNER);
      for (const name of VERB_ONLY) expect(again.packages).not.toContain(name);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("--help loads no package from node_modules", async () => {
    const { run, packages, cli } = await packagesLoadedBy(["--help"], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: plugin-ledger");
    expect(cli).toContain("main.js");
    expect(packages).toEqual([]);
  });
});
