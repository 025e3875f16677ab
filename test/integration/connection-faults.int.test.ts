import { randomUUID } from "node:crypto";
import type pg from "pg";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { CommandRequest, ExecuteResult } from "../../src/index.ts";
import { type Ledger, openLedgerInternals } from "../../src/ledger/ledger.ts";
import type { NewPendingAction } from "../../src/ledger/pending-actions.ts";
import { inSnapshot } from "../../src/ledger/queries/snapshot.ts";
import { withCheckedOut } from "../../src/store/checked-out.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { DatabaseUnavailableError, isConnectionLost } from "../../src/store/connection-errors.ts";
import { migrate } from "../../src/store/migrate.ts";
import { openServerLedger, type TestDatabase, uniqueSchema } from "../support/databases.ts";
import { executeCounted, warningsLogger } from "../support/fault-outcomes.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

/**
 * The ledger against a PostgreSQL server behind a loopback proxy that cuts, refuses and stalls
 * its connections: every fault fails or retries one operation, never the process, and a write
 * whose commit went unanswered is found again under its idempotency key rather than written twice.
 */

const operator = { actor: { kind: "system" as const, id: "deployer" } };
// Small bounds, so that faults resolve quickly; the statement bound stays generous for a loaded machine.
const timeouts = { connectMs: 1_000, statementMs: 5_000, retryMs: 4_000 };

type Harness = { direct: TestDatabase; proxy: TcpProxy; ledger: Ledger; pool: pg.Pool; warnings: string[] };

async function openHarness(): Promise<Harness> {
  const direct = await openServerLedger();
  const url = direct.env.DATABASE_URL as string;
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const { logger, warnings } = warningsLogger();
  const { ledger, database } = await openLedgerInternals({
    databaseUrl: proxy.urlFor(url),
    dataDir: "unused",
    schema: direct.schema,
    poolSize: 4,
    logger,
    timeouts,
  });
  return { direct, proxy, ledger, pool: database.pool, warnings };
}

async function eventsWithKey(direct: TestDatabase, key: string): Promise<number[]> {
  const found = await direct.db.pool.query<{ position: number }>(
    `SELECT position FROM "${direct.schema}".events WHERE metadata->>'idempotencyKey' = $1 ORDER BY position`,
    [key],
  );
  return found.rows.map((row) => row.position);
}

function written(result: ExecuteResult) {
  if (!result.ok || result.dryRun) throw new Error(`expected a write, got ${JSON.stringify(result)}`);
  return result;
}

const release = (version: string) => ({ kind: "release", pluginId: "faulty", version }) as CommandRequest;

/** A Telegram preview of an upgrade to 1.1.0, asked by user 7 in update `updateId`. */
const preview = (updateId: number): NewPendingAction => ({
  id: randomUUID(),
  updateId,
  chatId: 7,
  requesterUserId: 7,
  command: { kind: "upgrade", pluginId: "faulty", version: "1.1.0" },
  ctx: { actor: { kind: "telegram", id: "7", name: "op" } },
  state: "pending",
  ttlMs: 120_000,
});
/** An import of `count` releases of the plugin, versions `<major>.0.0` to `<major>.<count - 1>.0`. */
const importOf = (count: number, major: number) =>
  ({
    kind: "import",
    releases: Array.from({ length: count }, (_, i) => ({
      pluginId: "faulty",
      version: `${major}.${i}.0`,
      buildDate: "2026-01-01T00:00:00Z",
      author: "ci",
    })),
  }) as CommandRequest;
const upgrade = (version: string): CommandRequest => ({ kind: "upgrade", pluginId: "faulty", version });

