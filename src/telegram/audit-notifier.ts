import type { Telegram } from "telegraf";
import { TelegramError } from "telegraf";
import type { VersionDiff } from "../domain/index.ts";
import type { AuditChat, Backoff, Ledger, Outgoing, RecordedEvent, Subscription } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { diffAsked, groupChanges, groupMessages } from "./audit-messages.ts";
import { splitHtml } from "./html.ts";

/**
 * Posts every change to each audit chat: one durable feed subscriber per chat
 * (`audit-chat:<chatId>`), so a chat that fails (the bot was removed: 403) backs off alone and
 * holds back no other. Each batch first goes into the chat's outbox (`ledger.auditDeliveries`) as
 * rendered messages, then each message is claimed, sent and marked sent, so a redelivered batch
 * or a restart sends the same text once (see src/ledger/audit-deliveries.ts for the exact guarantee).
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

export async function startAuditNotifier(options: AuditNotifierOptions): Promise<AuditNotifier> {
  const { ledger } = options;
  const logger = options.logger.child({ component: "audit-chats" });
  const deliveries = ledger.auditDeliveries;
  const lifetime = new AbortController();
  const running = new Map<number, { chat: AuditChat; subscription: Subscription }>();
  /** Sent, but the record of it failed: recorded on the next try instead of sent again. */
  const sentUnrecorded = new Map<string, number>();

  const configured = await ledger.execute(
    { kind: "auditChatsConfigure", chatIds: [...options.configuredChatIds] },
    { actor: CONFIG_ACTOR, reason: "TELEGRAM_AUDIT_CHAT_IDS as the bot found it at start" },
  );
  if (configured.ok && !configured.dryRun) {
    logger.info({ events: configured.events.map((e) => e.type) }, "audit chats: configuration recorded");
  } else if (!configured.ok && !configured.violations.every((v) => v.code === "ALREADY")) {
    logger.error({ violations: configured.violations }, "audit chats: the configured chats were refused");
  }

  /** Sends every pending row of the chat in order; throws when Telegram refuses one (retried). */
  async function sendPending(chatId: number, signal: AbortSignal): Promise<void> {
    for (const row of await deliveries.pending(chatId)) {
      if (signal.aborted) return;
      const id = `${chatId}/${row.key}/${row.part}`;
      const unrecorded = sentUnrecorded.get(id);
      if (unrecorded !== undefined) {
        await deliveries.sent(chatId, row.key, row.part, unrecorded);
        sentUnrecorded.delete(id);
        continue;
      }
      if (!(await deliveries.claim(chatId, row.key, row.part))) continue;
      let messageId: number;
      try {
        const message = await options.telegram.callApi(
          "sendMessage",
          {
            chat_id: chatId,
            text: row.text,
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
          },
          // Bounded, but not cut short by a stop: a send cut mid-call would be uncertain, so a
          // stopping notifier lets the one in hand finish. (telegraf types its signal as the
          // abort-controller shim's; node-fetch takes the native one.)
          { signal: AbortSignal.timeout(options.sendTimeoutMs ?? 30_000) as never },
        );
        messageId = message.message_id;
      } catch (error) {
        const definite = notSent(error);
        await deliveries.failed(chatId, row.key, row.part, describe(error), definite);
        if (definite) throw error;
        logger.warn(
          { chatId, key: row.key, part: row.part, err: error },
          "audit chats: the send's outcome is unknown; the message is not sent again (it may be missing from the chat)",
        );
        continue;
      }
      try {
        await deliveries.sent(chatId, row.key, row.part, messageId);
      } catch (error) {
        sentUnrecorded.set(id, messageId);
        throw error;
      }
    }
  }

  /** Renders the batch's changes (those after the outbox's last position) into the chat's outbox. */
  async function enqueue(chat: AuditChat, events: RecordedEvent[]): Promise<void> {
    const last = (await deliveries.lastPosition(chat.chatId)) ?? 0;
    const told: RecordedEvent[] = [];
    let on = true;
    for (const event of events) {
      if (event.position <= last || event.position < chat.sincePosition) continue;
      // A chat turned off (and on again) within the batch hears of nothing in between.
      const own =
        (event.type === "AuditChatEnabled" || event.type === "AuditChatDisabled") &&
        event.data.chatId === chat.chatId;
      if (own && event.type === "AuditChatEnabled") on = true;
      if (on) told.push(event);
      if (own && event.type === "AuditChatDisabled") on = false;
    }
    const outgoing: Outgoing[] = [];
    for (const group of groupChanges(told)) {
      const asked = diffAsked(group);
      const diff = asked ? await diffOf(asked.pluginId, asked.from, asked.to) : null;
      const first = group.events[0] as RecordedEvent;
      const lastEvent = group.events.at(-1) as RecordedEvent;
      outgoing.push({
        key: `change:${lastEvent.position}`,
        firstPosition: first.position,
        lastPosition: lastEvent.position,
        parts: groupMessages(group, diff),
      });
    }
    await deliveries.add(chat.chatId, outgoing);
  }

  async function diffOf(pluginId: string, from: string, to: string): Promise<VersionDiff | null> {
    const found = await ledger.diff(pluginId, from, to);
    return found.ok ? found.diff : null;
  }

  function follow(chat: AuditChat): void {
    const log = logger.child({ chatId: chat.chatId });
    const subscription = ledger.subscribe(
      auditSubscriberName(chat.chatId),
      async (events, { signal }) => {
        for (const row of await deliveries.settleInterrupted(chat.chatId)) {
          log.warn(
            { key: row.key, part: row.part, positions: [row.firstPosition, row.lastPosition] },
            "audit chats: a send was interrupted (the bot stopped mid-call); not sent again, it may be missing from the chat",
          );
        }
        const current = running.get(chat.chatId)?.chat ?? chat;
        await enqueue(current, events);
        try {
          await sendPending(chat.chatId, signal);
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
        signal: lifetime.signal,
      },
    );
    running.set(chat.chatId, { chat, subscription });
    log.info("audit chats: telling this chat of every change");
  }

  /** One refresh at a time (the tail and the timer both ask), so a chat is never followed twice. */
  let refreshing: Promise<void> = Promise.resolve();
  function refresh(): Promise<void> {
    const next = refreshing.then(refreshOnce, refreshOnce);
    refreshing = next.catch(() => {});
    return next;
  }

  /** Starts a subscriber per enabled chat, and stops those of chats turned off. */
  async function refreshOnce(): Promise<void> {
    if (lifetime.signal.aborted) return;
    const chats = await ledger.auditChats();
    for (const chat of chats) {
      const current = running.get(chat.chatId);
      if (chat.enabled && !current) follow(chat);
      else if (chat.enabled && current) current.chat = chat;
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
        await deliveries.add(chatId, [
          { key: `note:${key}`, firstPosition: null, lastPosition: null, parts },
        ]);
        await sendPending(chatId, lifetime.signal).catch((error) =>
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

/**
 * Telegram answered with an error, or the connection was refused before anything was sent:
 * nothing was posted, so sending again is safe. Anything else (a cut connection, a timeout)
 * may have posted it.
 */
function notSent(error: unknown): boolean {
  if (error instanceof TelegramError) return true;
  const code =
    (error as { code?: string; cause?: { code?: string } }).code ??
    (error as { cause?: { code?: string } }).cause?.code;
  return code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
}

function describe(error: unknown): string {
  if (error instanceof TelegramError) return `${error.code}: ${error.description}`;
  return error instanceof Error ? error.message : String(error);
}
