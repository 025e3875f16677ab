import { projections } from "../../projections/index.ts";
import { type RebuildResult, rebuildProjections } from "../../projections/rebuild.ts";
import type { CommandRequest, DiffResult } from "../domain/index.ts";
import type { Signer, Verifier } from "../domain/signed-note.ts";
import type { Logger } from "../log.ts";
import {
  createEventStore,
  type Database,
  type DatabaseTimeouts,
  DEFAULT_TIMEOUTS,
  databaseLocation,
  migrate,
  openDatabase,
  type StoredEvent,
  type VerifyResult,
  verifyChain,
} from "../store/index.ts";
import { type AuditDeliveries, auditDeliveries } from "./audit-deliveries.ts";
import {
  auditCheckpoint,
  type CheckpointAudit,
  type ConsistencyCheck,
  checkConsistency,
  readCheckpointNote,
} from "./checkpoint-audit.ts";
import { checkpointStore, type SignedCheckpoint } from "./checkpoints.ts";
import { createExecute, type ExecuteContext, type ExecuteResult } from "./execute.ts";
import { createFeed, type FeedOptions, type LedgerFeed } from "./feed.ts";
import { catchUpMerkle } from "./merkle-catch-up.ts";
import { inclusionProof, treeRoot } from "./merkle-proofs.ts";
import { type PendingActions, pendingActions } from "./pending-actions.ts";
import { formatProofFile } from "./proof-file.ts";
import { type Assignment, assignments } from "./queries/assignment.ts";
import { type AuditChat, auditChats } from "./queries/audit-chats.ts";
import { type CatalogEntry, diff, type MatrixView, matrix, versions } from "./queries/catalog.ts";
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
import { type ReconnectOptions, reconnecting, retryWindow } from "./reconnect.ts";
import { type RecordedEvent, recordedEvent } from "./recorded-event.ts";

export type LedgerOptions = {
  /** A PostgreSQL server; unset, the embedded PGlite ledger in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  schema: string;
  poolSize: number;
  logger: Logger;
  /**
   * This process's clock: release defaults ("built now"), the end of a timeline's default window,
   * and the check that warns when it is far from the database's. `recorded_at` is never from it.
   */
  clock?: () => Date;
  /** Tests only: recorded_at pinned instead of the database's clock (see EventStoreOptions). */
  pinnedTime?: () => Date;
  feed?: FeedOptions;
  /** Connect, statement and retry bounds (README "Configuration"); the documented defaults if unset. */
  timeouts?: DatabaseTimeouts | undefined;
  /** The checkpoints' origin line; default `plugin-ledger/<schema>`. */
  origin?: string;
  /** Signs checkpoints; without it the ledger proves against checkpoints it already holds. */
  signer?: Signer;
};

/** A proof file (src/ledger/proof-file.ts) and the checkpoint it proves against. */
export type Proof = { position: number; checkpoint: SignedCheckpoint; file: string };

