import { setTimeout as sleep } from "node:timers/promises";
import { TelegramError } from "telegraf";
import type { Logger } from "../log.ts";

export type Backoff = {
  /** The first wait; each next one doubles, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Calls in all, the first included, before a start-up call gives up. */
  attempts: number;
};

/** About three minutes of retrying in all: a network blip or a Bot API restart passes. */
export const DEFAULT_BACKOFF: Backoff = { firstDelayMs: 500, maxDelayMs: 30_000, attempts: 10 };

/** Telegram refused the token: a configuration error, not worth a retry. */
export class BotTokenRejectedError extends Error {
  override name = "BotTokenRejectedError";
  constructor(readonly code: number) {
    super(
      `Telegram refused TELEGRAM_BOT_TOKEN (${code} ${code === 401 ? "Unauthorized" : "Not Found"}): check the token BotFather gave (see README)`,
    );
  }
}

/** A start-up call kept failing for every attempt the backoff allows. */
export class TelegramUnreachableError extends Error {
  override name = "TelegramUnreachableError";
  constructor(method: string, attempts: number, cause: unknown) {
    const last = cause instanceof Error ? cause.message : String(cause);
    super(
      `the Telegram Bot API did not answer ${method} in ${attempts} attempts (last: ${last}); check the network and TELEGRAM_API_ROOT`,
      { cause },
    );
  }
}

/**
 * 401 is Telegram's answer to a revoked or wrong token, 404 to a token of the wrong shape (every
 * method of `bot<token>/` is then unknown). Only a call every bot may make tells the two apart
 * from a missing method, so only `getMe`'s 404 counts.
 */
export function tokenRejection(error: unknown, method: string): BotTokenRejectedError | null {
  if (!(error instanceof TelegramError)) return null;
  if (error.code === 401 || (error.code === 404 && method === "getMe"))
    return new BotTokenRejectedError(error.code);
  return null;
}

/** Worth another try: no answer at all (refused, reset, timed out), a server error or a 429. */
export function isTransient(error: unknown): boolean {
  if (error instanceof TelegramError) return error.code === 429 || error.code >= 500;
  return error instanceof Error && error.name !== "AbortError";
}

export const delayOf = (backoff: Backoff, attempt: number): number =>
  Math.min(backoff.maxDelayMs, backoff.firstDelayMs * 2 ** Math.max(0, attempt - 1));

/**
 * Calls `call` until it answers, waiting longer after each transient failure (logged), at most
 * `backoff.attempts` times; a refused token ends it at once with BotTokenRejectedError, anything
 * else that is not transient is thrown as it is. A stop (`signal`) ends a wait.
 */
export async function withStartupRetry<T>(
  method: string,
  call: () => Promise<T>,
  options: { backoff: Backoff; logger: Logger; signal: AbortSignal },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const rejected = tokenRejection(error, method);
      if (rejected) throw rejected;
      if (!isTransient(error)) throw error;
      if (attempt >= options.backoff.attempts) throw new TelegramUnreachableError(method, attempt, error);
      const delayMs = delayOf(options.backoff, attempt);
      options.logger.warn(
        { err: error, method, attempt, of: options.backoff.attempts, delayMs },
        "a Telegram start-up call failed; trying again",
      );
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}
