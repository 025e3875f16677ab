import { projections } from "../../projections/index.ts";
import {
  createEventStore,
  type Database,
  DEFAULT_TIMEOUTS,
  databaseLocation,
  type EventStore,
  migrate,
  openDatabase,
} from "../store/index.ts";
import { type AuditDeliveries, auditDeliveries } from "./audit-deliveries.ts";
import { createExecute } from "./execute.ts";
import { createFeed } from "./feed.ts";
import { adminOf } from "./ledger-admin.ts";
import { readsOf } from "./ledger-reads.ts";
import type { Ledger, LedgerCore, LedgerOptions, LedgerSettings } from "./ledger-type.ts";
import { catchUpMerkle } from "./merkle-catch-up.ts";
import { pendingActions } from "./pending-actions.ts";
import { status } from "./queries/status.ts";
import { type Reconnect, type ReconnectOptions, reconnecting } from "./reconnect.ts";
import { transparencyOf } from "./transparency.ts";

export type { Ledger, LedgerOptions, LedgerSettings, LedgerStorage, Progress, Proof } from "./ledger-type.ts";
export { TransparencyError } from "./transparency.ts";

/**
 * A ledger and what it runs on, for tests and the bench that look under it (their own SQL on the
 * same pool, a bare store on the same tables). Not on the ledger's face: no transport gets these.
 */
export type LedgerInternals = { ledger: Ledger; database: Database; store: EventStore };

/** Opens the database as `openDatabase` does, applies pending migrations, and serves it. */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  return (await openLedgerInternals(options)).ledger;
}

/** `openLedger`, and the database and store under the ledger (see LedgerInternals). */
export async function openLedgerInternals(options: LedgerOptions): Promise<LedgerInternals> {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const retry = reconnecting({
    location: databaseLocation(options),
    embedded: !options.databaseUrl,
    retryMs: timeouts.retryMs,
    logger: options.logger,
  });
  const database = await retry("open", () =>
    openDatabase({
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      poolSize: options.poolSize,
      logger: options.logger,
      timeouts,
    }),
  );
  try {
    await retry("migrate", () => migrate(database.pool, options.schema, options.logger));
  } catch (error) {
    await database.close();
    throw error;
  }
  const internals = createLedgerInternals(database, { ...options, timeouts, ownsDatabase: true });
  try {
    // Events appended without projections (a bare store, an import by other means) get their
    // leaves now. A ledger whose events cannot be read as a tree (a deleted row) still opens,
    // so that `verify` can say what is wrong; the tree's own calls then fail with the reason.
    const added = await catchUpMerkle(internals.store);
    if (added > 0) options.logger.info({ events: added }, "Merkle tree filled from the events");
  } catch (error) {
    options.logger.warn(
      { err: (error as Error).message },
      "the Merkle tree could not be brought to the head",
    );
  }
  return internals;
}

/**
 * A ledger on a database that is already open and migrated; `close` closes the database only
 * if `ownsDatabase`.
 */
export function createLedger(
  database: Database,
  options: LedgerSettings & { ownsDatabase?: boolean },
): Ledger {
  return createLedgerInternals(database, options).ledger;
}

/** `createLedger`, and the store under the ledger (see LedgerInternals). */
export function createLedgerInternals(
  database: Database,
  options: LedgerSettings & { ownsDatabase?: boolean },
): LedgerInternals {
  const core = coreOf(database, options);
  const { pool, store, retry, clock } = core;
  const execute = createExecute({
    store,
    projections: projections.map((p) => p.name),
    clock,
    logger: options.logger,
    retry,
  });
  const { closeFeed, ...feed } = createFeed(
    database,
    store,
    options.logger,
    () => status(pool, core.tables),
    options.feed,
  );
  const ledger: Ledger = {
    ...feed,
    ...readsOf(core),
    ...transparencyOf(core),
    ...adminOf(core),
    storage: {
      get mode() {
        return database.mode;
      },
      location: database.location,
    },
    execute,
    pendingActions: pendingActions(pool, options.schema, execute, retry),
    auditDeliveries: retriedDeliveries(auditDeliveries(pool, options.schema), retry),
    async close() {
      await closeFeed();
      if (options.ownsDatabase) await database.close();
    },
  };
  return { ledger, database, store };
}

function coreOf(database: Database, settings: LedgerSettings): LedgerCore {
  const reconnect: ReconnectOptions = {
    location: database.location,
    embedded: database.mode !== "server",
    retryMs: (settings.timeouts ?? DEFAULT_TIMEOUTS).retryMs,
    logger: settings.logger,
  };
  const clock = settings.clock ?? (() => new Date());
  const store = createEventStore({
    pool: database.pool,
    schema: settings.schema,
    projections: [...projections],
    clock,
    logger: settings.logger,
    pinnedTime: settings.pinnedTime,
    prepareStatements: !database.sharedSession,
  });
  const { pool } = database;
  // Every read and write of the parts runs again on a new connection when its connection is lost.
  return {
    database,
    pool,
    tables: store.tables,
    store,
    retry: reconnecting(reconnect),
    reconnect,
    clock,
    settings,
  };
}

/**
 * Each outbox call run again on a new connection when its connection is lost: every one is
 * idempotent (a claim is this sender's to take again, the others are conditional updates).
 */
function retriedDeliveries(deliveries: AuditDeliveries, retry: Reconnect): AuditDeliveries {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, call] of Object.entries(deliveries) as [
    string,
    (...args: unknown[]) => Promise<unknown>,
  ][]) {
    wrapped[name] = (...args: unknown[]) => retry(`auditDeliveries.${name}`, () => call(...args));
  }
  return wrapped as AuditDeliveries;
}
