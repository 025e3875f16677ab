import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { pngHeader } from "../support/png.ts";
import { parseTimelineCsv } from "../support/timeline-csv.ts";

/** `plugin-ledger timeline` as an analyst runs it: a process writing CSV, JSON, a table or a PNG. */
describe("plugin-ledger timeline", () => {
  let ledger: TestDatabase;
  let dir: string;
  const cli = (...args: string[]) => runCli(args, ledger.env);
  const ok = async (...args: string[]) => {
    const run = await cli(...args);
    expect(run.code, run.stderr).toBe(0);
    return run;
  };

  beforeAll(async () => {
    ledger = await openServerLedger();
    dir = mkdtempSync(path.join(tmpdir(), "timeline-"));
    for (const version of ["3.2.1", "3.3.0", "3.4.0"]) await ok("release", "combined_v3", version);
    await ok("release", "risk_guard", "1.0.0");
    await ok("register", "combined_v3", "3.2.1", "--actor", "alice", "--reason", "first run");
    await ok("register", "risk_guard", "1.0.0");
    await ok("upgrade", "combined_v3", "3.3.0", "--reason", 'faster fills, "maybe"');
    await ok("upgrade", "combined_v3", "3.4.0", "--reason", "venue\nsecond line");
    await ok("rollback", "combined_v3", "--actor", "bob", "--reason", "latency spike");
  });
  afterAll(async () => {
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes CSV that parses back into the intervals the JSON gives", async () => {
    // Up to the last position, not now: the two runs must see the same window.
    const csv = await ok("timeline", "combined_v3", "risk_guard", "--to", "9", "--format", "csv");
    const json = await ok("timeline", "combined_v3", "risk_guard", "--to", "9", "--json");
    const items = JSON.parse(json.stdout).items;
    expect(items.map((i: { version: string; action: string }) => `${i.version} ${i.action}`)).toEqual([
      "3.2.1 registered",
      "3.3.0 upgraded",
      "3.4.0 upgraded",
      "3.3.0 rolled_back",
      "1.0.0 registered",
    ]);
    expect(csv.stdout.split("\r\n")[0]).toMatch(/^plugin_id,version,candidate,/);
    expect(JSON.parse(JSON.stringify(parseTimelineCsv(csv.stdout)))).toEqual(items);
    expect(items[2]).toMatchObject({ reason: "venue\nsecond line", endedBy: "rolled_back" });
    expect(items[3]).toMatchObject({ actor: { id: "bob" }, toClipped: true, endedBy: null });
  });

  it("clips at --from and --to given as positions", async () => {
    // Positions: 1-4 releases, 5 and 6 registrations, 7 and 8 upgrades, 9 the rollback.
    const json = await ok("timeline", "combined_v3", "--from", "6", "--to", "8", "--format", "json");
    const { from, to, items } = JSON.parse(json.stdout);
    expect([from.position, to.position]).toEqual([6, 8]);
    expect(
      items.map((i: Record<string, unknown>) => [
        i.version,
        i.fromPosition,
        i.fromClipped,
        i.toPosition,
        i.toClipped,
      ]),
    ).toEqual([
      ["3.2.1", 6, true, 7, false],
      ["3.3.0", 7, false, 8, false],
      ["3.4.0", 8, false, 8, true],
    ]);
  });

  it("draws a PNG into --out", async () => {
    const file = path.join(dir, "timeline.png");
    const run = await ok(
      "timeline",
      "combined_v3",
      "risk_guard",
      "--format",
      "png",
      "--out",
      file,
      "--width",
      "1000",
    );
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/wrote .*timeline\.png: 5 intervals, png/);
    const header = pngHeader(readFileSync(file));
    expect(header.width).toBe(1000);
    expect(header.height).toBeGreaterThan(200);
  });

  it("prints a table that names the versions and marks the clipped ends", async () => {
    const run = await ok("timeline", "combined_v3");
    expect(run.stdout).toContain("rolled_back");
    expect(run.stdout).toMatch(
      /3\.3\.0 +\d{4}-\d\d-\d\d \d\d:\d\d +\d{4}-\d\d-\d\d \d\d:\d\d >\s+rolled_back/,
    );
    expect(run.stdout).toContain("venue second line");
    // risk_guard is released at position 4 and runs from position 6.
    expect((await ok("timeline", "combined_v3", "risk_guard", "--to", "5")).stdout).toContain(
      "no interval in this window: risk_guard",
    );
    // A plugin never released is not a plugin with an empty timeline.
    const unknown = await cli("timeline", "combined_v3", "never_ran");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe(
      "plugin-ledger: NOT_FOUND: plugin never_ran is unknown: no version was ever released\n",
    );
  });

  it("answers bad arguments with one line and exit 2", async () => {
    for (const args of [
      ["timeline", "combined_v3", "--format", "gif"],
      ["timeline", "Combined"],
      ["timeline", "combined_v3", "--from", "2025-13-45"],
      ["timeline", "combined_v3", "--from", "8", "--to", "6"],
      ["timeline", "combined_v3", "--json", "--format", "csv"],
    ]) {
      const run = await cli(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(run.stdout).toBe("");
    }
  });
});
