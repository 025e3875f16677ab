import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log.ts";
import { DatabaseUnavailableError, isConnectionLost } from "../store/connection-errors.ts";

/**
 * Runs an operation again, on a fresh connection, when its connection is lost (a restarted
 * server, a cut network, an embedded owner that left, a stalled server's timeout), for up to
 * `retryMs` after the first loss, with exponential backoff; after that the caller gets one
 * DatabaseUnavailableError. Any other error passes through at once.
 *
 * Only for operations that are safe to run twice: reads, and writes whose second run finds the
 * first one's result (an append under its idempotency key, a rebuild in one transaction).
 */
export type Reconnect = <T>(operation: string, attempt: () => Promise<T>) => Promise<T>;

export type ReconnectOptions = {
  /** Where the ledger lives, for the error's message. */
  location: string;
  embedded: boolean;
  retryMs: number;
  logger: Logger;
};

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

export function reconnecting(options: ReconnectOptions): Reconnect {
  return async (operation, attempt) => {
    const retry = retryWindow(options, operation);
    for (;;) {
      try {
        const result = await attempt();
        retry.succeeded();
        return result;
      } catch (error) {
        await retry(error);
      }
    }
  };
}

/**
 * The retry decision for one operation: resolves after the backoff when the error is a lost
 * connection and time remains, else throws (the error itself, or DatabaseUnavailableError).
 * `succeeded()` restarts the window, for long work that resumes where it stopped.
 *
 * Each loss is logged at debug; a recovery once at warn. A failure is not logged here: the caller
 * gets it, and a CLI prints it as its one line on stderr.
 */
export function retryWindow(options: ReconnectOptions, operation: string) {
  let deadline: number | undefined;
  let failures = 0;
  const retry = async (error: unknown): Promise<void> => {
    if (!isConnectionLost(error) || error instanceof DatabaseUnavailableError) throw error;
    failures += 1;
    deadline ??= Date.now() + options.retryMs;
    // Full jitter: several processes that lost the same server do not come back in step.
    const backoff =
      Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
    if (Date.now() + backoff > deadline) {
      throw new DatabaseUnavailableError(options.location, error, options.embedded);
    }
    options.logger.debug(
      { err: error, operation, attempt: failures },
      "database connection lost; retrying on a new connection",
    );
    await sleep(backoff);
  };
  retry.succeeded = () => {
    if (failures > 0) {
      // An embedded owner that leaves is the ordinary hand-over between processes, not news.
      (options.embedded ? options.logger.debug : options.logger.warn).call(
        options.logger,
        { operation, lostConnections: failures },
        "database connection lost; the operation succeeded on a new connection",
      );
    }
    deadline = undefined;
    failures = 0;
  };
  return retry;
}
