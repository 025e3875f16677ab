import type { Command } from "commander";
import { formatPercent } from "../../domain/index.ts";
import { ChainTamperedError, type RebuildResult } from "../../index.ts";
import { itemsDocument, statusDocument } from "../../ledger-views.ts";
import type { AbTestStatus, StatusView } from "../../queries/status.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { table } from "../output.ts";
import { pluginIdArg, pointInLedger, positiveInt, requireKnownPlugins } from "./arguments.ts";
import type { Run } from "./run.ts";

// Kept here too, where the verbs that take a point first imported it from.
export { pointInLedger } from "./arguments.ts";

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : "");
const who = (actor: { id: string; name?: string } | null | undefined) =>
  actor ? (actor.name ?? actor.id) : "";

/** Both arms and the candidate's share: "3.3.0 vs 3.4.0 @ 10%". */
function split(test: AbTestStatus | null): string {
  return test ? `${test.control} vs ${test.candidate} @ ${formatPercent(test.candidateWeightBp)}` : "";
}

function statusText(view: StatusView, heading: string): string {
  const host = view.host
    ? `host: ServiceAPI ${view.host.apiVersion}, DB schema ${view.host.dbSchemaVersion}`
    : "host: versions not declared";
  if (view.plugins.length === 0) return `${heading}\n${host}\nno active plugins`;
  return [
    heading,
    host,
    table(
      ["plugin", "version", "since", "position", "A/B"],
      view.plugins.map((p) => [
        p.pluginId,
        p.version,
        iso(p.since),
        String(p.sincePosition),
        split(p.abTest),
      ]),
    ),
  ].join("\n");
}

async function printStatus(ctx: CliContext, view: StatusView, heading: string) {
  ctx.out.result(statusDocument(view), () => statusText(view, heading));
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
            : table(
                ["version", "built", "commit", "author", "api", "db schema", "deprecated", "features"],
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
            : table(
                ["version", "from", "to", "action", "actor", "reason", "ended by"],
                items.map((h) => [
                  h.version,
                  `#${h.fromPosition} ${iso(h.fromAt)}`,
                  h.toPosition === null ? "(running)" : `#${h.toPosition} ${iso(h.toAt)}`,
                  h.action,
                  who(h.actor),
                  h.reason ?? "",
                  h.closedBy ?? "",
                ]),
              ),
        );
      }),
    );

  program
    .command("matrix")
    .description("declared compatibility between plugins, and whether the running set honours it")
    .action(
      run(async (ctx) => {
        const view = await (await ctx.ledger()).matrix();
        ctx.out.result(view, () =>
          [
            view.items.length === 0
              ? "no release declares a compatibility range"
              : table(
                  ["plugin", "version", "works with", "range", "running", "ok"],
                  view.items.map((m) => [
                    `${m.pluginId}${m.active ? "*" : ""}`,
                    `${m.version}${m.deprecated ? " (deprecated)" : ""}`,
                    m.otherPluginId,
                    m.range,
                    m.otherActiveVersion ?? "-",
                    m.satisfied === null ? "" : m.satisfied ? "yes" : "NO",
                  ]),
                ),
            view.consistent
              ? "the running set is consistent"
              : `the running set is NOT consistent:\n${view.violations.map((v) => `  ${v.code}: ${v.message}`).join("\n")}`,
          ].join("\n"),
        );
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
        ctx.out.result(itemsDocument(items), () =>
          table(
            ["#", "when", "event", "stream", "actor", "reason", "forced"],
            items.map((a) => [
              String(a.position),
              iso(a.recordedAt),
              a.type,
              a.streamId,
              who(a.actor),
              a.reason ?? "",
              a.forced ? a.overrides.join(",") || "yes" : "",
            ]),
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