describe.skipIf(inject("serverKind") !== "postgres")("connection faults on a PostgreSQL server", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.ledger.close();
    await h.proxy.close();
    await h.direct.close();
  });

  it("writes once a change whose COMMIT reached the server but whose answer was lost", async () => {
    const sprung = h.proxy.cutAfterSending("COMMIT");
    const result = written(await h.ledger.execute(release("1.0.0"), operator));
    await sprung;
    const key = result.events[0]?.metadata.idempotencyKey as string;
    expect(key).toMatch(/^auto:/);
    expect(await eventsWithKey(h.direct, key)).toEqual(result.events.map((e) => e.position));
    expect(result.replayed).toBe(false);
    expect(h.warnings).toContain("database connection lost; the operation succeeded on a new connection");
    expect((await h.ledger.verify()).ok).toBe(true);
  });

  it("writes on the retry a change whose connection was cut before its commit", async () => {
    const sprung = h.proxy.cutAfterSending("FOR UPDATE");
    const result = written(await h.ledger.execute(release("1.0.0"), operator));
    await sprung;
    const key = result.events[0]?.metadata.idempotencyKey as string;
    expect(await eventsWithKey(h.direct, key)).toEqual(result.events.map((e) => e.position));
    expect(h.warnings).toContain("database connection lost; the operation succeeded on a new connection");
  });

  it("answers a caller's own key from the ledger after a lost commit, as replayed", async () => {
    const sprung = h.proxy.cutAfterSending("COMMIT");
    const context = { ...operator, idempotencyKey: "deploy-42" };
    const first = written(await h.ledger.execute(release("1.0.0"), context));
    await sprung;
    expect(await eventsWithKey(h.direct, "deploy-42")).toEqual(first.events.map((e) => e.position));
    const again = written(await h.ledger.execute(release("1.0.0"), context));
    expect(again.replayed).toBe(true);
    expect(again.events.map((e) => e.position)).toEqual(first.events.map((e) => e.position));
  });

  it("confirms a Telegram preview once when the answer to its COMMIT is lost", async () => {
    written(await h.ledger.execute(release("1.0.0"), operator));
    written(await h.ledger.execute(release("1.1.0"), operator));
    written(await h.ledger.execute({ kind: "register", pluginId: "faulty", version: "1.0.0" }, operator));
    const action = preview(91_001);
    const { id } = action;
    await h.ledger.pendingActions.create(action);
    const sprung = h.proxy.cutAfterSending("COMMIT");
    // The retry finds the press's key: the preview used in the lost transaction is not "already used".
    const confirmed = await h.ledger.pendingActions.confirm(
      id,
      { userId: 7, updateId: 91_002 },
      { causationId: "91002", idempotencyKey: "tg:91002" },
    );
    await sprung;
    expect(confirmed?.result.ok).toBe(true);
    expect(await eventsWithKey(h.direct, "tg:91002")).toHaveLength(1);
    expect((await h.ledger.pendingActions.find(id))?.state).toBe("confirmed");
    expect(await h.ledger.activeVersion("faulty")).toBe("1.1.0");
  });

  it("records a Telegram preview and cancels it once when the answers to their statements are lost", async () => {
    const action = preview(92_001);
    // The INSERT reaches the server and commits; its answer never comes back. Run again, it
    // meets its own row: recorded (true), not taken for a redelivered command (false).
    const inserted = h.proxy.cutAfterSending("INSERT INTO");
    expect(await h.ledger.pendingActions.create(action)).toBe(true);
    await inserted;
    const rows = await h.direct.db.pool.query(
      `SELECT state FROM "${h.direct.schema}".telegram_pending_actions WHERE update_id = $1`,
      [action.updateId],
    );
    expect(rows.rows).toEqual([{ state: "pending" }]);
    // A redelivery of the same command (a new preview id, the same update) is still recognised.
    expect(await h.ledger.pendingActions.create({ ...action, id: randomUUID() })).toBe(false);

    const cancelled = h.proxy.cutAfterSending("RETURNING *");
    const press = { userId: 7, updateId: 92_002 };
    // Run again, the cancel finds the preview it cancelled, not an "already used" one.
    expect((await h.ledger.pendingActions.cancel(action.id, press))?.state).toBe("cancelled");
    await cancelled;
    const found = h.proxy.cutAfterSending("SELECT * FROM");
    expect((await h.ledger.pendingActions.find(action.id))?.state).toBe("cancelled");
    await found;
    // Another press finds it used.
    expect(await h.ledger.pendingActions.cancel(action.id, { userId: 7, updateId: 92_003 })).toBeNull();
    expect(h.warnings).toContain("database connection lost; the operation succeeded on a new connection");
  });

  it("fails only the operation when a checked-out connection is cut between its statements", async () => {
    // Without an 'error' listener on the checked-out client, this cut ends the process.
    const { pool } = h;
    const error = await withCheckedOut(pool, async (client) => {
      await client.query("BEGIN");
      h.proxy.cut();
      await sleep(200);
      await client.query("SELECT 1");
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConnectionLost(error)).toBe(true);
    // The broken connection was discarded, not handed out again.
    expect((await pool.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    expect(await inSnapshot(pool, (client) => client.query("SELECT 3 AS three"))).toMatchObject({
      rows: [{ three: 3 }],
    });
  });

  it("writes an import of 500 releases once when the answer to its COMMIT is lost", async () => {
    const sprung = h.proxy.cutAfterSending("COMMIT");
    const result = written(await h.ledger.execute(importOf(500, 3), operator));
    await sprung;
    expect(result.events).toHaveLength(500);
    const key = result.events[0]?.metadata.idempotencyKey as string;
    expect(await eventsWithKey(h.direct, key)).toEqual(result.events.map((e) => e.position));
    expect(await eventCount(h.direct)).toBe(500);
    expect(h.warnings).toContain("database connection lost; the operation succeeded on a new connection");
  });

  it("hands out every event once when its reading connection is cut between batches", async () => {
    written(await h.ledger.execute(importOf(2_500, 4), operator));
    const positions: number[] = [];
    let batches = 0;
    for await (const batch of h.ledger.events(0)) {
      batches++;
      positions.push(...batch.map((e) => e.position));
      // Cut while the consumer holds a batch, and refuse the next connection for a moment.
      if (batches === 1) h.proxy.cut();
      if (batches === 2) {
        await h.proxy.refuse();
        setTimeout(() => void h.proxy.restore(), 200);
      }
    }
    expect(positions).toEqual(Array.from({ length: 2_500 }, (_, i) => i + 1));
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(h.warnings).toContain("database connection lost; the operation succeeded on a new connection");
  });

  it("ends a read on a server that stopped answering with one DatabaseUnavailableError, then recovers", async () => {
    await h.ledger.status();
    h.proxy.stall();
    const error = await h.ledger.status().then(
      () => undefined,
      (e: unknown) => e,
    );
    await h.proxy.restore();
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot reach the ledger database at postgres://[^ ]*127\\.0\\.0\\.1:${h.proxy.port}/[^ ]*: .+; check DATABASE_URL and that the server runs$`,
      ),
    );
    expect(await h.ledger.status()).toMatchObject({ plugins: [] });
  });

  it("runs 500 commands through cuts, lost commits and two restarts: every ok is recorded once", async () => {
    for (let minor = 0; minor < 10; minor++)
      written(await h.ledger.execute(release(`1.0.${minor}`), operator));
    written(await h.ledger.execute({ kind: "register", pluginId: "faulty", version: "1.0.0" }, operator));
    const before = await eventCount(h.direct);

    const faults = { cuts: 0, lostCommits: 0, restarts: 0, outages: 0 };
    const outcomes = { ok: [] as ExecuteResult[], rejected: 0, unavailable: 0, readsUnavailable: 0 };
    let outage: Promise<void> = Promise.resolve();
    // Deterministic pseudo-random choices, so a failure can be replayed.
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      if (i % 25 === 10) {
        // A cut while the command is on the wire: before, during or after its transaction.
        setTimeout(
          () => {
            faults.cuts++;
            h.proxy.cut();
          },
          Math.floor(random() * 4),
        );
      }
      if (i % 25 === 20) void h.proxy.cutAfterSending("COMMIT").then(() => faults.lostCommits++);
      if (i === 150 || i === 350) {
        // A restart: connections dropped, refused for a moment, then served again.
        faults.restarts++;
        await h.proxy.refuse();
        outage = sleep(300).then(() => h.proxy.restore());
      }
      if (i === 450) {
        // Down for longer than the retry bound: the commands meanwhile report it.
        faults.outages++;
        await h.proxy.refuse();
        outage = sleep(timeouts.retryMs + 1_500).then(() => h.proxy.restore());
      }
      const command = i % 4 === 0 ? release(`2.${i}.0`) : upgrade(`1.0.${Math.floor(random() * 10)}`);
      await executeCounted(h.ledger, command, operator, outcomes);
      if (i % 10 === 0) {
        await h.ledger.status().catch((error: unknown) => {
          expect(error).toBeInstanceOf(DatabaseUnavailableError);
          outcomes.readsUnavailable++;
        });
      }
    }
    await outage;

    // Every command that returned ok is in the ledger exactly once, under its own key.
    const keys = new Set<string>();
    for (const result of outcomes.ok) {
      const { events } = written(result);
      const key = events[0]?.metadata.idempotencyKey as string;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      expect(await eventsWithKey(h.direct, key)).toEqual(events.map((e) => e.position));
    }
    // Nothing else was written but, at most, the commands whose outcome was reported unknown;
    // a rejection wrote nothing; and no key holds two writes.
    const loopEvents = (await eventCount(h.direct)) - before;
    const okEvents = outcomes.ok.reduce((n, r) => n + written(r).events.length, 0);
    expect(loopEvents - okEvents).toBeGreaterThanOrEqual(0);
    expect(loopEvents - okEvents).toBeLessThanOrEqual(outcomes.unavailable);
    const perKey = await h.direct.db.pool.query(
      `SELECT metadata->>'idempotencyKey' AS key, count(*)::int AS n FROM "${h.direct.schema}".events
        GROUP BY 1 HAVING count(*) > 1`,
    );
    expect(perKey.rows).toEqual([]);
    expect(outcomes.ok.length + outcomes.rejected + outcomes.unavailable).toBe(500);
    expect(outcomes.ok.length).toBeGreaterThan(250);
    expect(outcomes.unavailable).toBeGreaterThan(0);
    expect(faults.restarts).toBe(2);
    expect(faults.lostCommits).toBeGreaterThan(5);
    expect(h.warnings.filter((w) => w.startsWith("database connection lost")).length).toBeGreaterThan(10);
    expect(h.warnings.filter((w) => !w.startsWith("database connection lost"))).toEqual([]);
    expect((await h.ledger.verify()).ok).toBe(true);
    console.info("connection faults:", { ...faults, ...outcomes, ok: outcomes.ok.length, loopEvents });
  });
});

