import { Composer } from "telegraf";
import { z } from "zod";
import { pluginIdArg, versionArg } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments, replyHtml } from "../context.ts";
import { diffMessage } from "../diff-view.ts";
import { escapeHtml } from "../html.ts";
import { matrixMessage, versionsMessage } from "../read-views.ts";
import { requires } from "./access.ts";

/**
 * /versions (a plugin's releases), /diff (what changes between two of them) and /matrix
 * (declared compatibility against what runs).
 */
export function catalogFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.command("versions", requires("read"), async (ctx) => {
    const read = await readArguments(
      ctx,
      { name: "versions", payload: ctx.payload },
      z.object({ plugin: pluginIdArg }),
      (w) => ({ plugin: w.words[0] }),
    );
    if (!read) return;
    const { args } = read;
    const [items, running] = await Promise.all([
      ledger.versions(args.plugin),
      ledger.activeVersion(args.plugin),
    ]);
    await replyHtml(ctx, versionsMessage(args.plugin, items, running));
  });

  feature.command("diff", requires("read"), async (ctx) => {
    const read = await readArguments(
      ctx,
      { name: "diff", payload: ctx.payload },
      z.object({
        plugin: pluginIdArg,
        from: versionArg("the first version"),
        to: versionArg("the second version"),
      }),
      (w) => ({ plugin: w.words[0], from: w.words[1], to: w.words[2] }),
    );
    if (!read) return;
    const { plugin, from, to } = read.args;
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
