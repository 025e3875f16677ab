import type pg from "pg";
import type { CommandRequest } from "../domain/index.ts";
import {
  type NewStoredPendingAction,
  type PendingState,
  type Press,
  pendingActionsTable,
  type StoredPendingAction,
} from "../store/pending-actions.ts";
import type { ExecuteContext, ExecuteOptions, ExecuteResult } from "./execute.ts";
import type { Reconnect } from "./reconnect.ts";

/**
 * Previews waiting for their Confirm or Cancel, as the ledger hands them to the Telegram
 * transport: their SQL is the store's (src/store/pending-actions.ts); here a confirmed preview
 * executes its change, and every statement runs again on a new connection when its connection is
 * lost. This module knows nothing of telegraf; the confirmation feature knows nothing of SQL.
 */
export type { PendingState, Press };

/** The execute context as previewed; the press adds its own causation and idempotency key. */
export type PreviewedContext = Pick<ExecuteContext, "actor" | "reason" | "force" | "allowMajor">;

export type PendingAction = StoredPendingAction<CommandRequest, PreviewedContext>;

export type NewPendingAction = NewStoredPendingAction<CommandRequest, PreviewedContext>;

/** A press's own part of the execute context: its causation and idempotency key. */
export type PressContext = Pick<ExecuteContext, "causationId" | "correlationId" | "idempotencyKey">;

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

type Table = ReturnType<typeof pendingActionsTable<CommandRequest, PreviewedContext>>;

/** Thrown inside the confirm transaction to roll it back: the preview cannot be used. */
class PreviewUnusable extends Error {}

/**
 * `retry` runs a statement again on a new connection when its connection is lost, as every ledger
 * call does; each statement is written so that a second run after a lost COMMIT answer gives the
 * first run's outcome (see src/store/pending-actions.ts). `confirm` goes through `execute`, which
 * retries the whole append itself.
 */
export function pendingActions(
  pool: pg.Pool,
  schema: string,
  execute: Execute,
  retry: Reconnect = (_operation, attempt) => attempt(),
): PendingActions {
  const table: Table = pendingActionsTable(pool, schema);
  const find = (id: string) => retry("pendingActions.find", () => table.find(id));
  return {
    create: (action) => retry("pendingActions.create", () => table.create(action)),
    async attachMessage(id, messageId) {
      await retry("pendingActions.attachMessage", () => table.attachMessage(id, messageId));
    },
    find,
    async confirm(id, press, context) {
      const asked = await find(id);
      return asked ? confirmAndExecute(table, execute, asked, press, context) : null;
    },
    cancel: (id, press) => retry("pendingActions.cancel", () => table.use(id, "cancelled", press)),
  };
}

async function confirmAndExecute(
  table: Table,
  execute: Execute,
  asked: PendingAction,
  press: Press,
  context: PressContext,
): Promise<{ action: PendingAction; result: ExecuteResult } | null> {
  let used: PendingAction | null = null;
  // The preview is used in the append's own transaction, under its head lock: it commits
  // with the change, or rolls back with a failed write and stays pending.
  const claim = async ({ client }: { client: pg.PoolClient }) => {
    used = await table.use(asked.id, "confirmed", press, client);
    if (!used) throw new PreviewUnusable();
  };
  try {
    const result = await execute(asked.command, { ...asked.ctx, ...context }, { claim });
    return { action: used ?? asked, result };
  } catch (error) {
    if (error instanceof PreviewUnusable) return null;
    throw error;
  }
}
