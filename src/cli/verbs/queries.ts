import type { Command } from "commander";
import { eventSummary, formatPercent } from "../../domain/index.ts";
import {
  type AbTestStatus,
  ChainTamperedError,
  itemsDocument,
  type MatrixItem,
  type MatrixView,
  type RebuildResult,
  type StatusView,
  statusDocument,
} from "../../ledger/index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { fitTable, tableTime, wrap } from "../table.ts";
import { pluginIdArg, pointInLedger, positiveInt, requireKnownPlugins } from "./arguments.ts";
import type { Run } from "./run.ts";

// Kept here too, where the verbs that take a point first imported it from.
export { pointInLedger } from "./arguments.ts";

const who = (actor: { id: string; name?: string } | null | undefined) =>
  actor ? (actor.name ?? actor.id) : "";

/** Both arms and the candidate's share: "3.3.0 vs 3.4.0 @ 10%". */
function split(test: AbTestStatus | null): string {
  return test ? `${test.control} vs ${test.candidate} @ ${formatPercent(test.candidateWeightBp)}` : "";
}

function statusText(view: StatusView, heading: string, width: number): string {
  const host = view.host
    ? `host: ServiceAPI ${view.host.apiVersion}, DB schema ${view.host.dbSchemaVersion}`
    : "host: versions not declared";
  if (view.plugins.length === 0) return `${heading}\n${wrap(host, width)}\nno active plugins`;
  const deprecated = view.plugins.filter((p) => p.deprecated);
  return [
    heading,
    wrap(host, width),
    fitTable(
      [
        { header: "plugin", keep: true },
        { header: "version", keep: true },
        { header: "since (UTC)", keep: true },
        { header: "position", rank: 1, optional: true },
        { header: "A/B", rank: 2, min: 16 },
      ],
      view.plugins.map((p) => [
        p.pluginId,
        `${p.version}${p.deprecated ? " (deprecated)" : ""}`,
        tableTime(p.since),
        String(p.sincePosition),
        split(p.abTest),
      ]),
      width,
    ),
    // Deprecated yet running: the one thing on this page someone must act on.
    ...(deprecated.length === 0
      ? []
      : [
          wrap(
            `warning: deprecated versions run: ${deprecated.map((p) => `${p.pluginId} ${p.version}`).join(", ")} (upgrade or roll back)`,
            width,
          ),
        ]),
  ].join("\n");
}

async function printStatus(ctx: CliContext, view: StatusView, heading: string) {
  ctx.out.result(statusDocument(view), () => statusText(view, heading, ctx.out.width));
}

