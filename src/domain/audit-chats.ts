import type {
  AuditChatDisableCommand,
  AuditChatEnableCommand,
  AuditChatsConfigureCommand,
} from "./commands.ts";
import type { LedgerEvent } from "./events.ts";
import type { AuditChatState, LedgerState } from "./state.ts";
import { accepted, type Plan, plannedAll, rejected, violation } from "./violations.ts";

/**
 * The rules of the audit chats (the Telegram chats told of every change). Kept as events so that
 * who turned a chat on or off, and when, is itself part of the audited history.
 */

/** Telegram chat ids fit in 52 bits; 0 is nobody. */
export function isChatId(value: unknown): value is number {
  return Number.isSafeInteger(value) && value !== 0 && Math.abs(value as number) <= 2 ** 52;
}

export function auditChatOf(state: LedgerState, chatId: number): AuditChatState | undefined {
  const key = String(chatId);
  return Object.hasOwn(state.auditChats, key) ? state.auditChats[key] : undefined;
}

const invalidChat = (chatId: unknown) =>
  violation(
    "INVALID_INPUT",
    `Chat ${JSON.stringify(chatId) ?? String(chatId)} is not a Telegram chat id (a whole number, negative for a group).`,
  );

export function planAuditChatEnable(command: AuditChatEnableCommand, state: LedgerState): Plan {
  const { chatId } = command;
  if (!isChatId(chatId)) return rejected([invalidChat(chatId)]);
  if (auditChatOf(state, chatId)?.enabled) {
    return rejected([violation("ALREADY", `Chat ${chatId} is already told of every change.`)]);
  }
  return accepted({ type: "AuditChatEnabled", data: { chatId, source: "command" } });
}

export function planAuditChatDisable(command: AuditChatDisableCommand, state: LedgerState): Plan {
  const { chatId } = command;
  if (!isChatId(chatId)) return rejected([invalidChat(chatId)]);
  if (!auditChatOf(state, chatId)?.enabled) {
    return rejected([violation("ALREADY", `Chat ${chatId} is not told of the changes.`)]);
  }
  return accepted({ type: "AuditChatDisabled", data: { chatId, source: "command" } });
}

/**
 * A listed chat is enabled unless it already is, or an admin turned it off (that stays until an
 * admin turns it on); a chat the configuration enabled and no longer lists is disabled. Nothing
 * to do is ALREADY, so a restart with the same configuration writes nothing.
 */
export function planAuditChatsConfigure(command: AuditChatsConfigureCommand, state: LedgerState): Plan {
  if (!Array.isArray(command.chatIds)) {
    return rejected([violation("INVALID_INPUT", "The configured audit chats must be a list of chat ids.")]);
  }
  const bad = command.chatIds.filter((id) => !isChatId(id));
  if (bad.length > 0) return rejected(bad.map(invalidChat));
  const listed = new Set(command.chatIds.map(String));
  const events: LedgerEvent[] = [];
  for (const chatId of [...listed].map(Number)) {
    const known = auditChatOf(state, chatId);
    if (known === undefined || (!known.enabled && known.source === "config")) {
      events.push({ type: "AuditChatEnabled", data: { chatId, source: "config" } });
    }
  }
  for (const [key, chat] of Object.entries(state.auditChats)) {
    if (chat.enabled && chat.source === "config" && !listed.has(key)) {
      events.push({ type: "AuditChatDisabled", data: { chatId: Number(key), source: "config" } });
    }
  }
  if (events.length === 0) {
    return rejected([violation("ALREADY", "The audit chats already are as configured.")]);
  }
  return { violations: [], events: plannedAll(events) };
}
