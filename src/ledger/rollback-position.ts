import type { Command, CommandRequest } from "../domain/index.ts";
import type { AppendSession } from "../store/index.ts";

/**
 * `rollback --to-position N` goes to the version that ran at position N, which the rules
 * cannot look up (the domain has no I/O), so it is read here, in the command's own transaction
 * under the head lock, and handed to `decide` on the command. Anything a caller put in
 * `ranAtPosition` is replaced. A position past the head ran nothing yet: null.
 */
export async function withRollbackPosition(session: AppendSession, command: Command): Promise<Command> {
  if (command.kind !== "rollback" || command.toPosition === undefined) return command;
  const { toPosition, pluginId } = command;
  if (!Number.isSafeInteger(toPosition) || toPosition < 1 || typeof pluginId !== "string") {
    return { ...command, ranAtPosition: null };
  }
  if (toPosition > session.head.position) return { ...command, ranAtPosition: null };
  // One backward probe of version_history's (plugin_id, from_position) key: the interval that
  // began last at or before the position, which counts only if it was still open there
  // (intervals of a plugin never overlap, so no earlier one can be).
  const found = await session.client.query<{ version: string }>({
    ...session.named("rollback-position"),
    text: `SELECT version FROM (
             SELECT version, to_position FROM ${session.tables.q("version_history")}
              WHERE plugin_id = $1 AND from_position <= $2
              ORDER BY from_position DESC LIMIT 1
           ) h WHERE to_position IS NULL OR to_position > $2`,
    values: [pluginId, toPosition],
  });
  return { ...command, ranAtPosition: found.rows[0]?.version ?? null };
}

/** A request's rollback without the looked-up version: only the ledger fills it in. */
export function withoutRanAtPosition(command: CommandRequest): CommandRequest {
  if (command.kind !== "rollback" || !("ranAtPosition" in command)) return command;
  const { ranAtPosition: _, ...asked } = command as CommandRequest & { ranAtPosition?: unknown };
  return asked as CommandRequest;
}
