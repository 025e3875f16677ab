import { Composer } from "telegraf";
import { z } from "zod";
import type { AuditChat } from "../../ledger/index.ts";
import { reasonArg, rest, type Words } from "../arguments.ts";
import { actorText } from "../audit-messages.ts";
import { actorOf, type BotContext, type BotServices, refuse, replyHtml } from "../context.ts";
import { bold, code, escapeHtml } from "../html.ts";
import { when } from "../read-views.ts";
import { allows } from "../roles.ts";
import { commandWithArguments } from "./command-with-arguments.ts";

/** `/notify [on | off] [reason]`, parsed from its words (exported for the fuzz test). */
export const notifyArguments = {
  schema: z.object({
    sub: z.enum(["on", "off", "status"], { error: "say on, off or nothing" }).default("status"),
    reason: reasonArg,
  }),
  fromWords: (w: Words) => ({ sub: w.words[0], reason: rest(w.words, 1) }),
};

/**
 * `/notify on|off [reason]`: an admin turns this chat's change notifications on or off, recorded
 * at once as an AuditChatEnabled/Disabled event (no preview: it changes nothing that runs, and is
 * undone by the opposite command). `/notify` alone says whether this chat is told, and lists the
 * audit chats. The update id is the idempotency key: a redelivered command writes once.
 */
export function notifyFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  commandWithArguments(feature, "notify", "read", notifyArguments, async (ctx, { sub, reason }) => {
    const chatId = ctx.chat?.id ?? ctx.requester.id;
    if (sub === "status") {
      await replyHtml(ctx, statusText(chatId, await ledger.auditChats()));
      return;
    }
    if (!allows(ctx.requester.role, "notify")) {
      await refuse(
        ctx,
        `/notify ${sub}`,
        `Sorry, your role (${ctx.requester.role}) may not run /notify ${sub}: only an admin turns a chat's notifications on or off.`,
      );
      return;
    }
    const updateId = ctx.update.update_id;
    const result = await ledger.execute(
      { kind: sub === "on" ? "auditChatEnable" : "auditChatDisable", chatId },
      {
        actor: actorOf(ctx.requester),
        reason,
        causationId: String(updateId),
        idempotencyKey: `tg:${updateId}`,
      },
    );
    if (!result.ok) {
      const already = result.violations.every((v) => v.code === "ALREADY");
      ctx.log.info({ violations: result.violations.map((v) => v.code) }, "/notify refused by the rules");
      await ctx.reply(
        already
          ? sub === "on"
            ? "This chat is already told of every change."
            : "This chat is not told of the changes."
          : `Not done: ${result.violations.map((v) => v.message).join(" ")}`,
      );
      return;
    }
    const position = result.dryRun ? "?" : (result.events[0]?.position ?? "?");
    ctx.log.info({ chatId, sub, position }, "audit chat changed");
    await ctx.reply(
      sub === "on"
        ? `🔔 This chat is told of every change from now on (recorded at #${position}).`
        : `🔕 This chat is told nothing more (recorded at #${position}).`,
    );
  });
  return feature;
}

function statusText(chatId: number, chats: AuditChat[]): string {
  const here = chats.find((c) => c.chatId === chatId);
  const lines = [
    here?.enabled
      ? `🔔 This chat is told of every change (since #${here.sincePosition}).`
      : "🔕 This chat is not told of the changes; an admin can send /notify on.",
  ];
  const enabled = chats.filter((c) => c.enabled);
  lines.push(bold(`Audit chats: ${enabled.length}`));
  for (const chat of enabled) {
    lines.push(
      `• ${code(String(chat.chatId))} since #${chat.sincePosition} ${when(chat.sinceAt)} by ${escapeHtml(actorText(chat.actor))} (${chat.source === "config" ? "TELEGRAM_AUDIT_CHAT_IDS" : "/notify on"})`,
    );
  }
  return lines.join("\n");
}
