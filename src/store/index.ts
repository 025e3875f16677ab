export {
  type Database,
  type DatabaseTimeouts,
  DEFAULT_TIMEOUTS,
  databaseLocation,
  openDatabase,
} from "./connection.ts";
export { DatabaseUnavailableError, isConnectionLost } from "./connection-errors.ts";
export { ConcurrencyError, IdempotencyConflictError } from "./errors.ts";
export * from "./event-store.ts";
export { migrate } from "./migrate.ts";
export { type VerifyResult, verifyChain } from "./verify.ts";
