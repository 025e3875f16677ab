import type pg from "pg";
import type { CommandRequest } from "./domain/index.ts";
import type { ExecuteContext } from "./ledger-execute.ts";
import { tablesIn } from "./store/tables.ts";

/**
 * Previews waiting for their Confirm or Cancel, in PostgreSQL so that every bot instance (and a
 * restarted one) sees the same buttons, and so that "single use" is one atomic UPDATE.
 * This module knows SQL and nothing of telegraf; the confirmation feature knows telegraf and
 * nothing of SQL.
 */
export type PendingState = "pending" | "confirmed" | "cancelled" | "rejected";

/** The execute context as previewed; the press adds its own causation and idempotency key. */
export type PreviewedContext = Pick<ExecuteContext, "actor" | "reason" | "force" | "allowMajor">;

export type PendingAction = {
  id: string;
  updateId: number;
  chatId: number;
  messageId: number | null;
  requesterUserId: number;
  /** As asked: an A/B start gets its test id and salt only when the ledger executes it. */
  command: CommandRequest;
  ctx: PreviewedContext;
  state: PendingState;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  usedUpdateId: number | null;
};

export type NewPendingAction = Pick<
  PendingAction,
  "id" | "updateId" | "chatId" | "requesterUserId" | "command" | "ctx" | "createdAt" | "expiresAt"
> & { state: "pending" | "rejected" };

export type PendingActions = {
  /** false: this update was seen before (a redelivery), and nothing was recorded. */
  create(action: NewPendingAction): Promise<boolean>;
  attachMessage(id: string, messageId: number): Promise<void>;
  find(id: string): Promise<PendingAction | null>;
  /**
   * Uses the action for `confirmed` or `cancelled`, if it is still pending and unexpired at `now`
   * and `userId` asked for it; null otherwise. A Confirm whose update is redelivered gets the
   * action back again, so that it can finish (the ledger's idempotency key keeps it single).
   */
  use(
    id: string,
    use: { state: "confirmed" | "cancelled"; userId: number; updateId: number; now: Date },
  ): Promise<PendingAction | null>;
};

const UNIQUE_VIOLATION = "23505";

type Row = {
  id: string;
  update_id: string | number;
  chat_id: string | number;
  message_id: string | number | null;
  requester_user_id: string | number;
  command: CommandRequest;
  ctx: PreviewedContext;
  state: PendingState;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  used_update_id: string | number | null;
};

export function pendingActions(pool: pg.Pool, schema: string): PendingActions {
  const table = tablesIn(schema).q("telegram_pending_actions");
  return {
    async create(action) {
      try {
        await pool.query({
          text: `INSERT INTO ${table} (id, update_id, chat_id, requester_user_id, command, ctx, state, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          values: [
            action.id,
            action.updateId,
            action.chatId,
            action.requesterUserId,
            JSON.stringify(action.command),
            JSON.stringify(action.ctx),
            action.state,
            action.createdAt,
            action.expiresAt,
          ],
        });
        return true;
      } catch (error) {
        // The unique update id is how a redelivered command is recognised: not an error here.
        const pgError = error as { code?: string; constraint?: string };
        if (pgError.code === UNIQUE_VIOLATION && pgError.constraint?.endsWith("update_id_key")) return false;
        throw error;
      }
    },

    async attachMessage(id, messageId) {
      await pool.query({
        text: `UPDATE ${table} SET message_id = $2 WHERE id = $1`,
        values: [id, messageId],
      });
    },

    async find(id) {
      const found = await pool.query<Row>({ text: `SELECT * FROM ${table} WHERE id = $1`, values: [id] });
      return found.rows[0] ? pendingAction(found.rows[0]) : null;
    },

    async use(id, use) {
      // One statement, so two presses racing each other see one winner: the row lock makes the
      // second wait, and it then re-checks the WHERE against the row the first one left.
      const used = await pool.query<Row>({
        text: `UPDATE ${table}
                  SET state = $2, used_at = coalesce(used_at, $5), used_update_id = coalesce(used_update_id, $4)
                WHERE id = $1 AND requester_user_id = $3
                  AND ((state = 'pending' AND expires_at > $5)
                       OR (state = 'confirmed' AND $2 = 'confirmed' AND used_update_id = $4))
               RETURNING *`,
        values: [id, use.state, use.userId, use.updateId, use.now],
      });
      return used.rows[0] ? pendingAction(used.rows[0]) : null;
    },
  };
}

const num = (value: string | number) => Number(value);

function pendingAction(row: Row): PendingAction {
  return {
    id: row.id,
    updateId: num(row.update_id),
    chatId: num(row.chat_id),
    messageId: row.message_id === null ? null : num(row.message_id),
    requesterUserId: num(row.requester_user_id),
    command: row.command,
    ctx: row.ctx,
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    usedUpdateId: row.used_update_id === null ? null : num(row.used_update_id),
  };
}
