import type pg from "pg";
import { projections } from "../projections/index.ts";
import { createLedger, type Ledger } from "../src/ledger/ledger.ts";
import { createLogger } from "../src/log.ts";
import { migrate } from "../src/store/migrate.ts";
import { type AppendingStore, appendingStore } from "../test/support/appending-store.ts";
import type { ScenarioContext } from "./scenario.ts";
import { type SeedResult, seedEvents } from "./seed.ts";

/**
 * Ledgers in schemas of their own next to the run's (`<run schema>_<name>`, dropped with it by
 * `dropSchema`). The run's own schema takes bare `store.append`s (the append scenario), which
 * leave its projections behind the events; a scenario that goes through the ledger needs
 * projections at the head, so it gets a schema where only the ledger writes.
 */
export type BenchLedger = {
  schema: string;
  ledger: Ledger;
  /** The run's pool, for the bench's own reads of these tables (the ledger hands out none). */
  pool: pg.Pool;
  /** The same events table without projections, statements prepared as on a server. */
  store: AppendingStore;
};

export async function openBenchLedger(context: ScenarioContext, name: string): Promise<BenchLedger> {
  const schema = `${context.schema}_${name}`;
  const logger = createLogger("warn");
  await migrate(context.db.pool, schema, logger);
  return {
    schema,
    ledger: createLedger(context.db, { schema, logger }),
    pool: context.db.pool,
    store: appendingStore({ pool: context.db.pool, schema, prepareStatements: true }),
  };
}

export type SeededHistory = BenchLedger & {
  seed: SeedResult;
  /** The position of the last seeded event. */
  head: number;
  /**
   * Rebuilds the projections if they are behind the events (the seed writes none), then
   * vacuums and analyzes their tables as a long-lived ledger would have them.
   */
  projectionsCurrent(): Promise<void>;
};

const histories = new WeakMap<ScenarioContext, Promise<SeededHistory>>();

/**
 * `settings.events` realistic events over plugin-p00..plugin-p49 (see `seedEvents`), seeded once
 * per run and shared by the scenarios that read a long history (replay, rebuild, queries): at a
 * million events the seed is the longest part of the bench. It goes through the bare store's bulk
 * path, the fastest way in, so the projections start empty; the rebuild scenario's first rebuild
 * fills them, or `projectionsCurrent` does for a scenario run without it.
 */
export function seededHistory(context: ScenarioContext): Promise<SeededHistory> {
  let history = histories.get(context);
  if (history === undefined) {
    history = seed(context);
    histories.set(context, history);
  }
  return history;
}

async function seed(context: ScenarioContext): Promise<SeededHistory> {
  const { settings, progress, signal } = context;
  const opened = await openBenchLedger(context, "history");
  progress(
    `history: seeding ${settings.events.toLocaleString("en-US")} events, ${settings.seedBatch.toLocaleString("en-US")} per appendMany`,
  );
  const seed = await seedEvents(opened.store, {
    total: settings.events,
    perTransaction: settings.seedBatch,
    signal,
    progress: (message) => progress(`history: ${message}`),
  });
  // A long-lived ledger has been vacuumed: set hint bits and the visibility map now, so that the
  // first reader does not pay for writing them and all readers read the same table.
  progress("history: VACUUM ANALYZE events");
  await context.db.pool.query(`VACUUM (ANALYZE) ${opened.store.tables.events}`);
  const head = (await opened.store.head()).position;
  const { pool } = context.db;
  const { tables } = opened.store;
  return {
    ...opened,
    seed,
    head,
    async projectionsCurrent() {
      const found = await pool.query<{ behind: boolean }>(
        `SELECT coalesce(min(position), 0) < $1 AS behind FROM ${tables.checkpoints}`,
        [head],
      );
      if (found.rows[0]?.behind) {
        progress("history: rebuilding the projections");
        await opened.ledger.rebuild();
      }
      progress("history: VACUUM ANALYZE the projection tables");
      for (const table of projections.flatMap((p) => p.tables)) {
        await pool.query(`VACUUM (ANALYZE) ${tables.q(table)}`);
      }
    },
  };
}

/** The seeded history with its projections current, for a scenario that reads them. */
export async function currentHistory(context: ScenarioContext): Promise<SeededHistory> {
  const history = await seededHistory(context);
  await history.projectionsCurrent();
  return history;
}
