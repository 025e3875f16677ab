import { Composer } from "telegraf";
import { z } from "zod";
import { pluginArgument, pluginIdArg, versionArg, type Words } from "../arguments.ts";
import { type BotContext, type BotServices, replyHtml } from "../context.ts";
import { diffMessage } from "../diff-view.ts";
import { escapeHtml } from "../html.ts";
import { matrixMessage, versionsMessage } from "../read-views.ts";
import { requires } from "./access.ts";
import { commandWithArguments } from "./command-with-arguments.ts";

/**
 * /versions (a plugin's releases), /diff (what changes between two of them) and /matrix
 * (declared compatibility against what runs).
 */
export function catalogFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  commandWithArguments(feature, "versions", "read", pluginArgument, async (ctx, { plugin }) => {
    const [items, running] = await Promise.all([ledger.versions(plugin), ledger.activeVersion(plugin)]);
    await replyHtml(ctx, versionsMessage(plugin, items, running));
  });

  const diffArguments = {
    schema: z.object({
      plugin: pluginIdArg,
      from: versionArg("the first version"),
      to: versionArg("the second version"),
    }),
    fromWords: (w: Words) => ({ plugin: w.words[0], from: w.words[1], to: w.words[2] }),
  };
  commandWithArguments(feature, "diff", "read", diffArguments, async (ctx, { plugin, from, to }) => {
    const result = await ledger.diff(plugin, from, to);
    await replyHtml(
      ctx,
      result.ok ? diffMessage(result.diff) : result.violations.map((v) => escapeHtml(v.message)).join("\n"),
    );
  });

  feature.command("matrix", requires("read"), async (ctx) => {
    await replyHtml(ctx, matrixMessage(await ledger.matrix()));
  });

  return feature;
}
