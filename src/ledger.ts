import { projections } from "../projections/index.ts";
import type { CommandRequest } from "./domain/index.ts";
import { createExecute, type ExecuteContext, type ExecuteResult } from "./ledger-execute.ts";
import { createFeed, type FeedOptions, type LedgerFeed } from "./ledger-feed.ts";
import type { Logger } from "./log.ts";
import { type PendingActions, pendingActions } from "./pending-actions.ts";
import { type RebuildResult, rebuildProjections } from "./projection-rebuild.ts";
import { type Assignment, assignments } from "./queries/assignment.ts";
import { type CatalogEntry, type MatrixView, matrix, versions } from "./queries/catalog.ts";
import { type AuditEntry, audit, type HistoryInterval, history } from "./queries/history.ts";
import { type Readiness, readiness } from "./queries/readiness.ts";
import { replayStatus } from "./queries/replay.ts";
import {
  activeVersion,
  asOf,
  headPosition,
  type PluginStatus,
  pluginStatus,
  resolvePosition,
  type StatusView,
  status,
} from "./queries/status.ts";
import { type TimelineOptions, type TimelineView, timeline } from "./queries/timeline.ts";
import { type RecordedEvent, recordedEvent } from "./recorded-event.ts";
import {
  createEventStore,
  type Database,
  migrate,
  openDatabase,
  type VerifyResult,
  verifyChain,
} from "./store/index.ts";

export type LedgerOptions = {
  /** A PostgreSQL server; unset, the embedded PGlite ledger in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  schema: string;
  poolSize: number;
  logger: Logger;
  /** Time of appends and of release defaults; tests pin it. */
  clock?: () => Date;
  feed?: FeedOptions;
};

export type Progress = (done: number, total: number) => void;

/** The application service: every transport (CLI, Telegram, the trading bot) goes through it. */
export type Ledger = LedgerFeed & {
  database: Database;
  /** Decide and append, or explain why not (DESIGN.md "Rules"). */
  execute(command: CommandRequest, context: ExecuteContext): Promise<ExecuteResult>;
  status(): Promise<StatusView>;
  /** One plugin as `status` shows it (null when it does not run), and the head it was read at. */
  plugin(pluginId: string): Promise<{ position: number; plugin: PluginStatus | null }>;
  /** The position of the last event (0 for an empty ledger). */
  head(): Promise<number>;
  /** The head, and the projections not at it (events appended without them: run rebuild). */
  readiness(): Promise<Readiness>;
  activeVersion(pluginId: string): Promise<string | null>;
  versions(pluginId: string): Promise<CatalogEntry[]>;
  history(pluginId: string, options?: { limit?: number }): Promise<HistoryInterval[]>;
  matrix(): Promise<MatrixView>;
  /** The latest events first; `before` a position for the next page. */
  audit(options?: { limit?: number; pluginId?: string; before?: number }): Promise<AuditEntry[]>;
  /** The status at a position, or at the last event recorded at or before a moment. */
  asOf(at: number | Date): Promise<StatusView>;
  /** Which versions the plugins ran in a window, with their A/B tests: indexed, not a replay. */
  timeline(pluginIds: readonly string[], options?: TimelineOptions): Promise<TimelineView>;
  /**
   * The version a unit (a symbol, an account) gets: the A/B arm its bucket falls in while a test
   * runs, else the active version. As of a position or a moment when `at` is given, with the
   * split in force then.
   */
  assign(pluginId: string, unitKey: string, at?: number | Date): Promise<Assignment>;
  /** The same for many units, with one lookup of the ledger for all of them. */
  assignMany(pluginId: string, unitKeys: readonly string[], at?: number | Date): Promise<Assignment[]>;
  /** The same answer from a full fold of the events through the domain. */
  replay(options?: { to?: number | Date }): Promise<StatusView>;
  /** Events after position `after`, in batches, in position order. */
  events(after?: number): AsyncGenerator<RecordedEvent[]>;
  verify(onProgress?: Progress): Promise<VerifyResult>;
  rebuild(onProgress?: Progress): Promise<RebuildResult>;
  /** Previews waiting for a Telegram Confirm/Cancel (kept with the ledger, so transports hold no SQL). */
  pendingActions: PendingActions;
  /** Applies pending migrations (opening the ledger already did); the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
};

/** Opens the database as `openDatabase` does, applies pending migrations, and serves it. */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  const database = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    poolSize: options.poolSize,
    logger: options.logger,
  });
  try {
    await migrate(database.pool, options.schema, options.logger);
  } catch (error) {
    await database.close();
    throw error;
  }
  return createLedger(database, { ...options, ownsDatabase: true });
}

/**
 * A ledger on a database that is already open and migrated; `close` closes the database only
 * if `ownsDatabase`.
 */
export function createLedger(
  database: Database,
  options: { schema: string; logger: Logger; clock?: () => Date; ownsDatabase?: boolean; feed?: FeedOptions },
): Ledger {
  const { pool } = database;
  const clock = options.clock ?? (() => new Date());
  const store = createEventStore({
    pool,
    schema: options.schema,
    projections: [...projections],
    clock,
    prepareStatements: !database.sharedSession,
  });
  const { tables } = store;
  const execute = createExecute({
    store,
    projections: projections.map((p) => p.name),
    clock,
    logger: options.logger,
  });
  const { closeFeed, ...feed } = createFeed(
    database,
    store,
    options.logger,
    () => status(pool, tables),
    options.feed,
  );
  return {
    ...feed,
    database,
    execute,
    status: () => status(pool, tables),
    plugin: (pluginId) => pluginStatus(pool, tables, pluginId),
    head: () => headPosition(pool, tables),
    readiness: () =>
      readiness(
        pool,
        tables,
        projections.map((p) => p.name),
      ),
    activeVersion: (pluginId) => activeVersion(pool, tables, pluginId),
    versions: (pluginId) => versions(pool, tables, pluginId),
    history: (pluginId, historyOptions) => history(pool, tables, pluginId, historyOptions),
    matrix: () => matrix(pool, tables),
    audit: (auditOptions) => audit(pool, tables, auditOptions),
    asOf: (at) => asOf(pool, tables, at),
    async assign(pluginId, unitKey, at) {
      const [assignment] = await assignments(pool, tables, pluginId, [unitKey], at);
      return assignment as Assignment;
    },
    assignMany: (pluginId, unitKeys, at) => assignments(pool, tables, pluginId, unitKeys, at),
    timeline: (pluginIds, timelineOptions = {}) =>
      timeline(pool, tables, pluginIds, timelineOptions, clock()),
    async replay(replayOptions = {}) {
      const to =
        replayOptions.to === undefined
          ? await headPosition(pool, tables)
          : await resolvePosition(pool, tables, replayOptions.to);
      return replayStatus(store, to);
    },
    async *events(after = 0) {
      for await (const batch of store.readAllBatches(after)) yield batch.map(recordedEvent);
    },
    verify: (onProgress) => verifyChain(store, onProgress),
    rebuild: (onProgress) =>
      rebuildProjections(store, projections, { readThroughPool: !database.sharedSession, onProgress }),
    pendingActions: pendingActions(pool, options.schema),
    migrate: () => migrate(pool, options.schema, options.logger),
    async close() {
      await closeFeed();
      if (options.ownsDatabase) await database.close();
    },
  };
}
