/**
 * The ledger's one face: the application service (command -> decide -> append with the inline
 * projections), its queries' views, the change feed and the transparency log. Transports (CLI,
 * Telegram, HTTP, webhooks) import this module and the domain, never the store, the projections
 * or the queries' modules.
 */

export type { RebuildResult } from "../../projections/rebuild.ts";
export { DatabaseUnavailableError, isConnectionLost } from "../store/connection-errors.ts";
export { ConcurrencyError, IdempotencyConflictError } from "../store/errors.ts";
export {
  type ActorKind,
  type ChainBreak,
  ChainTamperedError,
  type DatabaseTimeouts,
  type Metadata,
  type VerifyResult,
} from "../store/index.ts";
export type { AuditDeliveries, Delivery, DeliveryState, Outgoing } from "./audit-deliveries.ts";
export type { CheckpointAudit, ConsistencyCheck } from "./checkpoint-audit.ts";
export { type CheckpointSigner, startCheckpointSigner } from "./checkpoint-signer.ts";
export type { SignedCheckpoint } from "./checkpoints.ts";
export type { ExecuteContext, ExecuteResult } from "./execute.ts";
export type { Backoff } from "./feed/backoff.ts";
export type {
  LedgerWatch,
  PluginChange,
  WatchedPlugin,
  WatchedSplit,
  WatchHealth,
} from "./feed/ledger-watch.ts";
export type { SubscribeOptions, Subscription, SubscriptionHandler } from "./feed/subscriber.ts";
export type { SubscriptionStatus } from "./feed/subscription-list.ts";
export type { Tail, TailHandler } from "./feed/tail.ts";
export type { FeedHealth } from "./feed/wakeups.ts";
export type { FeedOptions, LedgerFeed } from "./feed.ts";
export { createLedger, openLedger } from "./ledger.ts";
export type { Ledger, LedgerOptions, LedgerSettings, LedgerStorage, Progress, Proof } from "./ledger-type.ts";
export type { PendingAction, PendingActions, PreviewedContext } from "./pending-actions.ts";
export { type ProofCheck, verifyProofFile } from "./proof-file.ts";
export type { Assignment } from "./queries/assignment.ts";
export type { AuditChat } from "./queries/audit-chats.ts";
export type { CatalogEntry, MatrixItem, MatrixView } from "./queries/catalog.ts";
export type { AuditEntry, HistoryInterval } from "./queries/history.ts";
export type { Readiness } from "./queries/readiness.ts";
export type { AbTestStatus, PluginStatus, StatusView } from "./queries/status.ts";
export type { TimelineOptions, TimelineView } from "./queries/timeline.ts";
export type { RecordedEvent } from "./recorded-event.ts";
export { generateSigningKey, readSigningKey, SigningKeyError, writeSigningKey } from "./signing-key.ts";
export { ProjectionsBehindError } from "./state-loader.ts";
export { TransparencyError } from "./transparency.ts";
export { eventLine, itemsDocument, statusDocument, timelineDocument } from "./views.ts";
