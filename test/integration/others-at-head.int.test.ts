import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { testLogger } from "../support/databases.ts";
import { type LedgerFixture, openFixture, register, release, upgrade } from "../support/ledger-fixtures.ts";

/**
 * A command reuses the other plugins' rows it read or carried forward when the head is still the
 * one they were true at (src/ledger/others-at-head.ts); any append since, by this ledger or
 * another process, must make it read them again.
 */
describe("the other plugins' rows a command reuses", () => {
  let f: LedgerFixture;
  let peer: Ledger;

  beforeAll(async () => {
    f = await openFixture();
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) await f.ok(release("momentum", version));
    await f.ok(release("risk_guard", "1.0.0", { compatibleWith: { momentum: "^1.0.0" } }));
    await f.ok(release("risk_guard", "2.0.0", { compatibleWith: { momentum: "~1.1.0" } }));
    await f.ok(register("risk_guard", "1.0.0"));
    await f.ok(register("momentum", "1.0.0"));
    // Another process on the same ledger: its own pool, and its own rows kept.
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

  /** Whether each state load of `work` was answered without the other plugins' rows. */
  async function reused(work: () => Promise<unknown>): Promise<boolean[]> {
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

  it("reuses them after its own command on a named plugin, and reads them after another process appends", async () => {
    // Kept from the set-up's last command, which named momentum too and touched only momentum.
    expect(await reused(() => f.ok(upgrade("momentum", "1.1.0")))).toEqual([true]);
    expect(await reused(() => f.ok(upgrade("momentum", "1.0.0")))).toEqual([true]);
    await f.ok(upgrade("momentum", "1.1.0"));

    // The peer moves risk_guard to a release that accepts momentum 1.1.x only.
    const moved = await peer.execute(upgrade("risk_guard", "2.0.0", true), {
      actor: { kind: "cli", id: "peer" },
    });
    expect(moved.ok).toBe(true);

    // Decided on the rows kept here, momentum 1.2.0 would pass the matrix; read again, it does not.
    let refused: Awaited<ReturnType<Ledger["execute"]>> | undefined;
    expect(
      await reused(async () => {
        refused = await f.run(upgrade("momentum", "1.2.0"));
      }),
    ).toEqual([false]);
    expect(refused?.ok).toBe(false);
    if (refused && !refused.ok) expect(refused.violations.map((v) => v.code)).toContain("MATRIX_CONFLICT");
  });

  it("reads them again after its own command on another plugin", async () => {
    // This ledger takes risk_guard back to 1.0.0 (which accepts any momentum 1.x): the rows kept
    // were for a command naming risk_guard, so the next command on momentum reads them again.
    const back = await f.run({ kind: "rollback", pluginId: "risk_guard" }, { allowMajor: true });
    expect(back, JSON.stringify(back)).toMatchObject({ ok: true });
    expect(await reused(() => f.ok(upgrade("momentum", "1.2.0")))).toEqual([false]);
    expect(await reused(() => f.ok(upgrade("momentum", "1.0.0")))).toEqual([true]);
  });

  it("leaves the state equal to a replay's", async () => {
    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
  });
});
