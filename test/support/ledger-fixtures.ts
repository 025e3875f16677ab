import { readdirSync } from "node:fs";
import { runner } from "node-pg-migrate";
import { expect } from "vitest";
import { projections } from "../../projections/index.ts";
import { type LedgerEvent, streamIdOf } from "../../src/domain/index.ts";
import type { Command, CommandRequest, ExecuteContext, ExecuteResult } from "../../src/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import type { Metadata, StreamAppend } from "../../src/store/index.ts";
import { MIGRATIONS_DIR } from "../../src/store/migrate.ts";
import { appendingStore } from "./appending-store.ts";
import { openServerLedger, type TestDatabase, testLogger, uniqueSchema } from "./databases.ts";

export type Written = Extract<ExecuteResult, { replayed: boolean }>;

/** Shared set-up of the ledger integration tests: a fresh schema, a ledger over it, helpers. */
export type LedgerFixture = {
  test: TestDatabase;
  ledger: Ledger;
  /** Executes as the operator unless the context says otherwise. */
  run(command: CommandRequest, context?: Partial<ExecuteContext>): Promise<ExecuteResult>;
  /** Executes and fails the test unless it was accepted. */
  ok(command: CommandRequest, context?: Partial<ExecuteContext>): Promise<Written>;
  eventCount(): Promise<number>;
  close(): Promise<void>;
};

export const operator = { kind: "cli", id: "olga", name: "Olga" } as const;

export async function openFixture(
  open: () => Promise<TestDatabase> = openServerLedger,
  clock?: () => Date,
): Promise<LedgerFixture> {
  const test = await open();
  // A test clock is this process's clock and also pins recorded_at, so that a history can span
  // days in a test that runs for seconds.
  const ledger = createLedger(test.db, { schema: test.schema, logger: testLogger, clock, pinnedTime: clock });
  const run = (command: CommandRequest, context: Partial<ExecuteContext> = {}) =>
    ledger.execute(command, { actor: operator, ...context });
  return {
    test,
    ledger,
    run,
    async ok(command, context) {
      const result = await run(command, context);
      if (!result.ok)
        expect.fail(`expected ${command.kind} to be accepted: ${JSON.stringify(result.violations)}`);
      if (result.dryRun) expect.fail("expected events written, got a dry run");
      return result;
    },
    async eventCount() {
      const found = await test.db.pool.query(`SELECT count(*)::int AS n FROM "${test.schema}".events`);
      return found.rows[0].n;
    },
    async close() {
      await ledger.close();
      await test.close();
    },
  };
}

/** An import file's entry: a release without the command's `kind`. */
export const entry = (pluginId: string, version: string) => ({
  pluginId,
  version,
  buildDate: "2024-05-01T12:00:00.000Z",
  author: "ci",
});

export const release = (
  pluginId: string,
  version: string,
  extra: Partial<Extract<Command, { kind: "release" }>> = {},
): Command => ({
  kind: "release",
  pluginId,
  version,
  buildDate: "2024-05-01T12:00:00.000Z",
  author: "ci",
  ...extra,
});

export const register = (pluginId: string, version: string): Command => ({
  kind: "register",
  pluginId,
  version,
});
export const upgrade = (pluginId: string, version: string, allowMajor?: boolean): Command => ({
  kind: "upgrade",
  pluginId,
  version,
  ...(allowMajor === undefined ? {} : { allowMajor }),
});

/** Every projection table, each row as JSON text, in a total order: equal dumps, equal tables. */
export async function dumpProjections(test: TestDatabase): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const table of projections.flatMap((p) => p.tables)) {
    const found = await test.db.pool.query(
      `SELECT to_jsonb(t)::text AS row FROM "${test.schema}"."${table}" t ORDER BY 1`,
    );
    dump[table] = found.rows.map((r) => r.row);
  }
  const checkpoints = await test.db.pool.query(
    `SELECT projection, position FROM "${test.schema}".projection_checkpoints ORDER BY projection`,
  );
  dump.checkpoints = checkpoints.rows.map((r) => `${r.projection}@${r.position}`);
  return dump;
}

/**
 * A new schema in `test`'s database, migrated up to the migration named `migration` (not
 * including it): a ledger from before that migration.
 */
export async function schemaBefore(test: TestDatabase, migration: string): Promise<string> {
  const schema = uniqueSchema("old");
  const client = await test.db.pool.connect();
  try {
    await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      count: readdirSync(MIGRATIONS_DIR).filter((name) => name < migration).length,
      migrationsTable: "pgmigrations",
      schema,
      migrationsSchema: schema,
      createSchema: true,
      createMigrationsSchema: true,
      // Other test files migrate their own schemas of this database meanwhile: wait our turn.
      advisoryLockMode: "wait",
      log: () => {},
    });
    await client.query("RESET search_path");
  } finally {
    client.release();
  }
  return schema;
}

/**
 * The projections of `events` appended one at a time in one schema, and as one batch (`batch`,
 * the same events grouped by stream) in another: a batch must project as its events one by one.
 */
export async function projectedOneByOneAndBatched(
  events: LedgerEvent[],
  batch: StreamAppend[],
): Promise<{ oneByOne: Record<string, string[]>; batched: Record<string, string[]> }> {
  const one = await openServerLedger();
  const many = await openServerLedger();
  try {
    const clock = () => new Date("2025-01-01T00:00:00Z");
    const metadata: Metadata = { actor: { kind: "system", id: "seed" }, reason: "batch" };
    const storeIn = (test: TestDatabase) =>
      appendingStore({
        pool: test.db.pool,
        schema: test.schema,
        projections: [...projections],
        pinnedTime: clock,
      });
    const single = storeIn(one);
    for (const event of events) await single.append(streamIdOf(event), "any", [event], metadata);
    await storeIn(many).appendMany(batch, metadata);
    return { oneByOne: await dumpProjections(one), batched: await dumpProjections(many) };
  } finally {
    await one.close();
    await many.close();
  }
}
