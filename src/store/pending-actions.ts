import type pg from "pg";
import { isUniqueViolation } from "./errors.ts";
import { tablesIn } from "./tables.ts";

/**
 * Telegram's previews waiting for their Confirm or Cancel, in PostgreSQL so that every bot
 * instance (and a restarted one) sees the same buttons, and so that "single use" is one atomic
 * UPDATE. This module holds their SQL and nothing else: what a preview asks for (`Command`) and
 * in which context (`Context`) are the ledger's, stored as JSON.
 */
export type PendingState = "pending" | "confirmed" | "cancelled" | "rejected";

export type StoredPendingAction<Command, Context> = {
  id: string;
  updateId: number;
  chatId: number;
  messageId: number | null;
  requesterUserId: number;
  /** As asked: an A/B start gets its test id and salt only when the ledger executes it. */
  command: Command;
  ctx: Context;
  state: PendingState;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  usedUpdateId: number | null;
};

export type NewStoredPendingAction<Command, Context> = Pick<
  StoredPendingAction<Command, Context>,
  "id" | "updateId" | "chatId" | "requesterUserId" | "command" | "ctx"
> & {
  state: "pending" | "rejected";
  /** How long the buttons work, counted by the database's clock from the moment it is recorded. */
  ttlMs: number;
};

export type Press = { userId: number; updateId: number };

/**
 * Used and expired previews are deleted once their buttons have been dead this long: past the
 * day in which Telegram may redeliver the update that asked for them (a redelivery must still
 * find its row), and a few rows at a time, so each new preview's share of the work stays small.
 * No index serves it: pruning keeps the table to about this many days of previews, and the scan
 * stops at the batch's last match.
 */
const PRUNE_AFTER = "2 days";
const PRUNE_BATCH = 100;

type Row<Command, Context> = {
  id: string;
  update_id: string | number;
  chat_id: string | number;
  message_id: string | number | null;
  requester_user_id: string | number;
  command: Command;
  ctx: Context;
  state: PendingState;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  used_update_id: string | number | null;
};

/**
 * Each statement here is written so that a second run after a lost COMMIT answer gives the first
 * run's outcome (see `create` and `use`): the ledger runs them again on a new connection.
 */
export function pendingActionsTable<Command, Context>(pool: pg.Pool, schema: string) {
  type Action = StoredPendingAction<Command, Context>;
  const table = tablesIn(schema).q("telegram_pending_actions");

  /**
   * One statement, so two presses racing each other see one winner: the row lock makes the
   * second wait, and it then re-checks the WHERE against the row the first one left. Expiry is
   * the database's clock, the same for every bot instance whatever its own clock says. The
   * second branch accepts the same press again (same state asked, same update): a redelivered
   * update, or this statement run again after its COMMIT's answer was lost, gets the row it used.
   */
  const useText = `UPDATE ${table}
        SET state = $2, used_at = coalesce(used_at, clock_timestamp()), used_update_id = coalesce(used_update_id, $4)
      WHERE id = $1 AND requester_user_id = $3
        AND ((state = 'pending' AND expires_at > clock_timestamp())
             OR (state = $2 AND used_update_id = $4))
     RETURNING *`;

  async function find(id: string): Promise<Action | null> {
    const found = await pool.query<Row<Command, Context>>({
      text: `SELECT * FROM ${table} WHERE id = $1`,
      values: [id],
    });
    return found.rows[0] ? pendingAction(found.rows[0]) : null;
  }

  return {
    find,

    /** Records a preview; false when this update was seen before (a redelivery). Prunes on the way. */
    create: (action: NewStoredPendingAction<Command, Context>) => insertPreview(pool, table, action, find),

    async attachMessage(id: string, messageId: number): Promise<void> {
      await pool.query({
        text: `UPDATE ${table} SET message_id = $2 WHERE id = $1`,
        values: [id, messageId],
      });
    },

    /**
     * Uses the preview for `state`, if this user's and still pending and unexpired (or already
     * used by this same press); null otherwise. `client`: a transaction's connection, for a
     * use that must commit or roll back with other work.
     */
    async use(
      id: string,
      state: "confirmed" | "cancelled",
      press: Press,
      client: pg.ClientBase | pg.Pool = pool,
    ): Promise<Action | null> {
      const used = await client.query<Row<Command, Context>>({
        text: useText,
        values: [id, state, press.userId, press.updateId],
      });
      return used.rows[0] ? pendingAction(used.rows[0]) : null;
    },
  };
}

/** See `create`: a unique violation is this preview's own row, or the update's redelivery. */
async function insertPreview<Command, Context>(
  pool: pg.Pool,
  table: string,
  action: NewStoredPendingAction<Command, Context>,
  find: (id: string) => Promise<StoredPendingAction<Command, Context> | null>,
): Promise<boolean> {
  try {
    await pool.query({
      text: `WITH pruned AS (
               DELETE FROM ${table} WHERE id IN (
                 SELECT id FROM ${table} WHERE expires_at < clock_timestamp() - interval '${PRUNE_AFTER}'
                  LIMIT ${PRUNE_BATCH})
             ),
             -- One reading of the clock for both times: two calls may differ by a microsecond.
             stamp AS (SELECT clock_timestamp() AS at)
             INSERT INTO ${table} (id, update_id, chat_id, requester_user_id, command, ctx, state, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT at FROM stamp),
                     (SELECT at FROM stamp) + $8::float8 * interval '1 millisecond')`,
      values: [
        action.id,
        action.updateId,
        action.chatId,
        action.requesterUserId,
        JSON.stringify(action.command),
        JSON.stringify(action.ctx),
        action.state,
        action.ttlMs,
      ],
    });
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Our own row, committed by a first run whose answer was lost: recorded, not a redelivery.
    // (The id is new for every preview, so no other update holds it.)
    const stored = await find(action.id);
    if (stored !== null && stored.updateId === action.updateId) return true;
    // The unique update id is how a redelivered command is recognised: not an error here.
    if (error.constraint?.endsWith("update_id_key")) return false;
    throw error;
  }
}

const num = (value: string | number) => Number(value);

function pendingAction<Command, Context>(row: Row<Command, Context>): StoredPendingAction<Command, Context> {
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
