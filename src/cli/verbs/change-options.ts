import type { Command } from "commander";
import { z } from "zod";
import type { CommandRequest } from "../../domain/index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { reportChange } from "./change-output.ts";

/** --dry-run, --force and --idempotency-key, as commander hands them to every verb that writes. */
export const ChangeOptions = z.object({
  dryRun: z.boolean().optional(),
  force: z.boolean().optional(),
  idempotencyKey: z.string().optional(),
});
export type ChangeOptions = z.output<typeof ChangeOptions>;

/** --dry-run, --force and --idempotency-key, on every verb that writes. */
export function mutating(command: Command): Command {
  return command
    .option("--dry-run", "show the plan and the violations, write nothing")
    .option("--force", "record rule violations as overrides (admin; needs --reason)")
    .option("--idempotency-key <key>", "a retried request with this key is answered, not written twice");
}

/**
 * A verb's options, as commander collected them, read with the verb's schema. Commander's own
 * parsers already turned a bad value into a usage error; one that still does not fit is one too.
 */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag =
    issue?.path[0] === undefined
      ? ""
      : `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: `;
  throw new CliError(`${flag}${issue?.message ?? "invalid options"}`, ExitCode.invalid);
}

export async function execute(
  ctx: CliContext,
  command: CommandRequest,
  options: ChangeOptions,
): Promise<void> {
  const ledger = await ctx.ledger();
  const result = await ledger.execute(command, {
    actor: ctx.actor,
    reason: ctx.reason,
    force: options.force === true,
    dryRun: options.dryRun === true,
    idempotencyKey: options.idempotencyKey,
  });
  reportChange(ctx, result);
}
