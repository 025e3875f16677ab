import type { Telegram } from "telegraf";
import { TelegramError } from "telegraf";
import type { AuditChat, Backoff, Ledger, Subscription } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { type AuditOutbox, auditOutbox } from "./audit-outbox.ts";
import { splitHtml } from "./html.ts";

/**
 * Posts every change to each audit chat: one durable feed subscriber per chat
 * (`audit-chat:<chatId>`), so a chat that fails (the bot was removed: 403) backs off alone and
 * holds back no other. Each batch first goes into the chat's outbox (`ledger.auditDeliveries`) as
 * rendered messages, then each message is claimed, sent and marked sent, so a redelivered batch
 * or a restart sends the same text once (audit-outbox.ts; see src/ledger/audit-deliveries.ts for
 * the exact guarantee).
 */
export type AuditNotifierOptions = {
  ledger: Ledger;
  /** A client with the 429 wait applied (api-retry.ts). */
  telegram: Telegram;
  /** TELEGRAM_AUDIT_CHAT_IDS: recorded as events the first time they are seen configured. */
  configuredChatIds: readonly number[];
  logger: Logger;
  /** Backoff of a chat whose sends fail (default 1 s doubling up to 5 min). */
  retry?: Backoff;
  /** Events per handler call (default 1000): a run of releases longer than this takes one message more. */
  batchSize?: number;
  standbyMs?: number;
  leaseMs?: number;
  /** Longest a sendMessage call may take (default 30 s); after it its outcome is uncertain. */
  sendTimeoutMs?: number;
  /** How often the chat list is read again besides on each AuditChat event (default 60 s). */
  refreshMs?: number;
};

export type AuditNotifier = {
  /** The chats being told now. */
  chats(): number[];
  /**
   * Posts an HTML note (a signed checkpoint, say) to every enabled audit chat, once per chat for a
   * given key: the same key posted again is not sent again.
   */
  postToAuditChats(html: string, key: string): Promise<void>;
  stop(): Promise<void>;
};

export const auditSubscriberName = (chatId: number) => `audit-chat:${chatId}`;

const DEFAULT_RETRY: Backoff = { initialMs: 1_000, maxMs: 300_000 };
const CONFIG_ACTOR = { kind: "system" as const, id: "TELEGRAM_AUDIT_CHAT_IDS", name: "configuration" };

type Running = Map<number, { chat: AuditChat; subscription: Subscription }>;

export async function startAuditNotifier(options: AuditNotifierOptions): Promise<AuditNotifier> {
  const { ledger } = options;
  const logger = options.logger.child({ component: "audit-chats" });
  const lifetime = new AbortController();
  const running: Running = new Map();
  const outbox = auditOutbox({ ...options, sendTimeoutMs: options.sendTimeoutMs ?? 30_000, logger });
  await recordConfiguredChats(ledger, options.configuredChatIds, logger);

  /** One refresh at a time (the tail and the timer both ask), so a chat is never followed twice. */
  const refresh = oneAtATime(refreshOnce);

  /** Starts a subscriber per enabled chat, and stops those of chats turned off. */
  async function refreshOnce(): Promise<void> {
    if (lifetime.signal.aborted) return;
    const chats = await ledger.auditChats();
    for (const chat of chats) {
      const current = running.get(chat.chatId);
      if (chat.enabled && !current) {
        const subscription = followChat(chat, { options, outbox, running, logger, signal: lifetime.signal });
        running.set(chat.chatId, { chat, subscription });
      } else if (chat.enabled && current) current.chat = chat;
      else if (!chat.enabled && current) {
        running.delete(chat.chatId);
        await current.subscription.stop();
        logger.info({ chatId: chat.chatId }, "audit chats: this chat is told nothing more");
      }
    }
  }

  await refresh();
  /** A failed refresh is logged and tried again by the next one; it never ends the notifier. */
  const refreshLogged = () =>
    refresh().catch((error) =>
      logger.warn({ err: error }, "audit chats: cannot read the chat list now; trying again later"),
    );
  // A /notify in any instance reaches this one through the feed; the timer covers a missed one.
  const head = await ledger.head();
  const tail = ledger.tail(
    head,
    async (events) => {
      if (events.some((e) => e.type === "AuditChatEnabled" || e.type === "AuditChatDisabled")) {
        await refreshLogged();
      }
    },
    { signal: lifetime.signal },
  );
  const timer = setInterval(() => void refreshLogged(), options.refreshMs ?? 60_000);
  timer.unref();

  return {
    chats: () => [...running.keys()],
    async postToAuditChats(html, key) {
      const parts = splitHtml(html);
      for (const chatId of running.keys()) {
        await ledger.auditDeliveries.add(chatId, [
          { key: `note:${key}`, firstPosition: null, lastPosition: null, parts },
        ]);
        await outbox
          .sendPending(chatId, lifetime.signal)
          .catch((error) =>
            logger.warn(
              { chatId, err: error },
              "audit chats: a note could not be posted yet; the chat's next change retries it",
            ),
          );
      }
    },
    async stop() {
      clearInterval(timer);
      lifetime.abort();
      await tail.stop();
      await Promise.all([...running.values()].map((r) => r.subscription.stop()));
      running.clear();
    },
  };
}

