/**
 * The library API: what the trading bot, and any other program in the same process, uses.
 * Everything goes through a Ledger; nothing here knows a transport.
 */

export type {
  AuditDeliveries,
  Delivery,
  DeliveryState,
  Outgoing,
} from "./audit-deliveries.ts";
export type { CheckpointAudit, ConsistencyCheck } from "./checkpoint-audit.ts";
export { type CheckpointSigner, startCheckpointSigner } from "./checkpoint-signer.ts";
export type { SignedCheckpoint } from "./checkpoints.ts";
export { type Config, ConfigError, loadConfig, type WebhookConfig } from "./config.ts";
export type * from "./domain/index.ts";
export {
  assignUnit,
  bucketOf,
  compareVersions,
  formatPercent,
  isPluginId,
  isRange,
  isVersion,
  parsePercent,
  RULE_CODES,
  satisfiesRange,
  UNFORCEABLE_CODES,
} from "./domain/index.ts";
export {
  formatVerifierKey,
  NoteError,
  parseVerifierKey,
  type Signer,
  type Verifier,
} from "./domain/signed-note.ts";
export type {
  LedgerWatch,
  PluginChange,
  WatchedPlugin,
  WatchedSplit,
  WatchHealth,
} from "./feed/ledger-watch.ts";
export type {
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from "./feed/subscriber.ts";
export type { SubscriptionStatus } from "./feed/subscription-list.ts";
export type { Tail, TailHandler } from "./feed/tail.ts";
export type { FeedHealth } from "./feed/wakeups.ts";
export {
  startWebhooks,
  type WebhookOptions,
  type Webhooks,
  webhookSignature,
  webhookSubscriberName,
} from "./feed/webhooks.ts";
export {
  createLedger,
  type Ledger,
  type LedgerOptions,
  openLedger,
  type Progress,
  type Proof,
  TransparencyError,
} from "./ledger.ts";
export type { ExecuteContext, ExecuteResult } from "./ledger-execute.ts";
export type { FeedOptions, LedgerFeed } from "./ledger-feed.ts";
export { ProjectionsBehindError } from "./ledger-state-loader.ts";
export { createLogger, type Logger } from "./log.ts";
export type { RebuildResult } from "./projection-rebuild.ts";
export { type ProofCheck, verifyProofFile } from "./proof-file.ts";
export type { Assignment } from "./queries/assignment.ts";
export type { AuditChat } from "./queries/audit-chats.ts";
export type { CatalogEntry, MatrixItem, MatrixView } from "./queries/catalog.ts";
export type { AuditEntry, HistoryInterval } from "./queries/history.ts";
export type { Readiness } from "./queries/readiness.ts";
export type { AbTestStatus, PluginStatus, StatusView } from "./queries/status.ts";
export type { TimelineOptions, TimelineView } from "./queries/timeline.ts";
export type {
  Actor,
  LedgerPoint,
  TimelineAction,
  TimelineEnd,
  TimelineInterval,
} from "./queries/timeline-pieces.ts";
export type { RecordedEvent } from "./recorded-event.ts";
export { generateSigningKey, readSigningKey, SigningKeyError, writeSigningKey } from "./signing-key.ts";
export type { ActorKind, ChainBreak, DatabaseTimeouts, Metadata, VerifyResult } from "./store/index.ts";
export { ChainTamperedError, DatabaseUnavailableError, isConnectionLost } from "./store/index.ts";
