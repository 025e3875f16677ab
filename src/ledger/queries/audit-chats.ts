import type pg from "pg";
import type { AuditChatSource } from "../../domain/index.ts";
import type { Metadata } from "../../store/index.ts";
import type { Tables } from "../../store/tables.ts";

/** A chat the ledger has heard of, as its last AuditChatEnabled or AuditChatDisabled left it. */
export type AuditChat = {
  chatId: number;
  enabled: boolean;
  source: AuditChatSource;
  /** The position of that last change: an enabled chat is told of the changes from here on. */
  sincePosition: number;
  sinceAt: Date;
  actor: Metadata["actor"];
  reason: string | null;
};

type Row = {
  chat_id: string;
  enabled: boolean;
  source: AuditChatSource;
  since_position: string;
  since_at: Date;
  actor: Metadata["actor"];
  reason: string | null;
};

export async function auditChats(pool: pg.Pool, tables: Tables): Promise<AuditChat[]> {
  const found = await pool.query<Row>(`SELECT * FROM ${tables.q("audit_chats")} ORDER BY chat_id`);
  return found.rows.map((row) => ({
    chatId: Number(row.chat_id),
    enabled: row.enabled,
    source: row.source,
    sincePosition: Number(row.since_position),
    sinceAt: row.since_at,
    actor: row.actor,
    reason: row.reason,
  }));
}
