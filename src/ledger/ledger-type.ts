import type pg from "pg";
import type { RebuildResult } from "../../projections/rebuild.ts";
import type { CommandRequest, DiffResult } from "../domain/index.ts";
import type { Signer, Verifier } from "../domain/signed-note.ts";
import type { Logger } from "../log.ts";
import type { Database, DatabaseTimeouts, EventStore, VerifyResult } from "../store/index.ts";
import type { Tables } from "../store/tables.ts";
import type { AuditDeliveries } from "./audit-deliveries.ts";
import type { CheckpointAudit, ConsistencyCheck } from "./checkpoint-audit.ts";
import type { SignedCheckpoint } from "./checkpoints.ts";
import type { ExecuteContext, ExecuteResult } from "./execute.ts";
import type { FeedOptions, LedgerFeed } from "./feed.ts";
import type { PendingActions } from "./pending-actions.ts";
import type { Assignment } from "./queries/assignment.ts";
import type { AuditChat } from "./queries/audit-chats.ts";
import type { CatalogEntry, MatrixView } from "./queries/catalog.ts";
import type { AuditEntry, HistoryInterval } from "./queries/history.ts";
import type { Readiness } from "./queries/readiness.ts";
import type { PluginStatus, StatusView } from "./queries/status.ts";
import type { TimelineOptions, TimelineView } from "./queries/timeline.ts";
import type { Reconnect, ReconnectOptions } from "./reconnect.ts";
import type { RecordedEvent } from "./recorded-event.ts";

/** How a ledger behaves on a database, whoever opened it. */
export type LedgerSettings = {
  schema: string;
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

export type LedgerOptions = LedgerSettings & {
  /** A PostgreSQL server; unset, the embedded PGlite ledger in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
};

/** A proof file (src/ledger/proof-file.ts) and the checkpoint it proves against. */
export type Proof = { position: number; checkpoint: SignedCheckpoint; file: string };

export type Progress = (done: number, total: number) => void;

/** The application service: every transport (CLI, Telegram, the trading bot) goes through it. */
export type Ledger = LedgerFeed &
  LedgerReads &
  LedgerTransparency &
  LedgerAdmin & {
    /** Where the ledger is stored, safe to print; never the pool (no transport gets it). */
    storage: LedgerStorage;
    /** Decide and append, or explain why not (DESIGN.md "Rules"). */
    execute(command: CommandRequest, context: ExecuteContext): Promise<ExecuteResult>;
    /** Previews waiting for a Telegram Confirm/Cancel (kept with the ledger, so transports hold no SQL). */
    pendingActions: PendingActions;
    /** What the audit-chat notifier is to post, and posted, to which chat (its outbox). */
    auditDeliveries: AuditDeliveries;
    close(): Promise<void>;
  };

/** The database's mode (server, embedded owner or client: it may change) and printable location. */
export type LedgerStorage = { readonly mode: Database["mode"]; readonly location: string };

/** The ledger's queries over its projections. */
export type LedgerReads = {
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
  /** Every chat told (or once told) of the changes, from the audit_chats projection. */
  auditChats(): Promise<AuditChat[]>;
};

/** The transparency log: the Merkle tree over the events, its signed checkpoints and proofs. */
export type LedgerTransparency = {
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
};

/** The whole log at once: its events, their fold, the chain's check, the projections' rebuild. */
export type LedgerAdmin = {
  /** The same answer as `status` from a full fold of the events through the domain. */
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
  /** Applies pending migrations (opening the ledger already did); the names applied. */
  migrate(): Promise<string[]>;
};

/** What the ledger's parts run on; inside src/ledger only (no transport gets the pool). */
export type LedgerCore = {
  database: Database;
  pool: pg.Pool;
  tables: Tables;
  store: EventStore;
  /** Every read and write runs again on a new connection when its connection is lost. */
  retry: Reconnect;
  reconnect: ReconnectOptions;
  clock: () => Date;
  settings: LedgerSettings;
};
