import { Composer } from "telegraf";
import { z } from "zod";
import { limitArg, pluginIdArg, type Words } from "../arguments.ts";
import { type BotContext, type BotServices, replyHtml } from "../context.ts";
import { auditMessage, historyMessage, verifyMessage } from "../read-views.ts";
import { requires } from "./access.ts";
import { commandWithArguments } from "./command-with-arguments.ts";

/** Long answers are split into messages; these bound how many. */
const HISTORY_DEFAULT = 500;
const HISTORY_MAX = 2000;
const AUDIT_DEFAULT = 20;
const AUDIT_MAX = 500;

/** /history (which version ran when), /audit (who changed what) and /verify (the hash chain). */
export function historyFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  const historyArguments = {
    schema: z.object({ plugin: pluginIdArg, limit: limitArg(HISTORY_MAX).default(HISTORY_DEFAULT) }),
    fromWords: (w: Words) => ({ plugin: w.words[0], limit: w.words[1] }),
  };
  commandWithArguments(feature, "history", "read", historyArguments, async (ctx, { plugin, limit }) => {
    await replyHtml(ctx, historyMessage(plugin, await ledger.history(plugin, { limit })));
  });

  const auditArguments = {
    schema: z.object({ plugin: pluginIdArg.optional(), limit: limitArg(AUDIT_MAX).default(AUDIT_DEFAULT) }),
    // Either word may come first: a number is the limit, anything else the plugin.
    fromWords: (w: Words) => ({
      plugin: w.words.find((word) => !/^\d+$/.test(word)),
      limit: w.words.find((word) => /^\d+$/.test(word)),
    }),
  };
  commandWithArguments(feature, "audit", "read", auditArguments, async (ctx, { plugin, limit }) => {
    await replyHtml(ctx, auditMessage(await ledger.audit({ limit, pluginId: plugin })));
  });

  feature.command("verify", requires("read"), async (ctx) => {
    await replyHtml(ctx, verifyMessage(await ledger.verify()));
  });

  return feature;
}
