import type { Telegram } from "telegraf";
import { TelegramError } from "telegraf";
import type { VersionDiff } from "../domain/index.ts";
import type { AuditChat, Ledger, Outgoing, RecordedEvent } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { diffAsked, groupChanges, groupMessages } from "./audit-messages.ts";

export type AuditOutbox = {
  /** Renders the batch's changes (those after the outbox's last position) into the chat's outbox. */
  enqueue(chat: AuditChat, events: RecordedEvent[]): Promise<void>;
  /** Sends every pending row of the chat in order; throws when Telegram refuses one (retried). */
  sendPending(chatId: number, signal: AbortSignal): Promise<void>;
};

/**
 * An audit chat's outbox (`ledger.auditDeliveries`): filled with rendered messages, then each
 * message claimed, sent and marked sent, so a redelivered batch or a restart sends the same
 * text once (see src/ledger/audit-deliveries.ts for the exact guarantee).
 */
export function auditOutbox(options: {
  ledger: Ledger;
  telegram: Telegram;
  /** Longest a sendMessage call may take; after it its outcome is uncertain. */
  sendTimeoutMs: number;
  logger: Logger;
}): AuditOutbox {
  const { ledger, logger } = options;
  const deliveries = ledger.auditDeliveries;
  /** Sent, but the record of it failed: recorded on the next try instead of sent again. */
  const sentUnrecorded = new Map<string, number>();

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
          { signal: AbortSignal.timeout(options.sendTimeoutMs) as never },
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

  async function enqueue(chat: AuditChat, events: RecordedEvent[]): Promise<void> {
    const last = (await deliveries.lastPosition(chat.chatId)) ?? 0;
    const outgoing: Outgoing[] = [];
    for (const group of groupChanges(toldOf(chat, events, last))) {
      const asked = diffAsked(group);
      const diff = asked ? await diffOf(ledger, asked.pluginId, asked.from, asked.to) : null;
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

  return { enqueue, sendPending };
}

/** The batch's events the chat is told of: after `last`, from the chat's start, while it is on. */
function toldOf(chat: AuditChat, events: RecordedEvent[], last: number): RecordedEvent[] {
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
  return told;
}

async function diffOf(
  ledger: Ledger,
  pluginId: string,
  from: string,
  to: string,
): Promise<VersionDiff | null> {
  const found = await ledger.diff(pluginId, from, to);
  return found.ok ? found.diff : null;
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
