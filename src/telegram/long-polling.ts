import { setTimeout as sleep } from "node:timers/promises";
import { type Telegraf, TelegramError } from "telegraf";
import type { Logger } from "../log.ts";
import type { BotContext } from "./context.ts";
import { type Backoff, delayOf, isTransient, tokenRejection } from "./startup-retry.ts";

export type PollingOptions = {
  allowedUpdates: ("message" | "callback_query")[];
  backoff: Backoff;
  logger: Logger;
  /** Aborted when the bot stops: ends the wait between launches. */
  signal: AbortSignal;
  /** True once a stop was asked for: a failure then is the stop, not an error. */
  stopping: () => boolean;
};

/**
 * Long polling (telegraf's launch: deleteWebhook, then getUpdates until stopped), launched
 * again after a 409 Conflict (another instance polls with this token: it may be a deploy's
 * old instance on its way out) with growing waits that never stop trying; a transient failure
 * of deleteWebhook counts against the start-up attempts. A refused token ends it.
 */
export async function pollThroughConflicts(
  bot: Telegraf<BotContext>,
  options: PollingOptions,
): Promise<void> {
  const { backoff, logger } = options;
  let attempt = 0;
  for (;;) {
    const began = performance.now();
    try {
      await bot.launch({ allowedUpdates: options.allowedUpdates });
      return;
    } catch (error) {
      if (options.stopping()) return;
      const rejected = tokenRejection(error, "getUpdates");
      if (rejected) throw rejected;
      const conflict = error instanceof TelegramError && error.code === 409;
      if (!conflict && !isTransient(error)) throw error;
      // Polling that ran longer than the longest wait starts the backoff over.
      if (performance.now() - began > backoff.maxDelayMs) attempt = 0;
      attempt += 1;
      if (!conflict && attempt >= backoff.attempts) throw error;
      const delayMs = delayOf(backoff, attempt);
      logger.warn(
        { err: error, attempt, delayMs },
        conflict
          ? "another instance polls with this token (409 Conflict); waiting, then polling again"
          : "could not start long polling; trying again",
      );
      try {
        await sleep(delayMs, undefined, { signal: options.signal });
      } catch {
        return;
      }
    }
  }
}

/**
 * telegraf refuses `stop` until polling has begun (after its deleteWebhook call), and polling
 * launched again after a conflict may begin after a first stop: so stop is asked again until
 * the polling has ended.
 */
export async function stopPolling(
  bot: Telegraf<BotContext>,
  polling: Promise<void>,
  reason: string,
): Promise<void> {
  let settled = false;
  polling.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    try {
      bot.stop(reason);
    } catch {
      // Not polling yet.
    }
    await sleep(20);
  }
}
