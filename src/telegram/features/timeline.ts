import { Composer } from "telegraf";
import { z } from "zod";
import type { TimelineView } from "../../ledger/index.ts";
import { timelineChart } from "../../timeline/chart.ts";
import { timelineCsv } from "../../timeline/csv.ts";
import { renderPng } from "../../timeline/render.ts";
import { pluginIdArg } from "../arguments.ts";
import { type BotContext, type BotServices, readArguments } from "../context.ts";
import { bold, escapeHtml } from "../html.ts";
import { when } from "../read-views.ts";
import { requires } from "./access.ts";

const DAY_MS = 86_400_000;
const DAYS_DEFAULT = 30;
const DAYS_MAX = 3650;
/** Lanes of one chart: beyond this a photo gets too tall to read on a phone. */
const PLUGINS_MAX = 8;

const TimelineArgs = z.object({
  plugins: z
    .array(pluginIdArg)
    .min(1, "the plugin is missing")
    .max(PLUGINS_MAX, `at most ${PLUGINS_MAX} plugins in one chart`),
  days: z.coerce
    .number({ error: "the days must be a number" })
    .int("the days must be a whole number")
    .min(1, "the days must be at least 1")
    .max(DAYS_MAX, `the days are at most ${DAYS_MAX}`)
    .optional(),
});

/**
 * /timeline <plugin>... [days]: the last days of the plugins' versions as a chart (a photo) and
 * the same intervals as CSV (a document), for whoever may read.
 */
export function timelineFeature({ ledger, clock }: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.command("timeline", requires("read"), async (ctx) => {
    const read = await readArguments(ctx, { name: "timeline", payload: ctx.payload }, TimelineArgs, (w) => ({
      // A number is the days; every other word a plugin.
      plugins: w.words.filter((word) => !/^\d+$/.test(word)),
      days: w.words.find((word) => /^\d+$/.test(word)),
    }));
    if (!read) return;
    const { plugins } = read.args;
    const days = read.args.days ?? DAYS_DEFAULT;
    const now = clock();
    const view = await ledger.timeline(plugins, { from: new Date(now.getTime() - days * DAY_MS), to: now });
    const names = plugins.join(", ");
    if (view.items.length === 0) {
      await ctx.reply(`${bold(names)} ran no version in the last ${days} days.`, { parse_mode: "HTML" });
      return;
    }
    // Days nobody asked for are where to look, not what to draw: the chart spans the data.
    const fitToData = read.args.days === undefined;
    const { png } = await renderPng(timelineChart(view, { plugins, fitToData }).spec);
    const file = `timeline-${plugins.join("-")}-${now.toISOString().slice(0, 10)}`;
    await ctx.replyWithPhoto(
      { source: png, filename: `${file}.png` },
      { caption: caption(view, names, days), parse_mode: "HTML" },
    );
    await ctx.replyWithDocument(
      { source: Buffer.from(timelineCsv(view.items), "utf8"), filename: `${file}.csv` },
      { caption: `${view.items.length} intervals as CSV (UTC times)` },
    );
  });

  return feature;
}

/** What the chart shows, in a line or two: Telegram captions stop at 1024 characters. */
function caption(view: TimelineView, names: string, days: number): string {
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const rollbacks = view.items.filter((i) => i.action === "rolled_back" && !i.fromClipped).length;
  const tests = new Set(view.items.map((i) => i.testId).filter((id) => id !== null)).size;
  return [
    `${bold(names)}: the last ${days} days, to ${when(view.to.at)}`,
    escapeHtml(
      [count(view.items.length, "interval"), count(rollbacks, "rollback"), count(tests, "A/B test")].join(
        " · ",
      ),
    ),
  ].join("\n");
}
