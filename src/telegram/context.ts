import type { Context } from "telegraf";
import type { z } from "zod";
import type { Ledger, PendingActions } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { type Flag, parseWith, splitWords, type Words } from "./arguments.ts";
import { commandSpec } from "./command-list.ts";
import { escapeHtml, splitHtml } from "./html.ts";
import type { AccessList, Role } from "./roles.ts";

/** Who sent an update, as the ledger records them and as the roles know them. */
export type Requester = { id: number; name: string; role: Role | null };

/** telegraf's context, with what the first middleware finds out about every update. */
export interface BotContext extends Context {
  requester: Requester;
  /** Bound to the update id, and to the command once known. */
  log: Logger;
}

/** What the feature composers are built with. */
export type BotServices = {
  ledger: Ledger;
  pending: PendingActions;
  access: AccessList;
  clock: () => Date;
  /** How long a preview's buttons work. */
  confirmTtlMs: number;
};

/** The ledger's actor for a Telegram user: their numeric id, and the name people know them by. */
export function actorOf(requester: Requester) {
  return { kind: "telegram" as const, id: String(requester.id), name: requester.name };
}

/** An HTML answer, in as many messages as it takes (each under Telegram's 4096 characters). */
export async function replyHtml(ctx: BotContext, html: string): Promise<void> {
  for (const message of splitHtml(html)) {
    await ctx.reply(message, { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
  }
}

/** One line, logged: someone asked for what their role does not allow. */
export async function refuse(ctx: BotContext, what: string, line: string): Promise<void> {
  ctx.log.warn({ userId: ctx.requester.id, role: ctx.requester.role, what }, "refused");
  if (ctx.callbackQuery) await ctx.answerCbQuery(line, { show_alert: true });
  else await ctx.reply(line);
}

/** Bad arguments: the command's usage and what was wrong, never a stack trace. */
export async function replyUsage(ctx: BotContext, usage: string, problem: string): Promise<void> {
  await ctx.reply(`Usage: <code>${escapeHtml(usage)}</code>\n${escapeHtml(problem)}`, { parse_mode: "HTML" });
}

/**
 * The arguments of a command, parsed with zod from its words, and its flags; on a problem the
 * usage is the answer and the result is undefined.
 */
export async function readArguments<S extends z.ZodType>(
  ctx: BotContext,
  input: { name: string; payload: string; flags?: readonly Flag[] },
  schema: S,
  fromWords: (words: Words) => unknown,
): Promise<{ args: z.output<S>; flags: ReadonlySet<Flag> } | undefined> {
  const usage = commandSpec(input.name)?.usage ?? `/${input.name}`;
  const words = splitWords(input.payload, input.flags);
  const parsed = words.ok ? parseWith(schema, fromWords(words.value)) : words;
  if (words.ok && parsed.ok) return { args: parsed.value, flags: words.value.flags };
  const problem = parsed.ok ? "" : parsed.problem;
  ctx.log.info({ problem }, "bad arguments");
  await replyUsage(ctx, usage, problem);
  return undefined;
}
