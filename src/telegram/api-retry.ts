import { setTimeout as sleep } from "node:timers/promises";
import { type Telegram, TelegramError } from "telegraf";
import type { Logger } from "../log.ts";

export type RetryOptions = {
  /** A longer retry_after is cut to this: a reply that late is still better than none. */
  maxWaitSeconds: number;
  /** Calls in all, the first included. */
  attempts: number;
  logger: Logger;
  /** Aborted when the bot stops: a pending wait ends and the call fails. */
  signal: AbortSignal;
};

const patched = new WeakSet<Telegram>();

/**
 * Makes a Telegram client wait out a 429 (Too Many Requests) and call again. Every API method
 * of telegraf's client goes through `callApi`, so wrapping it covers replies, edits, answers and
 * menus alike. telegraf builds a new client for each update, hence this runs per update.
 */
export function retryOnFloodWait(telegram: Telegram, options: RetryOptions): void {
  if (patched.has(telegram)) return;
  patched.add(telegram);
  const call = telegram.callApi.bind(telegram);
  const retrying = async (...args: Parameters<typeof call>) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(...args);
      } catch (error) {
        if (!(error instanceof TelegramError) || error.code !== 429 || attempt >= options.attempts)
          throw error;
        const asked = error.parameters?.retry_after ?? 1;
        const seconds = Math.min(asked, options.maxWaitSeconds);
        options.logger.warn(
          { method: args[0], retryAfter: asked, attempt },
          "Telegram asked to slow down; waiting",
        );
        await sleep(seconds * 1000, undefined, { signal: options.signal });
      }
    }
  };
  telegram.callApi = retrying as typeof telegram.callApi;
}
