import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { isPluginId } from "../../domain/index.ts";
import type { TimelineView } from "../../ledger/index.ts";
import { timelineDocument } from "../../ledger/index.ts";
import { timelineChart } from "../../timeline/chart.ts";
import { timelineCsv } from "../../timeline/csv.ts";
import type { TimelineInterval } from "../../timeline/pieces.ts";
import { renderPng } from "../../timeline/render.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { type Column, fitTable, wrap } from "../table.ts";
import { pointInLedger, requireKnownPlugins } from "./arguments.ts";
import type { Run } from "./run.ts";

const Options = z.object({
  plugins: z.array(z.string().refine(isPluginId, "is not a plugin id (lower case, digits, _)")).min(1),
  from: z.union([z.number(), z.date()]).optional(),
  to: z.union([z.number(), z.date()]).optional(),
  format: z
    .enum(["table", "json", "csv", "png"], { error: "--format is table, json, csv or png" })
    .optional(),
  out: z.string().min(1).optional(),
  width: z.coerce.number().int().min(400, "--width is at least 400").max(4000, "--width is at most 4000"),
  json: z.boolean(),
});
type Options = z.output<typeof Options>;

type Raw = { from?: number | Date; to?: number | Date; format?: string; out?: string; width: string };

export function registerTimelineVerb(program: Command, run: Run): void {
  program
    .command("timeline <plugins...>")
    .description(
      "which versions plugins ran over time, A/B splits included: a table, JSON, CSV or a PNG chart",
    )
    .option(
      "--from <point>",
      "a position or an ISO-8601 time (default: each plugin's first interval)",
      pointInLedger,
    )
    .option("--to <point>", "a position or an ISO-8601 time (default: now)", pointInLedger)
    .option("--format <format>", "table, json, csv or png (default: table, or json with --json)")
    .option("--out <file>", "write there instead of stdout (a PNG needs it unless stdout is a pipe)")
    .option("--width <px>", "width of the PNG chart", "1200")
    .action(
      run(async (ctx, plugins: string[], raw: Raw) => {
        const options = parse(ctx, plugins, raw);
        const format = options.format ?? (options.json ? "json" : "table");
        if (format === "png" && options.out === undefined && ctx.out.stdout.isTTY) {
          throw new CliError(
            "a PNG goes to --out FILE or into a pipe, not to the terminal",
            ExitCode.invalid,
          );
        }
        await requireKnownPlugins(ctx, options.plugins);
        const view = await timelineOf(ctx, options);
        const body = await formatted(view, options.plugins, format, options.width, ctx.out.width);
        if (options.out === undefined) {
          await ctx.out.write(body);
          return;
        }
        await writeFile(options.out, body);
        const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
        ctx.out.stderr.write(
          `wrote ${options.out}: ${view.items.length} intervals, ${format}, ${size} bytes\n`,
        );
      }),
    );
}

function parse(ctx: CliContext, plugins: string[], raw: Raw): Options {
  const parsed = Options.safeParse({ ...raw, plugins, json: ctx.out.json });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path[0] === "plugins" ? `"${plugins[Number(issue.path[1])]}" ` : "";
    throw new CliError(`${where}${issue?.message ?? "invalid arguments"}`, ExitCode.invalid);
  }
  if (parsed.data.json && parsed.data.format !== undefined && parsed.data.format !== "json") {
    throw new CliError(`--json and --format ${parsed.data.format} ask for two formats`, ExitCode.invalid);
  }
  return parsed.data;
}

async function timelineOf(ctx: CliContext, options: Options): Promise<TimelineView> {
  try {
    return await (await ctx.ledger()).timeline(options.plugins, { from: options.from, to: options.to });
  } catch (error) {
    // The ledger's answer to a window that ends before it starts.
    if (error instanceof RangeError) throw new CliError(error.message, ExitCode.invalid);
    throw error;
  }
}

async function formatted(
  view: TimelineView,
  plugins: string[],
  format: "table" | "json" | "csv" | "png",
  width: number,
  columns: number,
): Promise<string | Buffer> {
  switch (format) {
    case "json":
      return `${JSON.stringify(timelineDocument(view))}\n`;
    case "csv":
      return timelineCsv(view.items);
    case "png":
      return (await renderPng(timelineChart(view, { plugins, width }).spec)).png;
    case "table":
      return `${timelineTable(view, plugins, columns)}\n`;
  }
}

/** Minutes, UTC (the heading says so): the table's widest cells are its times. */
const when = (at: Date) => at.toISOString().slice(0, 16).replace("T", " ");
const who = (actor: TimelineInterval["actor"]) => actor.name ?? actor.id;

function timelineTable(view: TimelineView, plugins: string[], width: number): string {
  const window = `${view.from ? `from #${view.from.position} ${when(view.from.at)}` : "from the first interval"} to #${view.to.position} ${when(view.to.at)}`;
  const silent = plugins.filter((p) => !view.items.some((i) => i.pluginId === p));
  const lines = [wrap(`timeline of ${plugins.join(", ")}, ${window} (times in UTC)`, width)];
  if (view.items.length > 0) {
    // Times and their markers are never cut; the A/B column only when a test ran in the window.
    const tests = view.items.some((i) => i.candidate !== null);
    const columns = <T>(cells: T[], ab: T): T[] => [
      ...cells.slice(0, 2),
      ...(tests ? [ab] : []),
      ...cells.slice(2),
    ];
    lines.push(
      fitTable(
        columns<Column>(
          [
            { header: "plugin", keep: true },
            { header: "version", keep: true },
            { header: "from", keep: true },
            { header: "to", keep: true },
            { header: "action", rank: 2, min: 9, optional: true },
            { header: "actor", rank: 1, optional: true },
            { header: "reason", rank: 0, optional: true },
          ],
          { header: "A/B", rank: 3, min: 12 },
        ),
        view.items.map((i) =>
          columns(
            [
              i.pluginId,
              i.version,
              `${i.fromClipped ? "< " : ""}${when(i.fromAt)}`,
              // What ended a stretch is the next one's action, but for a deactivation.
              `${when(i.toAt)}${i.toClipped ? " >" : i.endedBy === "deactivated" ? " x" : ""}`,
              i.action,
              who(i.actor),
              oneLine(i.reason ?? ""),
            ],
            i.candidate === null ? "" : `${i.candidate} @ ${i.candidatePercent}%`,
          ),
        ),
        width,
      ),
      wrap(
        "< began before the window, > goes on past its end, x then deactivated; positions: --json or --format csv",
        width,
      ),
    );
  }
  if (silent.length > 0) lines.push(wrap(`no interval in this window: ${silent.join(", ")}`, width));
  return lines.join("\n");
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
