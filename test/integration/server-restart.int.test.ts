import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/index.ts";
import { type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { executeCounted, type FaultOutcomes, warningsLogger } from "../support/fault-outcomes.ts";
import { clusterBinaries, type PrivateCluster, startPrivateCluster } from "../support/private-cluster.ts";

/**
 * The same promise as connection-faults.int.test.ts, against the real thing: a PostgreSQL
 * cluster of this file's own, restarted (`pg_ctl restart -m fast`: every session ends with
 * 57P01) and killed (`-m immediate`: crash recovery) while commands run through the library.
 */

const operator = { actor: { kind: "system" as const, id: "deployer" } };
const timeouts = { connectMs: 2_000, statementMs: 10_000, retryMs: 20_000 };

describe.skipIf(!clusterBinaries())("commands through a PostgreSQL server that restarts", () => {
  let cluster: PrivateCluster;
  let ledger: Ledger;
  const { logger, warnings } = warningsLogger();

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    ledger = await openLedger({
      databaseUrl: cluster.url,
      dataDir: "unused",
      schema: "ledger",
      poolSize: 4,
      logger,
      timeouts,
    });
  });
  afterAll(async () => {
    await ledger?.close();
    await cluster?.stop();
  });

  it("records every command that returned ok exactly once across two restarts and a kill", async () => {
    const release = (version: string) =>
      ({ kind: "release", pluginId: "restarted", version }) as CommandRequest;
    for (let minor = 0; minor < 5; minor++) {
      expect((await ledger.execute(release(`1.0.${minor}`), operator)).ok).toBe(true);
    }
    expect(
      (await ledger.execute({ kind: "register", pluginId: "restarted", version: "1.0.0" }, operator)).ok,
    ).toBe(true);

    const restarts: Promise<void>[] = [];
    const outcomes: FaultOutcomes = { ok: [], rejected: 0, unavailable: 0 };
    for (let i = 0; i < 300; i++) {
      // Not awaited: the server goes down while the next commands are on their way.
      if (i === 80 || i === 240) restarts.push(cluster.restart("fast"));
      if (i === 160) restarts.push(cluster.restart("immediate"));
      const command =
        i % 3 === 0
          ? release(`2.${i}.0`)
          : ({
              kind: "upgrade",
              pluginId: "restarted",
              version: `1.0.${i % 5}`,
            } as CommandRequest);
      await executeCounted(ledger, command, operator, outcomes);
    }
    await Promise.all(restarts);

    const direct = new pg.Pool({ connectionString: cluster.url, max: 1 });
    try {
      for (const result of outcomes.ok) {
        if (!result.ok || result.dryRun) throw new Error("expected a write");
        const key = result.events[0]?.metadata.idempotencyKey;
        const found = await direct.query<{ position: number }>(
          `SELECT position::int FROM ledger.events WHERE metadata->>'idempotencyKey' = $1 ORDER BY position`,
          [key],
        );
        expect(found.rows.map((r) => r.position)).toEqual(result.events.map((e) => e.position));
      }
      const twice = await direct.query(
        `SELECT metadata->>'idempotencyKey' AS key FROM ledger.events GROUP BY 1 HAVING count(*) > 1`,
      );
      expect(twice.rows).toEqual([]);
    } finally {
      await direct.end();
    }
    expect(outcomes.ok.length + outcomes.rejected + outcomes.unavailable).toBe(300);
    expect(outcomes.ok.length).toBeGreaterThan(200);
    // Each restart cost at least one command its connection, and each of those recovered.
    expect(
      warnings.filter((w) => w === "database connection lost; the operation succeeded on a new connection")
        .length,
    ).toBeGreaterThanOrEqual(3);
    expect((await ledger.verify()).ok).toBe(true);
    console.info("server restarts:", {
      restarts: 3,
      ok: outcomes.ok.length,
      rejected: outcomes.rejected,
      unavailable: outcomes.unavailable,
      recovered: warnings.length,
    });
  });
});