/** TELEGRAM_AUDIT_CHAT_IDS, recorded as events the first time each chat is seen configured. */
async function recordConfiguredChats(
  ledger: Ledger,
  chatIds: readonly number[],
  logger: Logger,
): Promise<void> {
  const configured = await ledger.execute(
    { kind: "auditChatsConfigure", chatIds: [...chatIds] },
    { actor: CONFIG_ACTOR, reason: "TELEGRAM_AUDIT_CHAT_IDS as the bot found it at start" },
  );
  if (configured.ok && !configured.dryRun) {
    logger.info({ events: configured.events.map((e) => e.type) }, "audit chats: configuration recorded");
  } else if (!configured.ok && !configured.violations.every((v) => v.code === "ALREADY")) {
    logger.error({ violations: configured.violations }, "audit chats: the configured chats were refused");
  }
}

/** One chat's durable feed subscriber: its batches into the outbox, then the outbox sent. */
function followChat(
  chat: AuditChat,
  on: {
    options: AuditNotifierOptions;
    outbox: AuditOutbox;
    running: Running;
    logger: Logger;
    signal: AbortSignal;
  },
): Subscription {
  const { options, outbox, running } = on;
  const deliveries = options.ledger.auditDeliveries;
  const log = on.logger.child({ chatId: chat.chatId });
  const subscription = options.ledger.subscribe(
    auditSubscriberName(chat.chatId),
    async (events, { signal }) => {
      for (const row of await deliveries.settleInterrupted(chat.chatId)) {
        log.warn(
          { key: row.key, part: row.part, positions: [row.firstPosition, row.lastPosition] },
          "audit chats: a send was interrupted (the bot stopped mid-call); not sent again, it may be missing from the chat",
        );
      }
      const current = running.get(chat.chatId)?.chat ?? chat;
      await outbox.enqueue(current, events);
      try {
        await outbox.sendPending(chat.chatId, signal);
      } catch (error) {
        if (error instanceof TelegramError && error.code === 403) {
          log.warn(
            { err: error.description },
            "audit chats: Telegram refuses this chat (the bot was removed or blocked); backing off",
          );
        }
        throw error;
      }
    },
    {
      // From the event that turned the chat on: the chat reads its own "notifications on".
      from: Math.max(0, chat.sincePosition - 1),
      batchSize: options.batchSize ?? 1_000,
      retry: options.retry ?? DEFAULT_RETRY,
      standbyMs: options.standbyMs,
      leaseMs: options.leaseMs,
      signal: on.signal,
    },
  );
  log.info("audit chats: telling this chat of every change");
  return subscription;
}

/** `task`, run one call at a time: each call waits for the one before it, failed or not. */
function oneAtATime(task: () => Promise<void>): () => Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  return () => {
    const next = previous.then(task, task);
    previous = next.catch(() => {});
    return next;
  };
}
