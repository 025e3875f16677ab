import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/domain/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { ROOT, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { seedLedger } from "../support/seed.ts";

/** Bad input and early-closed pipes, as a process: exit codes of the contract, one line each. */
describe("CLI bad input", () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let scratch: string;
  const cli = (...args: string[]) => runCli(args, database.env);

  beforeAll(async () => {
    database = await openServerLedger();
    ledger = createLedger(database.db, { schema: database.schema, logger: testLogger });
    scratch = mkdtempSync(path.join(tmpdir(), "pl-inputs-"));
    // Enough events that `events` is still writing when its reader goes.
    const releases = Array.from({ length: 3000 }, (_, i) => ({
      pluginId: "alpha",
      version: `1.0.${i}`,
      buildDate: "2026-01-02",
      author: "ci",
    }));
    const seed: Command[] = [
      { kind: "import", releases },
      { kind: "register", pluginId: "alpha", version: "1.0.0" },
    ];
    await seedLedger(ledger, seed);
  });

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await database?.close();
  });

  it("ends quietly, exit 0, when its reader closes the pipe early (`events | head -1`)", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin/plugin-ledger.js"), "events"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...database.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let first = "";
    await new Promise<void>((resolve) => {
      child.stdout.once("data", (d) => {
        first = String(d).split("\n")[0] ?? "";
        // As `head -1` does: read one line, then close the pipe.
        child.stdout.destroy();
        resolve();
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(JSON.parse(first)).toMatchObject({ position: 1, type: "VersionReleased" });
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("refuses 100,000 invalid import entries with exit 2 and a short summary", async () => {
    const file = path.join(scratch, "bad.json");
    writeFileSync(
      file,
      JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ pluginId: "Bad!", version: `x${i}` }))),
    );
    const run = await cli("import", file);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^plugin-ledger: rejected: INVALID_INPUT: Import entry 1 /);
    expect(lines[20]).toBe("plugin-ledger: … and 199,980 more violations (--json lists them all)");
  });

  it("answers a point that is not one with exit 2 and one line saying what is accepted", async () => {
    for (const point of ["garbage", "", "2026-13-01", "2026-02-30", "99999999999999999999999", "-1"]) {
      const run = await cli("asof", point);
      expect(run.code, point).toBe(2);
      expect(run.stdout, point).toBe("");
      expect(run.stderr, point).toMatch(
        /^plugin-ledger: <point>: expected a position \(a whole number such as 42\) or an ISO-8601 time [^\n]+\n$/,
      );
    }
    const replay = await cli("replay", "--to", "2026-02-29");
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/^plugin-ledger: --to <point>: expected a position[^\n]+"2026-02-29"/);
    expect((await cli("asof", "2028-02-29")).code).toBe(0);
  });

  it("answers an invalid plugin id with exit 2, and a plugin never released with exit 3 NOT_FOUND", async () => {
    const invalid = [
      ["history", "Bad!"],
      ["versions", ""],
      ["abtest", "assign", "x", "BTC"],
      ["audit", "--plugin", "ALPHA"],
      ["timeline", "a-b"],
    ];
    for (const argv of invalid) {
      const run = await cli(...argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stderr, argv.join(" ")).toMatch(/^plugin-ledger: [^\n]*is not a plugin id[^\n]*\n$/);
    }
    for (const argv of [
      ["history", "nobody_here"],
      ["versions", "nobody_here"],
      ["abtest", "assign", "nobody_here", "BTC"],
      ["audit", "--plugin", "nobody_here"],
      ["timeline", "alpha", "nobody_here"],
    ]) {
      const run = await cli(...argv);
      expect(run.code, argv.join(" ")).toBe(3);
      expect(run.stderr, argv.join(" ")).toBe(
        "plugin-ledger: NOT_FOUND: plugin nobody_here is unknown: no version was ever released\n",
      );
    }
    expect((await cli("history", "alpha")).code).toBe(0);
  });

  it("refuses bad settings as usage errors (exit 2) in one line, never touching PostgreSQL's own schemas", async () => {
    const url = database.env.DATABASE_URL as string;
    const settings: Array<[Record<string, string>, RegExp]> = [
      [{ DATABASE_URL: url, LEDGER_SCHEMA: "pg_catalog" }, /LEDGER_SCHEMA/],
      [{ DATABASE_URL: url, LEDGER_SCHEMA: "information_schema" }, /LEDGER_SCHEMA/],
      [{ DATABASE_URL: "postgres://a b/db" }, /DATABASE_URL/],
      [{ DATABASE_URL: "postgres://u:secret@host:99999/db" }, /DATABASE_URL/],
      [{ DATABASE_URL: "mysql://host/db" }, /DATABASE_URL/],
      [{ DATABASE_URL: url, DATABASE_POOL_SIZE: "lots" }, /DATABASE_POOL_SIZE/],
      [{ DATABASE_URL: url, LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    ];
    for (const [env, names] of settings) {
      const run = await runCli(["status"], env);
      expect(run.code, JSON.stringify(env)).toBe(2);
      expect(run.stderr).toMatch(/^plugin-ledger: invalid configuration: [^\n]+\n$/);
      expect(run.stderr).toMatch(names);
      expect(run.stderr).not.toContain("secret");
    }
  });
});