describe.skipIf(inject("serverKind") !== "postgres")("migrations under the statement bound", () => {
  it("wait again for another runner's lock held longer than one statement may take", async () => {
    const direct = await openServerLedger();
    const url = direct.env.DATABASE_URL as string;
    const bounded = await openDatabase({
      databaseUrl: url,
      dataDir: "unused",
      poolSize: 2,
      logger: pino({ level: "silent" }),
      timeouts: { connectMs: 2_000, statementMs: 300, retryMs: 1_000 },
    });
    const holder = await direct.db.pool.connect();
    const schema = uniqueSchema();
    try {
      // node-pg-migrate's database-wide lock, held as another runner would hold it.
      await holder.query("SELECT pg_advisory_lock(7241865325823964)");
      const migrating = migrate(bounded.pool, schema, pino({ level: "silent" }));
      await sleep(700);
      await holder.query("SELECT pg_advisory_unlock(7241865325823964)");
      expect((await migrating).length).toBeGreaterThan(0);
    } finally {
      holder.release();
      await direct.db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await bounded.close();
      await direct.close();
    }
  });
});

async function eventCount(direct: TestDatabase): Promise<number> {
  const found = await direct.db.pool.query(`SELECT count(*)::int AS n FROM "${direct.schema}".events`);
  return found.rows[0].n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
