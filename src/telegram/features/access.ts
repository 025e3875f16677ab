import { Composer, type MiddlewareFn } from "telegraf";
import type { Logger } from "../../log.ts";
import { COMMANDS, commandsFor } from "../command-list.ts";
import type { BotContext } from "../context.ts";
import { refuse } from "../context.ts";
import { bold, code, escapeHtml } from "../html.ts";
import { type AccessList, allows, type Permission } from "../roles.ts";

/** The command an update carries (`/upgrade@ledger_bot ...` -> upgrade), if any. */
export function commandOf(ctx: BotContext): string | undefined {
  const text = ctx.message && "text" in ctx.message ? ctx.message.text : undefined;
  return text ? /^\/([a-z0-9_]+)(?:@\w+)?(?:\s|$)/i.exec(text)?.[1]?.toLowerCase() : undefined;
}

/**
 * The first middleware: who sent the update, their role, and a logger bound to the update.
 * Updates without a sender (channel posts) go no further.
 */
export function identify(access: AccessList, logger: Logger): MiddlewareFn<BotContext> {
  return (ctx, next) => {
    const from = ctx.from;
    if (!from || from.is_bot) return;
    ctx.requester = { id: from.id, name: from.username ?? from.first_name, role: access.roleOf(from.id) };
    ctx.log = logger.child({ updateId: ctx.update.update_id, userId: from.id, command: commandOf(ctx) });
    return next();
  };
}

const PUBLIC = new Set(COMMANDS.filter((c) => c.permission === null).map((c) => c.name));
const STRANGER = "Sorry, this bot only answers the people its admins have added.";

/** Someone with no role gets one line, whatever they send, except /help and /whoami. */
export function strangerGate(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (ctx.requester.role !== null) return next();
    const command = commandOf(ctx);
    if (command && PUBLIC.has(command)) return next();
    // A press, a command, or anything in a private chat gets the line; the chatter of a group
    // the bot sits in does not.
    const addressed = ctx.callbackQuery || command || (ctx.message && ctx.chat?.type === "private");
    if (addressed) await refuse(ctx, command ?? ctx.updateType, STRANGER);
  };
}

/** Lets the update through if the sender's role has the permission; otherwise one line. */
export function requires(permission: Permission): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (allows(ctx.requester.role, permission)) return next();
    const command = commandOf(ctx);
    await refuse(
      ctx,
      command ?? permission,
      `Sorry, your role (${ctx.requester.role ?? "none"}) may not run /${command}.`,
    );
  };
}

/** /whoami and /help: open to everyone, so that someone new can tell an admin their id. */
export function accessFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  feature.command("whoami", async (ctx) => {
    const { id, name, role } = ctx.requester;
    await ctx.reply(
      [
        `You are ${bold(name)}, Telegram id ${code(String(id))}.`,
        role
          ? `Your role here: ${bold(role)}.`
          : "You have no role here; an admin can add your id to TELEGRAM_VIEWERS, TELEGRAM_OPERATORS or TELEGRAM_ADMINS.",
      ].join("\n"),
      { parse_mode: "HTML" },
    );
  });
  feature.command("help", async (ctx) => {
    const lines = commandsFor(ctx.requester.role).map(
      (c) => `${escapeHtml(c.usage)} — ${escapeHtml(c.description)}`,
    );
    const changes = allows(ctx.requester.role, "change")
      ? ["", "Every change shows a preview first; it is recorded only when you press Confirm."]
      : [];
    await ctx.reply([bold("plugin-ledger"), ...lines, ...changes].join("\n"), { parse_mode: "HTML" });
  });
  return feature;
}
