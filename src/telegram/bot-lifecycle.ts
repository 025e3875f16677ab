import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { Telegraf } from "telegraf";
import type { TelegramConfig } from "../config.ts";
import type { Ledger } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { type AuditNotifier, type AuditNotifierOptions, startAuditNotifier } from "./audit-notifier.ts";
import type { BotContext } from "./context.ts";
import { pollThroughConflicts, stopPolling } from "./long-polling.ts";
import { publishMenus } from "./menus.ts";
import type { AccessList } from "./roles.ts";
import { type Backoff, withStartupRetry } from "./startup-retry.ts";
import { listenForWebhook } from "./webhook-server.ts";

const ALLOWED_UPDATES: ("message" | "callback_query")[] = ["message", "callback_query"];

/** The audit chats' notifier's settings a caller may set (tests: a short backoff, a crash point). */
export type NotifierSettings = Partial<
  Omit<AuditNotifierOptions, "ledger" | "telegram" | "configuredChatIds" | "logger">
>;

export type BotLifecycleOptions = {
  config: TelegramConfig & { token: string };
  ledger: Ledger;
  access: AccessList;
  logger: Logger;
  /** Aborted by `stop`: ends start-up's retries and the waits between polling launches. */
  lifetime: AbortController;
  /** How start-up calls, and polling after a 409 Conflict, are retried. */
  backoff: Backoff;
  notifier?: NotifierSettings;
};

export type BotLifecycle = {
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

/** The start and stop of an assembled bot: long polling or the webhook server, and the notifier. */
export function botLifecycle(bot: Telegraf<BotContext>, options: BotLifecycleOptions): BotLifecycle {
  const { config, ledger, logger, lifetime, backoff } = options;
  const retrying = { backoff, logger, signal: lifetime.signal };
  const { stopped, markStopped } = stopOutcome(logger);
  let server: http.Server | undefined;
  let polling: Promise<void> | undefined;
  let stopping = false;
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
    await introduce(bot, config, options.access, retrying);
    if (stopping) return;
    if (config.webhook) {
      server = await listenForWebhook(bot, config.webhook, ALLOWED_UPDATES, logger, (set) =>
        withStartupRetry("setWebhook", set, retrying),
      );
      server.on("close", () => markStopped({}));
    } else {
      polling = pollThroughConflicts(bot, {
        ...retrying,
        allowedUpdates: ALLOWED_UPDATES,
        stopping: () => stopping,
      });
      polling.then(
        () => markStopped({}),
        (error) => {
          logger.error({ err: error }, "long polling stopped with an error");
          markStopped({ error });
        },
      );
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
    start,
    stop,
    stopped,
    webhookAddress: () => (server?.address() as AddressInfo | null) ?? null,
    notifier: () => notifier,
  };
}

/** Who the bot is (getMe), said in the log, and its command menus (which the commands work without). */
async function introduce(
  bot: Telegraf<BotContext>,
  config: TelegramConfig,
  access: AccessList,
  retrying: { backoff: Backoff; logger: Logger; signal: AbortSignal },
): Promise<void> {
  const { logger } = retrying;
  bot.botInfo ??= await withStartupRetry("getMe", () => bot.telegram.getMe(), retrying);
  logger.info(
    { bot: bot.botInfo.username, mode: config.webhook ? "webhook" : "polling" },
    "starting the bot",
  );
  await withStartupRetry("setMyCommands", () => publishMenus(bot.telegram, access, logger), retrying).catch(
    (error) => logger.warn({ err: error }, "could not set the command menus; the commands work without them"),
  );
}

/** `stopped`, and the one call that settles it: resolved on a stop, rejected when polling failed. */
function stopOutcome(logger: Logger) {
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
  return { stopped, markStopped };
}
