import { Composer } from "telegraf";
import { z } from "zod";
import { pluginIdArg } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments, replyHtml } from "../context.ts";
import { matrixMessage, versionsMessage } from "../read-views.ts";
import { requires } from "./access.ts";

/** /versions (a plugin's releases) and /matrix (declared compatibility against what runs). */
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

  feature.command("matrix", requires("read"), async (ctx) => {
    await replyHtml(ctx, matrixMessage(await ledger.matrix()));
  });

  return feature;
}
