import type pg from "pg";
import type { CommandRequest } from "../domain/index.ts";
import { tablesIn } from "../store/tables.ts";
import type { ExecuteContext, ExecuteOptions, ExecuteResult } from "./execute.ts";
import type { Reconnect } from "./reconnect.ts";

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
  "id" | "updateId" | "chatId" | "requesterUserId" | "command" | "ctx"
> & {
  state: "pending" | "rejected";
  /** How long the buttons work, counted by the database's clock from the moment it is recorded. */
  ttlMs: number;
};

/** A press's own part of the execute context: its causation and idempotency key. */
export type PressContext = Pick<ExecuteContext, "causationId" | "correlationId" | "idempotencyKey">;

export type Press = { userId: number; updateId: number };

export type PendingActions = {
  /**
   * Records a preview; false when this update was seen before (a redelivery), and nothing was
   * recorded. Old rows are pruned on the way (see PRUNE_AFTER).
   */
  create(action: NewPendingAction): Promise<boolean>;
  attachMessage(id: string, messageId: number): Promise<void>;
  find(id: string): Promise<PendingAction | null>;
  /**
   * Uses the preview for its change and executes that change, in one transaction: the preview is
   * used only if the change is decided (written, or refused by the rules), and a write that fails
   * leaves it pending for another press. null when it is not usable: unknown, someone else's,
   * used, or expired by the database's clock. A Confirm whose update is redelivered gets it
   * again, and the ledger answers from the press's idempotency key instead of writing twice.
   */
  confirm(
    id: string,
    press: Press,
    context: PressContext,
  ): Promise<{ action: PendingAction; result: ExecuteResult } | null>;
  /** Uses the preview for nothing, if it is still pending and unexpired; null otherwise. */
  cancel(id: string, press: Press): Promise<PendingAction | null>;
};

type Execute = (
  command: CommandRequest,
  context: ExecuteContext,
  options: ExecuteOptions,
) => Promise<ExecuteResult>;

const UNIQUE_VIOLATION = "23505";

/**
 * Used and expired previews are deleted once their buttons have been dead this long: past the
 * day in which Telegram may redeliver the update that asked for them (a redelivery must still
 * find its row), and a few rows at a time, so each new preview's share of the work stays small.
 * No index serves it: pruning keeps the table to about this many days of previews, and the scan
 * stops at the batch's last match.
 */
const PRUNE_AFTER = "2 days";
const PRUNE_BATCH = 100;

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

/** Thrown inside the confirm transaction to roll it back: the preview cannot be used. */
class PreviewUnusable extends Error {}

/**
 * `retry` runs a statement again on a new connection when its connection is lost, as every ledger
 * call does; each statement here is written so that a second run after a lost COMMIT answer gives
 * the first run's outcome (see `create` and `useText`). `confirm` goes through `execute`, which
 * retries the whole append itself.
 */
export function pendingActions(
  pool: pg.Pool,
  schema: string,
  execute: Execute,
  retry: Reconnect = (_operation, attempt) => attempt(),
): PendingActions {
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

  async function findOnce(id: string): Promise<PendingAction | null> {
    const found = await pool.query<Row>({ text: `SELECT * FROM ${table} WHERE id = $1`, values: [id] });
    return found.rows[0] ? pendingAction(found.rows[0]) : null;
  }
  const find = (id: string) => retry("pendingActions.find", () => findOnce(id));

  async function createOnce(action: NewPendingAction): Promise<boolean> {
    try {
      await pool.query({
        text: `WITH pruned AS (
                 DELETE FROM ${table} WHERE id IN (
                   SELECT id FROM ${table} WHERE expires_at < clock_timestamp() - interval '${PRUNE_AFTER}'
                    LIMIT ${PRUNE_BATCH})
               )
               INSERT INTO ${table} (id, update_id, chat_id, requester_user_id, command, ctx, state, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(),
                       clock_timestamp() + $8::float8 * interval '1 millisecond')`,
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
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // Our own row, committed by a first run whose answer was lost: recorded, not a redelivery.
      // (The id is new for every preview, so no other update holds it.)
      const stored = await findOnce(action.id);
      if (stored !== null && stored.updateId === action.updateId) return true;
      // The unique update id is how a redelivered command is recognised: not an error here.
      if ((error as { constraint?: string }).constraint?.endsWith("update_id_key")) return false;
      throw error;
    }
  }

  return {
    create: (action) => retry("pendingActions.create", () => createOnce(action)),

    async attachMessage(id, messageId) {
      await retry("pendingActions.attachMessage", () =>
        pool.query({ text: `UPDATE ${table} SET message_id = $2 WHERE id = $1`, values: [id, messageId] }),
      );
    },

    find,

    async confirm(id, press, context) {
      const asked = await find(id);
      if (!asked) return null;
      let used: PendingAction | null = null;
      // The preview is used in the append's own transaction, under its head lock: it commits
      // with the change, or rolls back with a failed write and stays pending.
      const claim = async ({ client }: { client: pg.PoolClient }) => {
        const found = await client.query<Row>({
          text: useText,
          values: [id, "confirmed", press.userId, press.updateId],
        });
        if (!found.rows[0]) throw new PreviewUnusable();
        used = pendingAction(found.rows[0]);
      };
      try {
        const result = await execute(asked.command, { ...asked.ctx, ...context }, { claim });
        return { action: used ?? asked, result };
      } catch (error) {
        if (error instanceof PreviewUnusable) return null;
        throw error;
      }
    },

    async cancel(id, press) {
      const used = await retry("pendingActions.cancel", () =>
        pool.query<Row>({ text: useText, values: [id, "cancelled", press.userId, press.updateId] }),
      );
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