export function registerQueryVerbs(program: Command, run: Run): void {
  program
    .command("status")
    .description("what runs now: every active plugin and the host's versions")
    .action(
      run(async (ctx) => {
        const view = await (await ctx.ledger()).status();
        await printStatus(ctx, view, `as of position ${view.position} (now)`);
      }),
    );

  program
    .command("versions")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .description("the released versions of a plugin, in version order")
    .action(
      run(async (ctx, pluginId: string) => {
        const items = await (await ctx.ledger()).versions(pluginId);
        if (items.length === 0) await requireKnownPlugins(ctx, [pluginId]);
        ctx.out.result(itemsDocument(items), () =>
          items.length === 0
            ? `no released versions of ${pluginId}`
            : fitTable(
                [
                  { header: "version", keep: true },
                  { header: "built", rank: 4 },
                  { header: "commit", rank: 2, optional: true },
                  { header: "author", rank: 1, optional: true },
                  { header: "api", rank: 3, min: 6 },
                  { header: "db schema", rank: 3, min: 6 },
                  { header: "deprecated", keep: true },
                  { header: "features", rank: 0, optional: true },
                ],
                items.map((v) => [
                  v.version,
                  v.buildDate.slice(0, 10),
                  (v.commitHash ?? "").slice(0, 8),
                  v.author,
                  v.requires.api ?? "*",
                  v.requires.dbSchema ?? "*",
                  v.deprecated ? "yes" : "",
                  v.features.join(","),
                ]),
                ctx.out.width,
              ),
        );
      }),
    );

  program
    .command("history")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .description("which version of a plugin ran when, newest first")
    .option("--limit <n>", "at most this many intervals", positiveInt, 100)
    .action(
      run(async (ctx, pluginId: string, o: { limit: number }) => {
        const items = await (await ctx.ledger()).history(pluginId, { limit: o.limit });
        if (items.length === 0) await requireKnownPlugins(ctx, [pluginId]);
        ctx.out.result(itemsDocument(items), () =>
          items.length === 0
            ? `${pluginId} has never run`
            : fitTable(
                [
                  { header: "version", keep: true },
                  { header: "from (UTC)", keep: true },
                  { header: "to (UTC)", keep: true },
                  { header: "action", rank: 4 },
                  { header: "actor", rank: 2, optional: true },
                  { header: "reason", rank: 1, optional: true },
                  { header: "ended by", rank: 3, optional: true },
                ],
                items.map((h) => [
                  h.version,
                  `#${h.fromPosition} ${tableTime(h.fromAt)}`,
                  h.toPosition === null ? "(running)" : `#${h.toPosition} ${tableTime(h.toAt)}`,
                  h.action,
                  who(h.actor),
                  oneLine(h.reason ?? ""),
                  h.endedBy ?? "",
                ]),
                ctx.out.width,
              ),
        );
      }),
    );

  program
    .command("matrix")
    .description("declared compatibility of the running versions, and whether the running set honours it")
    .option("--all", "also what the releases that do not run declare, and whether they would fit")
    .action(
      run(async (ctx, o: { all?: boolean }) => {
        const view = await (await ctx.ledger()).matrix();
        ctx.out.result(view, () => matrixText(view, o.all === true, ctx.out.width));
      }),
    );

  program
    .command("audit")
    .description("who changed what, when and why: the latest events first")
    .option("--limit <n>", "at most this many events", positiveInt, 20)
    .option("--plugin <plugin>", "only this plugin's events", pluginIdArg)
    .action(
      run(async (ctx, o: { limit: number; plugin?: string }) => {
        if (o.plugin !== undefined) await requireKnownPlugins(ctx, [o.plugin]);
        const items = await (await ctx.ledger()).audit({ limit: o.limit, pluginId: o.plugin });
        ctx.out.result({ items }, () =>
          fitTable(
            [
              { header: "#", keep: true },
              { header: "when (UTC)", keep: true },
              { header: "event", rank: 4, min: 12 },
              { header: "change", rank: 5, min: 20 },
              { header: "actor", rank: 2, optional: true },
              { header: "reason", rank: 1, optional: true },
              { header: "forced", rank: 3, optional: true },
            ],
            items.map((a) => [
              String(a.position),
              tableTime(a.recordedAt),
              a.type,
              eventSummary(a.data),
              who(a.actor),
              oneLine(a.reason ?? ""),
              a.forced ? a.overrides.join(",") || "yes" : "",
            ]),
            ctx.out.width,
          ),
        );
      }),
    );

  program
    .command("asof")
    .argument("<point>", "a position or an ISO-8601 time", pointInLedger)
    .description("what ran at a position or an ISO-8601 time (indexed, not a replay)")
    .action(
      run(async (ctx, at: number | Date) => {
        const view = await (await ctx.ledger()).asOf(at);
        await printStatus(ctx, view, `as of position ${view.position}`);
      }),
    );

  program
    .command("replay")
    .description("fold every event from scratch to a point (default: the head) and show what ran")
    .option("--to <point>", "a position or an ISO-8601 time", pointInLedger)
    .action(
      run(async (ctx, o: { to?: number | Date }) => {
        const view = await (await ctx.ledger()).replay({ to: o.to });
        await printStatus(ctx, view, `replayed to position ${view.position}`);
      }),
    );

  program
    .command("rebuild")
    .description(
      "recreate every projection from the events (exit 5 if the chain does not verify, unless --force --reason)",
    )
    .option("--force", "rebuild even from a chain that does not verify (needs --reason)")
    .action(
      run(async (ctx, o: { force?: boolean }) => {
        const reason = ctx.reason?.trim();
        if (o.force && !reason) {
          throw new CliError(
            "rebuild --force needs --reason: why rebuild from a tampered chain",
            ExitCode.invalid,
          );
        }
        const started = Date.now();
        const ledger = await ctx.ledger();
        let result: RebuildResult;
        try {
          result = await ledger.rebuild(
            (done, total) => {
              if (Date.now() - started > 1000) ctx.out.progress(`rebuilt ${done}/${total} events`);
            },
            o.force && reason ? { force: { reason } } : {},
          );
        } catch (error) {
          ctx.out.endProgress();
          if (!(error instanceof ChainTamperedError)) throw error;
          ctx.out.result(
            { ok: false, firstBadPosition: error.broken.position, problem: error.broken.problem },
            () => `TAMPERED at position ${error.broken.position}: ${error.broken.problem}`,
          );
          throw new CliError(
            `refusing to rebuild: the chain does not verify at position ${error.broken.position}; nothing was changed (--force --reason TEXT rebuilds anyway)`,
            ExitCode.tampered,
          );
        }
        ctx.out.endProgress();
        const { forced } = result;
        ctx.out.result({ ok: true, ...result }, () =>
          forced
            ? `FORCED: rebuilt the projections from ${result.events} events although the chain does not verify at position ${forced.position} (${forced.problem}); reason: ${forced.reason}`
            : `rebuilt the projections from ${result.events} events in ${result.ms} ms`,
        );
      }),
    );
}

/**
 * The running versions' declarations, and a verdict for the running set. What releases that do
 * not run declare says nothing of the running set, so it shows only with `--all`, after them,
 * its verdict spelled "if run".
 */
function matrixText(view: MatrixView, all: boolean, width: number): string {
  const running = view.items.filter((m) => m.active);
  const idle = view.items.filter((m) => !m.active);
  const shown = all ? [...running, ...idle] : running;
  const verdict = (m: MatrixItem) => {
    if (m.satisfied === null) return m.active ? "(not running)" : "";
    const ok = m.satisfied ? "yes" : "NO";
    return m.active ? ok : `if run: ${ok.toLowerCase()}`;
  };
  const lines = [
    shown.length === 0
      ? view.items.length === 0
        ? "no release declares a compatibility range"
        : "no running version declares a compatibility range"
      : fitTable(
          [
            { header: "plugin", keep: true },
            { header: "version", keep: true },
            { header: "works with", rank: 3, min: 10 },
            { header: "range", rank: 2, min: 10 },
            { header: "running", rank: 1, min: 7, optional: true },
            { header: "ok", keep: true },
          ],
          shown.map((m) => [
            m.pluginId,
            `${m.version}${m.deprecated ? " (deprecated)" : ""}`,
            m.otherPluginId,
            m.range,
            m.otherActiveVersion ?? "-",
            verdict(m),
          ]),
          width,
        ),
  ];
  if (!all && idle.length > 0) {
    lines.push(`(${idle.length} declarations of releases that do not run: matrix --all)`);
  }
  lines.push(
    view.consistent
      ? "the running set is consistent"
      : [
          "the running set is NOT consistent:",
          ...view.violations.map((v) => wrap(`  ${v.code}: ${v.message}`, width, "    ")),
        ].join("\n"),
  );
  return lines.join("\n");
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
