import { projections } from "../projections/index.ts";
import type { CommandRequest } from "./domain/index.ts";
import { createExecute, type ExecuteContext, type ExecuteResult } from "./ledger-execute.ts";
import { type ReconnectOptions, reconnecting, retryWindow } from "./ledger-reconnect.ts";
import type { Logger } from "./log.ts";
import { type PendingActions, pendingActions } from "./pending-actions.ts";
import { type RebuildResult, rebuildProjections } from "./projection-rebuild.ts";
import { type Assignment, assignments } from "./queries/assignment.ts";
import { type CatalogEntry, type MatrixView, matrix, versions } from "./queries/catalog.ts";
import { type AuditEntry, audit, type HistoryInterval, history } from "./queries/history.ts";
import { replayStatus } from "./queries/replay.ts";
import {
  activeVersion,
  asOf,
  headPosition,
  resolvePosition,
  type StatusView,
  status,
} from "./queries/status.ts";
import { type TimelineOptions, type TimelineView, timeline } from "./queries/timeline.ts";
import { type RecordedEvent, recordedEvent } from "./recorded-event.ts";
import {
  createEventStore,
  type Database,
  type DatabaseTimeouts,
  DEFAULT_TIMEOUTS,
  databaseLocation,
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
  /** Connect, statement and retry bounds (README "Configuration"); the documented defaults if unset. */
  timeouts?: DatabaseTimeouts | undefined;
};

export type Progress = (done: number, total: number) => void;

/** The application service: every transport (CLI, Telegram, the trading bot) goes through it. */
export type Ledger = {
  database: Database;
  /** Decide and append, or explain why not (DESIGN.md "Rules"). */
  execute(command: CommandRequest, context: ExecuteContext): Promise<ExecuteResult>;
  status(): Promise<StatusView>;
  activeVersion(pluginId: string): Promise<string | null>;
  versions(pluginId: string): Promise<CatalogEntry[]>;
  history(pluginId: string, options?: { limit?: number }): Promise<HistoryInterval[]>;
  matrix(): Promise<MatrixView>;
  audit(options?: { limit?: number; pluginId?: string }): Promise<AuditEntry[]>;
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
  return createLedger(database, { ...options, timeouts, ownsDatabase: true });
}

/**
 * A ledger on a database that is already open and migrated; `close` closes the database only
 * if `ownsDatabase`.
 */
export function createLedger(
  database: Database,
  options: {
    schema: string;
    logger: Logger;
    clock?: () => Date;
    ownsDatabase?: boolean;
    timeouts?: DatabaseTimeouts | undefined;
  },
): Ledger {
  const { pool } = database;
  const reconnect: ReconnectOptions = {
    location: database.location,
    embedded: database.mode !== "server",
    retryMs: (options.timeouts ?? DEFAULT_TIMEOUTS).retryMs,
    logger: options.logger,
  };
  // Every read and write below runs again on a new connection when its connection is lost.
  const retry = reconnecting(reconnect);
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
    retry,
  });
  return {
    database,
    execute,
    status: () => retry("status", () => status(pool, tables)),
    activeVersion: (pluginId) => retry("activeVersion", () => activeVersion(pool, tables, pluginId)),
    versions: (pluginId) => retry("versions", () => versions(pool, tables, pluginId)),
    history: (pluginId, historyOptions) =>
      retry("history", () => history(pool, tables, pluginId, historyOptions)),
    matrix: () => retry("matrix", () => matrix(pool, tables)),
    audit: (auditOptions) => retry("audit", () => audit(pool, tables, auditOptions)),
    asOf: (at) => retry("asOf", () => asOf(pool, tables, at)),
    async assign(pluginId, unitKey, at) {
      const [assignment] = await retry("assign", () => assignments(pool, tables, pluginId, [unitKey], at));
      return assignment as Assignment;
    },
    assignMany: (pluginId, unitKeys, at) =>
      retry("assign", () => assignments(pool, tables, pluginId, unitKeys, at)),
    timeline: (pluginIds, timelineOptions = {}) =>
      retry("timeline", () => timeline(pool, tables, pluginIds, timelineOptions, clock())),
    replay: (replayOptions = {}) =>
      retry("replay", async () => {
        const to =
          replayOptions.to === undefined
            ? await headPosition(pool, tables)
            : await resolvePosition(pool, tables, replayOptions.to);
        return replayStatus(store, to);
      }),
    async *events(after = 0) {
      // Resumes after the last batch handed out: a lost connection neither repeats nor skips events.
      const retryBatch = retryWindow(reconnect, "events");
      let from = after;
      for (;;) {
        try {
          for await (const batch of store.readAllBatches(from)) {
            retryBatch.succeeded();
            from = (batch[batch.length - 1] as { position: number }).position;
            yield batch.map(recordedEvent);
          }
          return;
        } catch (error) {
          await retryBatch(error);
        }
      }
    },
    // A whole walk again: it only reads, and its progress starts over.
    verify: (onProgress) => retry("verify", () => verifyChain(store, onProgress)),
    // One transaction: a lost connection rolls all of it back, so it runs again from the start.
    rebuild: (onProgress) =>
      retry("rebuild", () =>
        rebuildProjections(store, projections, { readThroughPool: !database.sharedSession, onProgress }),
      ),
    pendingActions: pendingActions(pool, options.schema),
    migrate: () => retry("migrate", () => migrate(pool, options.schema, options.logger)),
    async close() {
      if (options.ownsDatabase) await database.close();
    },
  };
}
