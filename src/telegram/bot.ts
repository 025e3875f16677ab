import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type MiddlewareFn, Telegraf, TelegramError } from "telegraf";
import type { TelegramConfig } from "../config.ts";
import type { Ledger } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { retryOnFloodWait } from "./api-retry.ts";
import { type AuditNotifier, type AuditNotifierOptions, startAuditNotifier } from "./audit-notifier.ts";
import type { BotContext, BotServices } from "./context.ts";
import { accessFeature, commandOf, identify, strangerGate } from "./features/access.ts";
import { catalogFeature } from "./features/catalog.ts";
import { changesFeature } from "./features/changes.ts";
import { confirmationFeature } from "./features/confirmation.ts";
import { historyFeature } from "./features/history.ts";
import { notifyFeature } from "./features/notify.ts";
import { statusFeature } from "./features/status.ts";
import { timelineFeature } from "./features/timeline.ts";
import { publishMenus } from "./menus.ts";
import { accessList } from "./roles.ts";
import {
  type Backoff,
  DEFAULT_BACKOFF,
  delayOf,
  isTransient,
  tokenRejection,
  withStartupRetry,
} from "./startup-retry.ts";

/** The path the webhook server accepts when TELEGRAM_WEBHOOK_URL has none of its own. */
export const WEBHOOK_PATH = "/telegram/webhook";
const ALLOWED_UPDATES: ("message" | "callback_query")[] = ["message", "callback_query"];

export type LedgerBotOptions = {
  config: TelegramConfig & { token: string };
  ledger: Ledger;
  /** The ledger's schema, which also holds the pending previews. */
  schema: string;
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
  notifier?: Partial<Omit<AuditNotifierOptions, "ledger" | "telegram" | "configuredChatIds" | "logger">>;
};

export type LedgerBot = {
  bot: Telegraf<BotContext>;
  /**
   * Resolves once updates flow: menus set, then long polling, or the webhook set and listening.
   * Start-up calls are retried with backoff; rejects with BotTokenRejectedError for a token
   * Telegram refuses, TelegramUnreachableError when the attempts run out.
   */
  start(): Promise<void>;
  /** Stops taking updates, finishes those in hand, and resolves; the ledger stays open (its owner closes it). */
  stop(reason?: string): Promise<void>;
  /**
   * Settles when the bot has stopped; rejects if polling failed for good (a revoked token). A
   * 409 Conflict (another instance polls with this token) is waited out, not a failure.
   */
  stopped: Promise<void>;
  /** The webhook server's address once it listens; null in polling mode. */
  webhookAddress(): AddressInfo | null;
  /** The audit chats' notifier, once `start` has started it. */
  notifier(): AuditNotifier | undefined;
};

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

  const services: BotServices = {
    ledger,
    pending: ledger.pendingActions,
    access,
    clock: options.clock ?? (() => new Date()),
    confirmTtlMs: options.confirmTtlMs ?? 120_000,
  };

  bot.use((ctx, next) => {
    retryOnFloodWait(ctx.telegram, retry);
    return next();
  });
  bot.use(identify(access, logger));
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

  let server: http.Server | undefined;
  let polling: Promise<void> | undefined;
  let stopping = false;
  let markStopped: (outcome: { error?: unknown }) => void = () => {};
  const stopped = new Promise<void>((resolve, reject) => {
    markStopped = ({ error }) => {
      if (error === undefined) {
        logger.info("the bot stopped");
        resolve();
      } else reject(error);
    };
  });
  // Nobody may be listening yet; the failure is also logged where it happens.
  stopped.catch(() => {});

  const backoff = options.startupBackoff ?? DEFAULT_BACKOFF;
  const retrying = { backoff, logger, signal: lifetime.signal };

  let notifier: AuditNotifier | undefined;

  async function start(): Promise<void> {
    try {
      await begin();
      if (stopping) return;
      // Every change to the audit chats, on the same client (and 429 wait) as the replies.
      notifier = await startAuditNotifier({
        ...options.notifier,
        ledger,
        telegram: bot.telegram,
        configuredChatIds: config.auditChatIds ?? [],
        logger,
      });
      if (stopping) await notifier.stop();
    } catch (error) {
      // A stop during start-up ends its waits; that is a stop, not a failure.
      if (!stopping) throw error;
    }
  }

  async function begin(): Promise<void> {
    bot.botInfo ??= await withStartupRetry("getMe", () => bot.telegram.getMe(), retrying);
    logger.info(
      { bot: bot.botInfo.username, mode: config.webhook ? "webhook" : "polling" },
      "starting the bot",
    );
    await withStartupRetry("setMyCommands", () => publishMenus(bot.telegram, access, logger), retrying).catch(
      (error) =>
        logger.warn({ err: error }, "could not set the command menus; the commands work without them"),
    );
    if (stopping) return;
    if (config.webhook) {
      const { webhook } = config;
      server = await listenForWebhook(bot, webhook, logger, (set) =>
        withStartupRetry("setWebhook", set, retrying),
      );
      server.on("close", () => markStopped({}));
    } else {
      polling = pollThroughConflicts();
      polling.then(
        () => markStopped({}),
        (error) => {
          logger.error({ err: error }, "long polling stopped with an error");
          markStopped({ error });
        },
      );
    }
  }

  /**
   * Long polling (telegraf's launch: deleteWebhook, then getUpdates until stopped), launched
   * again after a 409 Conflict (another instance polls with this token: it may be a deploy's
   * old instance on its way out) with growing waits that never stop trying; a transient failure
   * of deleteWebhook counts against the start-up attempts. A refused token ends it.
   */
  async function pollThroughConflicts(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const began = performance.now();
      try {
        await bot.launch({ allowedUpdates: ALLOWED_UPDATES });
        return;
      } catch (error) {
        if (stopping) return;
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
          await sleep(delayMs, undefined, { signal: lifetime.signal });
        } catch {
          return;
        }
      }
    }
  }

  async function stop(reason = "stop requested"): Promise<void> {
    if (!stopping) {
      stopping = true;
      logger.info({ reason }, "stopping the bot");
      lifetime.abort(new Error(`the bot is stopping: ${reason}`));
      await notifier?.stop();
      if (server) {
        server.close();
        server.closeIdleConnections();
      } else if (polling) {
        await stopPolling(bot, polling, reason);
      } else {
        markStopped({});
      }
    }
    await stopped.catch(() => {});
  }

  return {
    bot,
    start,
    stop,
    stopped,
    webhookAddress: () => (server?.address() as AddressInfo | null) ?? null,
    notifier: () => notifier,
  };
}

