export { type Database, openDatabase } from "./connection.ts";
export { ConcurrencyError, IdempotencyConflictError } from "./errors.ts";
export * from "./event-store.ts";
export { migrate } from "./migrate.ts";
export {
  type ChainBreak,
  ChainTamperedError,
  chainChecker,
  type VerifyResult,
  verifyChain,
} from "./verify.ts";
