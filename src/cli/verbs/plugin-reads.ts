import type { Command } from "commander";
import { itemsDocument } from "../../ledger/index.ts";
import { auditText, historyText, versionsText } from "../read-tables.ts";
import { pluginIdArg, positiveInt, requireKnownPlugins } from "./arguments.ts";
import type { Run } from "./run.ts";

/** A plugin's record: its releases (`versions`), what ran when (`history`), who changed what (`audit`). */

export function registerVersionsVerb(program: Command, run: Run): void {
  program
    .command("versions")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .description("the released versions of a plugin, in version order")
    .action(
      run(async (ctx, pluginId: string) => {
        const items = await (await ctx.ledger()).versions(pluginId);
        if (items.length === 0) await requireKnownPlugins(ctx, [pluginId]);
        ctx.out.result(itemsDocument(items), () => versionsText(pluginId, items, ctx.out.width));
      }),
    );
}

export function registerHistoryVerb(program: Command, run: Run): void {
  program
    .command("history")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .description("which version of a plugin ran when, newest first")
    .option("--limit <n>", "at most this many intervals", positiveInt, 100)
    .action(
      run(async (ctx, pluginId: string, o: { limit: number }) => {
        const items = await (await ctx.ledger()).history(pluginId, { limit: o.limit });
        if (items.length === 0) await requireKnownPlugins(ctx, [pluginId]);
        ctx.out.result(itemsDocument(items), () => historyText(pluginId, items, ctx.out.width));
      }),
    );
}

export function registerAuditVerb(program: Command, run: Run): void {
  program
    .command("audit")
    .description("who changed what, when and why: the latest events first")
    .option("--limit <n>", "at most this many events", positiveInt, 20)
    .option("--plugin <plugin>", "only this plugin's events", pluginIdArg)
    .action(
      run(async (ctx, o: { limit: number; plugin?: string }) => {
        if (o.plugin !== undefined) await requireKnownPlugins(ctx, [o.plugin]);
        const items = await (await ctx.ledger()).audit({ limit: o.limit, pluginId: o.plugin });
        ctx.out.result({ items }, () => auditText(items, ctx.out.width));
      }),
    );
}
