import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Command, ExecuteResult } from "../../src/index.ts";
import { createLedger, type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { testLogger } from "../support/databases.ts";
import { type LedgerFixture, openFixture, register, release, upgrade } from "../support/ledger-fixtures.ts";

const peerActor = { actor: { kind: "cli", id: "peer" } } as const;

/**
 * A command decides on the state this process holds when the head is still the one it is true
 * at (src/ledger/held-state.ts); any append since, by this ledger or another process, must make
 * it read the state again.
 */
describe("the state a ledger holds between commands", () => {
  let f: LedgerFixture;
  let peer: Ledger;

  beforeAll(async () => {
    f = await openFixture();
    for (const version of ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]) await f.ok(release("momentum", version));
    await f.ok(release("risk_guard", "1.0.0", { compatibleWith: { momentum: "^1.0.0" } }));
    await f.ok(release("risk_guard", "2.0.0", { compatibleWith: { momentum: "~1.1.0" } }));
    await f.ok(register("risk_guard", "1.0.0"));
    await f.ok(register("momentum", "1.0.0"));
    // Another process on the same ledger: its own pool, and its own state held.
    peer = await openLedger({
      databaseUrl: f.test.env.DATABASE_URL,
      dataDir: "unused",
      schema: f.test.schema,
      poolSize: 1,
      logger: testLogger,
    });
  });
  afterAll(async () => {
    await peer?.close();
    await f?.close();
  });

  /** The state loads `work` sent, each as whether it left the other plugins' rows out. */
  async function loads(work: () => Promise<unknown>): Promise<boolean[]> {
    const answers: Promise<boolean>[] = [];
    const query = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, "query");
    spy.mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      const config = args[0] as { text?: string } | undefined;
      if (config?.text?.includes(" AS running,")) {
        answers.push((result as Promise<pg.QueryResult>).then((r) => r.rows[0].running === null));
      }
      return result;
    } as typeof query);
    try {
      await work();
    } finally {
      spy.mockRestore();
    }
    return Promise.all(answers);
  }

  it("decides on it while the head is unchanged, and reads again after another process appends", async () => {
    // Read: the set-up's registration is not carried forward, so the head has moved.
    expect(await loads(() => f.ok(upgrade("momentum", "1.1.0")))).toEqual([false]);
    // Read for its version, the rest still true at this head (carried past the upgrade).
    expect(await loads(() => f.ok(upgrade("momentum", "1.0.0")))).toEqual([true]);
    // Both versions held now: nothing is read.
    expect(await loads(() => f.ok(upgrade("momentum", "1.1.0")))).toEqual([]);

    // The peer moves risk_guard to a release that accepts momentum 1.1.x only.
    expect(await peer.execute(upgrade("risk_guard", "2.0.0", true), peerActor)).toMatchObject({ ok: true });

    // Decided on what is held here, momentum 1.0.0 would pass the matrix; read again, it does not.
    let refused: ExecuteResult | undefined;
    expect(
      await loads(async () => {
        refused = await f.run(upgrade("momentum", "1.0.0"));
      }),
    ).toEqual([false]);
    expect(refused?.ok).toBe(false);
    if (refused && !refused.ok) expect(refused.violations.map((v) => v.code)).toContain("MATRIX_CONFLICT");
  });

  it("reads it again after its own command on another plugin", async () => {
    // risk_guard back to 1.0.0 by this ledger: what it holds is then risk_guard's.
    const back = await f.run({ kind: "rollback", pluginId: "risk_guard" }, { allowMajor: true });
    expect(back, JSON.stringify(back)).toMatchObject({ ok: true });
    expect(await loads(() => f.ok(upgrade("momentum", "1.2.0")))).toEqual([false]);
    expect(await loads(() => f.ok(upgrade("momentum", "1.1.0")))).toEqual([true]);
    expect(await loads(() => f.ok(upgrade("momentum", "1.2.0")))).toEqual([]);
  });

  it("decides each of many concurrent commands of one process on the head it is granted", async () => {
    const targets = ["1.0.0", "1.1.0", "1.2.0"];
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => f.run(upgrade("momentum", targets[(i + round) % 3] as string))),
      );
      const moves = results
        .flatMap((r) => (r.ok && !r.dryRun ? r.events : []))
        .sort((a, b) => a.position - b.position)
        .map((e) => e.data as { from: string; to: string });
      expect(moves.length).toBeGreaterThan(0);
      // Each upgrade starts from the version the one committed before it left running.
      for (let i = 1; i < moves.length; i++) expect(moves[i]?.from).toBe(moves[i - 1]?.to);
      const refused = results.flatMap((r) => (r.ok ? [] : r.violations.map((v) => v.code)));
      for (const code of refused) expect(["ALREADY", "CONFLICT"]).toContain(code);
    }
    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
  });

  it("decides as a ledger that holds nothing, through a random run with another process", async () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const versions = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"];
    let released = 0;
    for (let step = 0; step < 120; step++) {
      const roll = next(20);
      if (roll === 0) {
        released += 1;
        await peer.execute(release("momentum", `1.3.${released}`), peerActor);
        versions.push(`1.3.${released}`);
      } else if (roll === 1) {
        await peer.execute(upgrade("risk_guard", next(2) === 0 ? "1.0.0" : "2.0.0", true), peerActor);
      } else if (roll === 2) {
        const api = `${2 + next(2)}.0.0`;
        await peer.execute({ kind: "hostSet", apiVersion: api, dbSchemaVersion: "5.0.0" }, peerActor);
      }
      const version = versions[next(versions.length)] as string;
      const command: Command =
        roll === 3
          ? { kind: "rollback", pluginId: "momentum" }
          : roll === 4
            ? { kind: "deprecate", pluginId: "momentum", version, reason: "old" }
            : upgrade("momentum", version, next(3) === 0);
      // A ledger that holds nothing reads everything: its dry run is what the decision must be.
      const fresh = createLedger(f.test.db, { schema: f.test.schema, logger: testLogger });
      const expected = await fresh.execute(command, { actor: { kind: "cli", id: "olga" }, dryRun: true });
      await fresh.close();
      const actual = await f.run(command);
      expect(outcome(actual), `step ${step}: ${JSON.stringify(command)}`).toEqual(outcome(expected));
    }
    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
  });
});

function outcome(result: ExecuteResult) {
  if (!result.ok) return { ok: false, codes: result.violations.map((v) => v.code).sort() };
  return { ok: true, events: result.events.map((e) => ({ type: e.type, data: e.data })) };
}
