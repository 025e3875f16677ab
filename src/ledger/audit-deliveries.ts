import { randomBytes } from "node:crypto";
import type pg from "pg";
import { tablesIn } from "../store/tables.ts";

/**
 * The audit chats' outbox (`telegram_deliveries`): what is to be posted to which chat, what was,
 * and with which message id. It knows SQL and nothing of telegraf; the notifier
 * (src/telegram/audit-notifier.ts) knows telegraf and nothing of SQL.
 *
 * A message's life: `pending` (written with its text before anything is sent, so a restart sends
 * exactly the same text), `sending` (claimed just before the sendMessage call), then `sent` with
 * its message id, or back to `pending` when Telegram answered with an error (nothing was posted),
 * or `uncertain` when the call's outcome is unknown (the connection broke mid-call, or the process
 * died: a row still `sending` when its chat's sender starts again). An uncertain message is
 * never sent again: Telegram has no idempotency key for sendMessage, so sending it again could
 * post it twice. At most once, then, for that one message; at least once for every other.
 */
export type DeliveryState = "pending" | "sending" | "sent" | "uncertain";

export type Delivery = {
  chatId: number;
  key: string;
  part: number;
  parts: number;
  firstPosition: number | null;
  lastPosition: number | null;
  text: string;
  state: DeliveryState;
  messageId: number | null;
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
};

/** One message to post: its parts (each under Telegram's limit) go out in order. */
export type Outgoing = {
  key: string;
  firstPosition: number | null;
  lastPosition: number | null;
  parts: string[];
};

export type AuditDeliveries = {
  /** Rows left `sending` by an interrupted sender become `uncertain`; returns them. */
  settleInterrupted(chatId: number): Promise<Delivery[]>;
  /** The last ledger position written into this chat's outbox, or null. */
  lastPosition(chatId: number): Promise<number | null>;
  /** Writes messages as `pending`; a key already there is left as it is (a note posted twice). */
  add(chatId: number, messages: readonly Outgoing[]): Promise<void>;
  /**
   * The chat's rows to send, in the order they were added: `pending` ones, and those this sender
   * claimed and has not settled (a database call lost after the claim or after the send: the
   * notifier knows which of them it sent).
   */
  pending(chatId: number): Promise<Delivery[]>;
  /** Marks a pending row `sending` for this sender; false if someone else has it, or it is done. */
  claim(chatId: number, key: string, part: number): Promise<boolean>;
  sent(chatId: number, key: string, part: number, messageId: number): Promise<void>;
  /** `definite`: Telegram refused it, nothing was posted (back to pending); else it is uncertain. */
  failed(chatId: number, key: string, part: number, error: string, definite: boolean): Promise<void>;
  /** Every row of a chat (or of all chats), in order: what was posted where. */
  list(chatId?: number): Promise<Delivery[]>;
};

type Row = {
  chat_id: string;
  key: string;
  part: number;
  parts: number;
  first_position: string | null;
  last_position: string | null;
  text: string;
  state: DeliveryState;
  message_id: string | null;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
};

const ERROR_MAX = 1_000;

export function auditDeliveries(pool: pg.Pool, schema: string): AuditDeliveries {
  const table = tablesIn(schema).q("telegram_deliveries");
  // This process's mark on the rows it claims: a claim retried after a lost connection finds it.
  const sender = `${process.pid}:${randomBytes(6).toString("hex")}`;
  const rows = async (text: string, values: unknown[]) =>
    (await pool.query<Row>({ text, values })).rows.map(delivery);

  return {
    settleInterrupted: (chatId) =>
      rows(
        `UPDATE ${table} SET state = 'uncertain',
                last_error = 'the sender stopped while the message was being sent'
          WHERE chat_id = $1 AND state = 'sending' AND claimed_by IS DISTINCT FROM $2
          RETURNING *`,
        [chatId, sender],
      ),

    async lastPosition(chatId) {
      const found = await pool.query<{ last: string | null }>({
        text: `SELECT max(last_position) AS last FROM ${table} WHERE chat_id = $1`,
        values: [chatId],
      });
      const last = found.rows[0]?.last ?? null;
      return last === null ? null : Number(last);
    },

    add: (chatId, messages) => addParts(pool, table, chatId, messages),

    pending: (chatId) =>
      rows(
        `SELECT * FROM ${table}
          WHERE chat_id = $1 AND (state = 'pending' OR (state = 'sending' AND claimed_by = $2))
          ORDER BY seq`,
        [chatId, sender],
      ),

    async claim(chatId, key, part) {
      const claimed = await pool.query({
        text: `UPDATE ${table} SET state = 'sending', claimed_by = $4, attempts = attempts + 1
                WHERE chat_id = $1 AND key = $2 AND part = $3
                  AND (state = 'pending' OR (state = 'sending' AND claimed_by = $4))`,
        values: [chatId, key, part, sender],
      });
      return claimed.rowCount === 1;
    },

    async sent(chatId, key, part, messageId) {
      await pool.query({
        text: `UPDATE ${table} SET state = 'sent', message_id = $4, sent_at = now(), last_error = NULL
                WHERE chat_id = $1 AND key = $2 AND part = $3 AND state IN ('sending', 'uncertain')`,
        values: [chatId, key, part, messageId],
      });
    },

    async failed(chatId, key, part, error, definite) {
      await pool.query({
        text: `UPDATE ${table} SET state = $4, last_error = $5
                WHERE chat_id = $1 AND key = $2 AND part = $3 AND state = 'sending'`,
        values: [chatId, key, part, definite ? "pending" : "uncertain", error.slice(0, ERROR_MAX)],
      });
    },

    list: (chatId) =>
      chatId === undefined
        ? rows(`SELECT * FROM ${table} ORDER BY seq`, [])
        : rows(`SELECT * FROM ${table} WHERE chat_id = $1 ORDER BY seq`, [chatId]),
  };
}

/** Every part of the messages as a `pending` row, in one statement. */
async function addParts(pool: pg.Pool, table: string, chatId: number, messages: readonly Outgoing[]) {
  const parts = messages.flatMap((m) =>
    m.parts.map((text, i) => [m.key, i + 1, m.parts.length, m.firstPosition, m.lastPosition, text]),
  );
  if (parts.length === 0) return;
  // One statement, in order (the identity column numbers the rows as the SELECT hands them over).
  await pool.query({
    text: `INSERT INTO ${table} (chat_id, key, part, parts, first_position, last_position, text)
           SELECT $1, r->>0, (r->>1)::integer, (r->>2)::integer, (r->>3)::bigint, (r->>4)::bigint, r->>5
             FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS m(r, n)
            ORDER BY n
           ON CONFLICT (chat_id, key, part) DO NOTHING`,
    values: [chatId, JSON.stringify(parts)],
  });
}

const orNull = (value: string | null) => (value === null ? null : Number(value));

function delivery(row: Row): Delivery {
  return {
    chatId: Number(row.chat_id),
    key: row.key,
    part: row.part,
    parts: row.parts,
    firstPosition: orNull(row.first_position),
    lastPosition: orNull(row.last_position),
    text: row.text,
    state: row.state,
    messageId: orNull(row.message_id),
    attempts: row.attempts,
    lastError: row.last_error,
    sentAt: row.sent_at,
  };
}
