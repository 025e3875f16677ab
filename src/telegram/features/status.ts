import { Composer } from "telegraf";
import { z } from "zod";
import type { CatalogEntry, StatusView } from "../../ledger/index.ts";
import { pluginArgument, pointArg, type Words } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments, replyHtml } from "../context.ts";
import { abTestMessage, statusMessage } from "../read-views.ts";
import { requires } from "./access.ts";
import { commandWithArguments } from "./command-with-arguments.ts";

/** /version (what runs now), /asof (what ran then) and /abtest <plugin> status. */
export function statusFeature({ ledger }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  /** Each running plugin's release, for its date, commit and features. */
  async function releasesOf(view: StatusView): Promise<Map<string, CatalogEntry | undefined>> {
    const entries = await Promise.all(
      view.plugins.map(async (p) => {
        const all = await ledger.versions(p.pluginId);
        return [p.pluginId, all.find((v) => v.version === p.version)] as const;
      }),
    );
    return new Map(entries);
  }

  feature.command("version", requires("read"), async (ctx) => {
    const view = await ledger.status();
    await replyHtml(
      ctx,
      statusMessage(view, await releasesOf(view), `What runs now (position ${view.position})`),
    );
  });

  const asOfArguments = {
    schema: z.object({ at: pointArg }),
    fromWords: (w: Words) => ({ at: w.words.join(" ") || undefined }),
  };
  commandWithArguments(feature, "asof", "read", asOfArguments, async (ctx, args) => {
    const view = await ledger.asOf(args.at);
    const at = args.at instanceof Date ? ` (${args.at.toISOString()})` : "";
    await replyHtml(
      ctx,
      statusMessage(view, await releasesOf(view), `What ran at position ${view.position}${at}`),
    );
  });

  // The read of /abtest; its changes go on to the changes feature, which is registered after this one.
  feature.command("abtest", requires("read"), async (ctx, next) => {
    if (ctx.payload.trim().split(/\s+/)[1] !== "status") return next();
    const read = await readArguments(
      ctx,
      { name: "abtest", payload: ctx.payload },
      pluginArgument.schema,
      pluginArgument.fromWords,
    );
    if (!read) return;
    const view = await ledger.status();
    const plugin = view.plugins.find((p) => p.pluginId === read.args.plugin);
    await replyHtml(ctx, abTestMessage(read.args.plugin, plugin));
  });

  return feature;
}
