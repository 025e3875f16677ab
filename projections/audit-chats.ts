import type { AuditChatState, LedgerState } from "../src/domain/index.ts";
import type { StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import {
  actorOf,
  isOneOf,
  type LedgerProjection,
  ledgerEvents,
  planned,
  reasonOf,
} from "./ledger-projection.ts";

export type AuditChatRow = { chat_id: string; enabled: boolean; source: AuditChatState["source"] };

/** Every chat the ledger has heard of, as a JSON array of AuditChatRow; none unless `whenParam` is true. */
export const auditChatsJson = (tables: Tables, whenParam: string) =>
  `(SELECT coalesce(json_agg(json_build_object('chat_id', chat_id::text, 'enabled', enabled,
                                              'source', source)), '[]')
     FROM ${tables.q("audit_chats")} WHERE ${whenParam}::boolean)`;

export function loadAuditChats(rows: readonly AuditChatRow[], state: LedgerState): void {
  for (const chat of rows) state.auditChats[chat.chat_id] = { enabled: chat.enabled, source: chat.source };
}

/**
 * audit_chats: each chat's last AuditChatEnabled / AuditChatDisabled, who made it and why. A
 * batch is one upsert of the last change of each chat it touches.
 */
/** The events this projection folds, live and in a rebuild. */
const AUDIT_CHAT_EVENTS = ["AuditChatEnabled", "AuditChatDisabled"] as const;

export const auditChats: LedgerProjection = planned({
  name: "audit_chats",
  tables: ["audit_chats"],
  rebuild: { eventTypes: AUDIT_CHAT_EVENTS },
  plan(events, tables, named) {
    const rows = lastChangeOfEachChat(events);
    if (rows.length === 0) return [];
    return [
      {
        ...named("audit-chats"),
        text: `INSERT INTO ${tables.q("audit_chats")}
               (chat_id, enabled, source, since_position, since_at, actor, reason)
             SELECT (r->>0)::bigint, (r->>1)::boolean, r->>2, (r->>3)::bigint, (r->>4)::timestamptz,
                    (r->>5)::jsonb, r->>6
               FROM jsonb_array_elements($1::jsonb) AS r
             ON CONFLICT (chat_id) DO UPDATE SET
               enabled = EXCLUDED.enabled, source = EXCLUDED.source,
               since_position = EXCLUDED.since_position, since_at = EXCLUDED.since_at,
               actor = EXCLUDED.actor, reason = EXCLUDED.reason`,
        values: [JSON.stringify(rows)],
      },
    ];
  },
});

function lastChangeOfEachChat(events: StoredEvent[]): unknown[][] {
  const parsed = ledgerEvents(events);
  const last = new Map<number, unknown[]>();
  for (const [i, row] of events.entries()) {
    const event = parsed[i];
    if (!isOneOf(AUDIT_CHAT_EVENTS, event)) continue;
    const { chatId, source } = event.data;
    last.set(chatId, [
      chatId,
      event.type === "AuditChatEnabled",
      source,
      row.position,
      row.recordedAt.toISOString(),
      actorOf(row),
      reasonOf(row),
    ]);
  }
  return [...last.values()];
}
