import { Composer } from "telegraf";
import { z } from "zod";
import type { CatalogEntry } from "../../queries/catalog.ts";
import type { StatusView } from "../../queries/status.ts";
import { pointArg } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments, replyHtml } from "../context.ts";
import { statusMessage } from "../read-views.ts";
import { requires } from "./access.ts";

/** /version (what runs now) and /asof (what ran then). */
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

  feature.command("asof", requires("read"), async (ctx) => {
    const read = await readArguments(
      ctx,
      { name: "asof", payload: ctx.payload },
      z.object({ at: pointArg }),
      (w) => ({
        at: w.words.join(" ") || undefined,
      }),
    );
    if (!read) return;
    const { args } = read;
    const view = await ledger.asOf(args.at);
    const at = args.at instanceof Date ? ` (${args.at.toISOString()})` : "";
    await replyHtml(
      ctx,
      statusMessage(view, await releasesOf(view), `What ran at position ${view.position}${at}`),
    );
  });

  return feature;
}
