import { type MiddlewareFn, Telegraf } from "telegraf";
import type { TelegramConfig } from "../config.ts";
import type { Ledger } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { retryOnFloodWait } from "./api-retry.ts";
import { type BotLifecycle, botLifecycle, type NotifierSettings } from "./bot-lifecycle.ts";
import type { BotContext, BotServices } from "./context.ts";
import { accessFeature, commandOf, identify, strangerGate } from "./features/access.ts";
import { catalogFeature } from "./features/catalog.ts";
import { changesFeature } from "./features/changes.ts";
import { confirmationFeature } from "./features/confirmation.ts";
import { historyFeature } from "./features/history.ts";
import { notifyFeature } from "./features/notify.ts";
import { statusFeature } from "./features/status.ts";
import { timelineFeature } from "./features/timeline.ts";
import { accessList } from "./roles.ts";
import { type Backoff, DEFAULT_BACKOFF } from "./startup-retry.ts";

export type LedgerBotOptions = {
  config: TelegramConfig & { token: string };
  ledger: Ledger;
  logger: Logger;
  /** The end of /timeline's default window; previews expire by the database's clock, not this one. */
  clock?: () => Date;
  /** How long Confirm/Cancel work (default two minutes). */
  confirmTtlMs?: number;
  /** A 429's retry_after is waited at most this long (default 30 s). */
  maxFloodWaitSeconds?: number;
  /** How start-up calls, and polling after a 409 Conflict, are retried (default DEFAULT_BACKOFF). */
  startupBackoff?: Backoff;
  /** The audit chats' notifier's settings (tests: a short backoff, a crash point). */
  notifier?: NotifierSettings;
};

/** The assembled bot, and its start and stop (bot-lifecycle.ts). */
export type LedgerBot = { bot: Telegraf<BotContext> } & BotLifecycle;

/**
 * The one place the bot is put together, for `plugin-ledger bot` and for the tests alike:
 * telegraf with the 429 retry, who-is-asking, the gate for strangers, then one composer per
 * feature, and a catch-all that logs a failed handler and keeps the bot running.
 */
export function createLedgerBot(options: LedgerBotOptions): LedgerBot {
  const { config, ledger } = options;
  const logger = options.logger.child({ component: "telegram" });
  const access = accessList(config);
  const lifetime = new AbortController();
  const retry = {
    maxWaitSeconds: options.maxFloodWaitSeconds ?? 30,
    attempts: 4,
    logger,
    signal: lifetime.signal,
  };

  const bot = new Telegraf<BotContext>(config.token, {
    // No webhook replies: a reply written into the webhook's HTTP answer returns no message, and
    // the preview's message id is needed to edit it into the result.
    telegram: { apiRoot: config.apiRoot, webhookReply: false },
  });
  retryOnFloodWait(bot.telegram, retry);
  bot.use((ctx, next) => {
    retryOnFloodWait(ctx.telegram, retry);
    return next();
  });
  useFeatures(
    bot,
    {
      ledger,
      pending: ledger.pendingActions,
      access,
      clock: options.clock ?? (() => new Date()),
      confirmTtlMs: options.confirmTtlMs ?? 120_000,
    },
    logger,
  );

  const lifecycle = botLifecycle(bot, {
    config,
    ledger,
    access,
    logger,
    lifetime,
    backoff: options.startupBackoff ?? DEFAULT_BACKOFF,
    notifier: options.notifier,
  });
  return { bot, ...lifecycle };
}

/** Who is asking, the gate for strangers, one composer per feature, and the catch-all. */
function useFeatures(bot: Telegraf<BotContext>, services: BotServices, logger: Logger): void {
  bot.use(identify(services.access, logger));
  bot.use(strangerGate());
  bot.use(
    accessFeature(),
    statusFeature(services),
    catalogFeature(services),
    historyFeature(services),
    timelineFeature(services),
    changesFeature(services),
    confirmationFeature(services),
    notifyFeature(services),
  );
  bot.use(unknownCommand());

  bot.catch(async (error, ctx) => {
    const log = ctx.log ?? logger.child({ updateId: ctx.update.update_id });
    log.error({ err: error }, "a handler failed; the bot carries on");
    try {
      if (ctx.callbackQuery) await ctx.answerCbQuery("Something went wrong; it is logged.");
      else if (ctx.chat)
        await ctx.reply(`Something went wrong (update ${ctx.update.update_id}); it is logged.`);
    } catch (replyError) {
      log.warn({ err: replyError }, "could not tell the user either");
    }
  });
}

/** A command no feature took: in a private chat, or addressed to this bot, a pointer to /help. */
function unknownCommand(): MiddlewareFn<BotContext> {
  return async (ctx) => {
    const command = commandOf(ctx);
    if (!command || !ctx.message || !("text" in ctx.message)) return;
    const mention = /^\/\w+@(\w+)/.exec(ctx.message.text)?.[1];
    const forUs = mention
      ? mention.toLowerCase() === ctx.botInfo.username.toLowerCase()
      : ctx.chat?.type === "private";
    if (forUs) await ctx.reply(`There is no /${command} here; /help lists the commands you may run.`);
  };
}
