import { Composer } from "telegraf";
import { z } from "zod";
import { limitArg, pluginIdArg } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments, replyHtml } from "../context.ts";
import { auditMessage, historyMessage, verifyMessage } from "../read-views.ts";
import { requires } from "./access.ts";

/** Long answers are split into messages; these bound how many. */
const HISTORY_DEFAULT = 500;
const HISTORY_MAX = 2000;
const AUDIT_DEFAULT = 20;
const AUDIT_MAX = 500;

/** /history (which version ran when), /audit (who changed what) and /verify (the hash chain). */
export function historyFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.command("history", requires("read"), async (ctx) => {
    const read = await readArguments(
      ctx,
      { name: "history", payload: ctx.payload },
      z.object({ plugin: pluginIdArg, limit: limitArg(HISTORY_MAX).default(HISTORY_DEFAULT) }),
      (w) => ({ plugin: w.words[0], limit: w.words[1] }),
    );
    if (!read) return;
    const { args } = read;
    await replyHtml(
      ctx,
      historyMessage(args.plugin, await ledger.history(args.plugin, { limit: args.limit })),
    );
  });

  feature.command("audit", requires("read"), async (ctx) => {
    const read = await readArguments(
      ctx,
      { name: "audit", payload: ctx.payload },
      z.object({ plugin: pluginIdArg.optional(), limit: limitArg(AUDIT_MAX).default(AUDIT_DEFAULT) }),
      // Either word may come first: a number is the limit, anything else the plugin.
      (w) => ({
        plugin: w.words.find((word) => !/^\d+$/.test(word)),
        limit: w.words.find((word) => /^\d+$/.test(word)),
      }),
    );
    if (!read) return;
    const { args } = read;
    await replyHtml(ctx, auditMessage(await ledger.audit({ limit: args.limit, pluginId: args.plugin })));
  });

  feature.command("verify", requires("read"), async (ctx) => {
    await replyHtml(ctx, verifyMessage(await ledger.verify()));
  });

  return feature;
}
