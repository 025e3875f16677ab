/**
 * The library API: what the trading bot, and any other program in the same process, uses.
 * Everything goes through a Ledger (src/ledger/index.ts); nothing here knows a transport.
 */

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
export * from "./ledger/index.ts";
export { createLogger, type Logger } from "./log.ts";
export type { Actor, LedgerPoint, TimelineAction, TimelineEnd, TimelineInterval } from "./timeline/pieces.ts";
export {
  startWebhooks,
  type WebhookOptions,
  type Webhooks,
  webhookSignature,
  webhookSubscriberName,
} from "./webhooks/webhooks.ts";