export class TransparencyError extends Error {
  override name = "TransparencyError";
}

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
  /** What changes from one released version to another: features, requirements, matrix, notes. */
  diff(pluginId: string, from: string, to: string): Promise<DiffResult>;
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
  /**
   * Recreates every projection from the events, checking the hash chain as it reads them: a
   * chain that does not verify throws ChainTamperedError (naming the first bad position) and
   * changes nothing, unless `force` gives a reason (the result then says it was forced).
   */
  rebuild(onProgress?: Progress, options?: { force?: { reason: string } }): Promise<RebuildResult>;
  /** The origin line of this ledger's checkpoints. */
  origin: string;
  /** The Merkle tree's size (the head position) and root, base64. */
  treeHead(): Promise<{ size: number; rootHash: string }>;
  /**
   * Signs a checkpoint of the tree at the head (or of its first `size` leaves, at most the head),
   * or returns the one stored for that size: never two different checkpoints for one size.
   */
  checkpoint(size?: number): Promise<SignedCheckpoint>;
  latestCheckpoint(): Promise<SignedCheckpoint | null>;
  checkpointAt(size: number): Promise<SignedCheckpoint | null>;
  checkpoints(): Promise<SignedCheckpoint[]>;
  /**
   * A proof file for the event at `position`: its inclusion in the checkpoint of `size` if given
   * (it must be stored), else in the smallest stored checkpoint that holds it, else in a new
   * checkpoint of the head (with a signer).
   */
  prove(position: number, size?: number): Promise<Proof>;
  /** Does today's stored tree extend this checkpoint note? A consistency proof, milliseconds. */
  checkConsistency(note: string, verifier?: Verifier): Promise<ConsistencyCheck>;
  /** The same held to the events themselves, and every stored checkpoint with it (a pass over the log). */
  auditCheckpoint(note: string, verifier?: Verifier, onProgress?: Progress): Promise<CheckpointAudit>;
  /** Previews waiting for a Telegram Confirm/Cancel (kept with the ledger, so transports hold no SQL). */
  pendingActions: PendingActions;
  /** Every chat told (or once told) of the changes, from the audit_chats projection. */
  auditChats(): Promise<AuditChat[]>;
  /** What the audit-chat notifier is to post, and posted, to which chat (its outbox). */
  auditDeliveries: AuditDeliveries;
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
  const ledger = createLedger(database, { ...options, timeouts, ownsDatabase: true });
  try {
    // Events appended without projections (a bare store, an import by other means) get their
    // leaves now. A ledger whose events cannot be read as a tree (a deleted row) still opens,
    // so that `verify` can say what is wrong; the tree's own calls then fail with the reason.
    const added = await catchUpMerkle(ledger.store);
    if (added > 0) options.logger.info({ events: added }, "Merkle tree filled from the events");
  } catch (error) {
    options.logger.warn(
      { err: (error as Error).message },
      "the Merkle tree could not be brought to the head",
    );
  }
  return ledger;
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
    pinnedTime?: () => Date;
    ownsDatabase?: boolean;
    timeouts?: DatabaseTimeouts | undefined;
    origin?: string;
    signer?: Signer;
    feed?: FeedOptions;
  },
): Ledger & { store: ReturnType<typeof createEventStore> } {
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
    logger: options.logger,
    pinnedTime: options.pinnedTime,
    prepareStatements: !database.sharedSession,
  });
  const { tables } = store;
  const origin = options.origin ?? `plugin-ledger/${options.schema}`;
  const checkpoints = checkpointStore(pool, tables);
  /** The tree at the head: caught up first if appends without projections left it behind. */
  async function currentSize(): Promise<number> {
    await catchUpMerkle(store);
    return (await store.head()).position;
  }
  async function sign(size: number): Promise<SignedCheckpoint> {
    const stored = await checkpoints.at(size);
    if (stored) return stored;
    if (!options.signer)
      throw new TransparencyError("no signing key: set LEDGER_SIGNING_KEY_FILE (see plugin-ledger keygen)");
    return checkpoints.sign(options.signer, origin, size);
  }
  async function prove(position: number, size?: number): Promise<Proof> {
    const head = await currentSize();
    if (!Number.isSafeInteger(position) || position < 1 || position > head) {
      throw new TransparencyError(`no event at position ${position} (the ledger holds ${head})`);
    }
    let checkpoint: SignedCheckpoint | null;
    if (size !== undefined) {
      checkpoint = await checkpoints.at(size);
      if (!checkpoint) throw new TransparencyError(`no signed checkpoint of size ${size} is stored`);
      if (size < position)
        throw new TransparencyError(`the checkpoint of size ${size} does not hold position ${position}`);
    } else {
      checkpoint = (await checkpoints.covering(position - 1)) ?? (options.signer ? await sign(head) : null);
      if (!checkpoint) {
        throw new TransparencyError(
          `no signed checkpoint holds position ${position} yet, and no signing key is set to sign one`,
        );
      }
    }
    const [event] = await store.readRange(position, position);
    const { proof, root } = await inclusionProof(pool, tables, position - 1, checkpoint.size);
    if (root.toString("base64") !== checkpoint.rootHash) {
      throw new TransparencyError(
        `the stored tree's root of size ${checkpoint.size} is not the signed one: the tree or the events changed; run verify --checkpoint`,
      );
    }
    return { position, checkpoint, file: formatProofFile(event as StoredEvent, proof, checkpoint.note) };
  }
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
    () => status(pool, tables),
    options.feed,
  );
  return {
    ...feed,
    database,
    store,
    execute,
    origin,
    treeHead: () =>
      retry("treeHead", async () => {
        const size = await currentSize();
        return { size, rootHash: (await treeRoot(pool, tables, size)).toString("base64") };
      }),
    // Signing again after a lost commit finds the checkpoint stored for that size and returns it.
    checkpoint: (size) =>
      retry("checkpoint", async () => {
        const head = await currentSize();
        if (size === undefined) return sign(head);
        if (!Number.isSafeInteger(size) || size < 1 || size > head) {
          throw new TransparencyError(`cannot sign a tree of size ${size}: the ledger holds ${head} events`);
        }
        return sign(size);
      }),
    latestCheckpoint: () => retry("latestCheckpoint", () => checkpoints.latest()),
    checkpointAt: (size) => retry("checkpointAt", () => checkpoints.at(size)),
    checkpoints: () => retry("checkpoints", () => checkpoints.all()),
    prove: (position, size) => retry("prove", () => prove(position, size)),
    checkConsistency: (note, verifier) =>
      retry("checkConsistency", async () =>
        checkConsistency(pool, tables, readCheckpointNote(note, origin, verifier), await currentSize()),
      ),
    auditCheckpoint: (note, verifier, onProgress) =>
      retry("auditCheckpoint", async () => {
        const read = readCheckpointNote(note, origin, verifier);
        return auditCheckpoint(pool, tables, read, await checkpoints.all(), onProgress);
      }),
    status: () => retry("status", () => status(pool, tables)),
    plugin: (pluginId) => retry("plugin", () => pluginStatus(pool, tables, pluginId)),
    head: () => retry("head", () => headPosition(pool, tables)),
    // Not retried: a readiness probe answers at once whether the database is reachable now.
    readiness: () =>
      readiness(
        pool,
        tables,
        projections.map((p) => p.name),
      ),
    activeVersion: (pluginId) => retry("activeVersion", () => activeVersion(pool, tables, pluginId)),
    versions: (pluginId) => retry("versions", () => versions(pool, tables, pluginId)),
    history: (pluginId, historyOptions) =>
      retry("history", () => history(pool, tables, pluginId, historyOptions)),
    diff: (pluginId, from, to) => retry("diff", () => diff(pool, tables, pluginId, from, to)),
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
    async rebuild(onProgress, rebuildOptions = {}) {
      const result = await retry("rebuild", () =>
        rebuildProjections(store, projections, {
          readThroughPool: !database.sharedSession,
          onProgress,
          force: rebuildOptions.force,
        }),
      );
      if (result.forced) {
        options.logger.warn(
          { ...result.forced },
          "rebuilt the projections from a chain that does not verify (forced)",
        );
      }
      return result;
    },
    pendingActions: pendingActions(pool, options.schema, execute, retry),
    auditChats: () => retry("auditChats", () => auditChats(pool, tables)),
    auditDeliveries: retriedDeliveries(auditDeliveries(pool, options.schema), retry),
    migrate: () => retry("migrate", () => migrate(pool, options.schema, options.logger)),
    async close() {
      await closeFeed();
      if (options.ownsDatabase) await database.close();
    },
  };
}

/**
 * Each outbox call run again on a new connection when its connection is lost: every one is
 * idempotent (a claim is this sender's to take again, the others are conditional updates).
 */
function retriedDeliveries(
  deliveries: AuditDeliveries,
  retry: ReturnType<typeof reconnecting>,
): AuditDeliveries {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, call] of Object.entries(deliveries) as [
    string,
    (...args: unknown[]) => Promise<unknown>,
  ][]) {
    wrapped[name] = (...args: unknown[]) => retry(`auditDeliveries.${name}`, () => call(...args));
  }
  return wrapped as AuditDeliveries;
}
