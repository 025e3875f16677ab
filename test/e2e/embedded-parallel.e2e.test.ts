import { describe, expect, it } from "vitest";
import { createEventStore } from "../../src/store/event-store.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import { freshDataDir, openEmbeddedLedger } from "../support/databases.ts";
import { type Peer, startPeer } from "../support/processes.ts";

/**
 * Many `plugin-ledger` processes on one embedded folder at once, as a release pipeline, an
 * operator and a cron job would start them: whoever comes first owns the folder and the others
 * connect through its socket, and the owner may leave (or die) while they work.
 */

const ROUNDS = 20;
const PROCESSES = 8;
const WRITERS = 4;

/**
 * A crash prints Node's stack (`    at ...`) or an unhandled 'error' event; a handled failure
 * prints one line. The JSON lines are the log (LOG_LEVEL=warn): a lost connection retried.
 */
function expectNoCrash(run: CliRun) {
  const said = run.stderr.split("\n").filter((line) => line && !line.startsWith('{"level":'));
  expect(said.join("\n")).not.toMatch(/^\s+at |Unhandled|Emitted 'error'|node:internal/m);
  expect([0, 1]).toContain(run.code);
  expect(said).toHaveLength(run.code === 0 ? 0 : 1);
}

/** Every released (plugin, version) and how often, counted from the events themselves. */
async function releasesIn(dataDir: string) {
  const ledger = await openEmbeddedLedger(dataDir);
  try {
    const store = createEventStore({ pool: ledger.db.pool, schema: ledger.schema });
    const counts = new Map<string, number>();
    for await (const event of store.readAll(0)) {
      if (event.type !== "VersionReleased") continue;
      const data = event.data as { pluginId: string; version: string };
      const key = `${data.pluginId}@${data.version}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return { counts, check: await verifyChain(store) };
  } finally {
    await ledger.close();
  }
}

describe("the embedded ledger used by many processes at once", () => {
  it(`${PROCESSES} processes started together, ${ROUNDS} rounds: every one exits 0 with the right answer, each change once`, async () => {
    const dataDir = freshDataDir();
    const env = { LEDGER_DATA_DIR: dataDir };
    const roundMs: number[] = [];
    // Reads that missed an earlier round's release, gathered so a failure shows all of them.
    const stale: Array<{ round: number; i: number; seen: string[]; stderr: string }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const started = Date.now();
      // Every verb opens the ledger and applies pending migrations first (round 1 races them on
      // a folder that has none); half of the processes then release a version, half read.
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, (_, i) => {
          const plugin = `par_${i % WRITERS}`;
          return i < WRITERS
            ? runCli(
                ["release", plugin, `1.${round}.0`, "--idempotency-key", `r${round}-${i}`, "--json"],
                env,
              )
            : runCli(["versions", plugin, "--json"], env);
        }),
      );
      roundMs.push(Date.now() - started);
      runs.forEach((run, i) => {
        // In round 1 a read may come before its plugin's first release: the plugin is unknown
        // then, which `versions` answers with NOT_FOUND (exit 3); later rounds always know it.
        if (round === 1 && i >= WRITERS && run.code === 3) {
          expect(run.stderr).toMatch(/^plugin-ledger: NOT_FOUND: plugin par_\d is unknown/);
          return;
        }
        expect({ round, i, code: run.code, stderr: run.stderr }).toEqual({ round, i, code: 0, stderr: "" });
        const body = JSON.parse(run.stdout);
        if (i < WRITERS) {
          expect(body).toMatchObject({ ok: true, events: [{ type: "VersionReleased" }] });
          expect(body.events[0].data).toMatchObject({ pluginId: `par_${i}`, version: `1.${round}.0` });
        } else {
          // A read sees every earlier round's release, and this round's at most.
          const seen = (body.items as Array<{ version: string }>).map((v) => v.version);
          const expected = Array.from({ length: round - 1 }, (_, e) => `1.${e + 1}.0`);
          const missing = expected.filter((v) => !seen.includes(v));
          if (missing.length > 0 || seen.length > round) stale.push({ round, i, seen, stderr: run.stderr });
        }
      });
    }
    const { counts, check } = await releasesIn(dataDir);
    expect(stale).toEqual([]);
    expect(counts.size).toBe(ROUNDS * WRITERS);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(check).toMatchObject({ ok: true, firstBadPosition: null, events: ROUNDS * WRITERS });
    console.info(`embedded, ${PROCESSES} processes a round: round times in ms ${roundMs.join(" ")}`);
  }, 900_000);

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`survives its owner's ${signal} while 4 clients run changes: each completes or fails in one line, a retry records it once`, async () => {
      const dataDir = freshDataDir();
      const env = { LEDGER_DATA_DIR: dataDir };
      const owner: Peer = startPeer(["batch", "owner", "1"], env);
      expect(await owner.waitFor(/^ready/, 120_000)).toBe("ready embedded-owner");
      const change = (client: number, n: number) => [
        "release",
        `kill_${client}`,
        `2.0.${n}`,
        "--idempotency-key",
        `${signal}-${client}-${n}`,
        "--json",
      ];
      let killed = false;
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map(async (client) => {
          const results: Array<{ args: string[]; run: CliRun }> = [];
          for (let n = 0; n < 3; n++) {
            const args = change(client, n);
            const run = await runCli(args, env);
            // Kill the owner as soon as the first change is through: the others are under way.
            if (!killed) {
              killed = true;
              owner.child.kill(signal);
            }
            results.push({ args, run });
          }
          return results;
        }),
      );
      expect(await owner.exited).not.toBe(0);
      const all = outcomes.flat();
      for (const { run } of all) expectNoCrash(run);
      // The caller of a failed change retries it with the same key: done once, whatever happened.
      for (const { args, run } of all) {
        if (run.code === 0) continue;
        const again = await runCli(args, env);
        expectNoCrash(again);
        expect({ args, code: again.code }).toEqual({ args, code: 0 });
      }
      const { counts, check } = await releasesIn(dataDir);
      expect(counts.size).toBe(12);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(check.ok).toBe(true);
      const failed = all.filter((o) => o.run.code !== 0);
      console.info(
        `embedded owner ${signal}: ${failed.length} of ${all.length} changes failed in one line and were retried`,
        failed.map((o) =>
          o.run.stderr
            .split("\n")
            .filter((l) => l && !l.startsWith("{"))
            .join(" "),
        ),
      );
    }, 300_000);
  }

  it("a stopped owner: a client ends with exit 1 and one line naming the folder, not a hang", async () => {
    const dataDir = freshDataDir();
    const owner = startPeer(["batch", "owner", "1"], { LEDGER_DATA_DIR: dataDir });
    expect(await owner.waitFor(/^ready/, 120_000)).toBe("ready embedded-owner");
    owner.child.kill("SIGSTOP");
    try {
      const env = {
        LEDGER_DATA_DIR: dataDir,
        DATABASE_CONNECT_TIMEOUT_MS: "1000",
        DATABASE_RETRY_MS: "1000",
      };
      for (const args of [["status"], ["release", "stalled", "1.0.0"], ["verify", "--json"]]) {
        const run = await runCli(args, env);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe("");
        const lines = run.stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(dataDir);
        expect(lines[0]).toContain("stopped");
      }
    } finally {
      owner.child.kill("SIGCONT");
      owner.child.stdin.write("exit\n");
      await owner.exited;
    }
  }, 120_000);
});