/**
 * telegraf refuses `stop` until polling has begun (after its deleteWebhook call), and polling
 * launched again after a conflict may begin after a first stop: so stop is asked again until
 * the polling has ended.
 */
async function stopPolling(bot: Telegraf<BotContext>, polling: Promise<void>, reason: string): Promise<void> {
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

/**
 * Webhook mode: an HTTP server on the configured port accepting POSTs on the public URL's path
 * (WEBHOOK_PATH unless the URL has a path), with Telegram's secret_token header checked
 * (anything else gets 403); then Telegram is told where to send updates.
 */
async function listenForWebhook(
  bot: Telegraf<BotContext>,
  webhook: NonNullable<TelegramConfig["webhook"]>,
  logger: Logger,
  retried: (call: () => Promise<true>) => Promise<true>,
): Promise<http.Server> {
  const url = new URL(webhook.url);
  if (url.pathname === "/" || url.pathname === "") url.pathname = WEBHOOK_PATH;
  const callback = bot.webhookCallback(url.pathname, { secretToken: webhook.secret });
  const server = http.createServer((req, res) => {
    callback(req, res).catch((error) => {
      logger.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(webhook.port, () => {
      server.off("error", reject);
      // A listening server's later failure (say, out of file descriptors on accept) is logged,
      // never an unhandled 'error' event that ends the process.
      server.on("error", (error) => logger.error({ err: error }, "webhook server error"));
      resolve();
    });
  });
  try {
    await retried(() =>
      bot.telegram.setWebhook(url.toString(), {
        secret_token: webhook.secret,
        allowed_updates: ALLOWED_UPDATES,
      }),
    );
  } catch (error) {
    server.close();
    throw error;
  }
  logger.info({ url: url.toString(), port: (server.address() as AddressInfo).port }, "webhook set");
  return server;
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
