import type { Command } from "commander";
import { isPluginId } from "../../domain/index.ts";
import type { RecordedEvent } from "../../ledger/index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { onStopSignals } from "../stop-signals.ts";
import { fitTable, tableTime } from "../table.ts";
import { nonNegativeInt } from "./arguments.ts";
import { describe } from "./change-output.ts";
import type { Run } from "./run.ts";

export function registerFeedVerbs(program: Command, run: Run): void {
  program
    .command("subscriptions")
    .description("each durable subscriber (webhooks included): its position, lag, last run and last error")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const items = await ledger.subscriptions();
        ctx.out.result({ items }, () =>
          items.length === 0
            ? "no subscribers yet"
            : fitTable(
                [
                  { header: "subscriber", keep: true },
                  { header: "running", rank: 3 },
                  { header: "position", keep: true },
                  { header: "lag", keep: true },
                  { header: "last run (UTC)", keep: true },
                  { header: "failures", rank: 2 },
                  { header: "last error", rank: 1, optional: true },
                ],
                items.map((s) => [
                  s.name,
                  s.running ? "yes" : "no",
                  String(s.position),
                  String(s.lag),
                  s.lastRunAt ? tableTime(s.lastRunAt) : "never",
                  String(s.consecutiveFailures),
                  s.lastError ? `${tableTime(s.lastErrorAt)} ${s.lastError}` : "",
                ]),
                ctx.out.width,
              ),
        );
      }),
    );

  program
    .command("watch")
    .description("follow the changes live, one line per event (JSON lines with --json), until interrupted")
    .option(
      "--from <position>",
      "first show the events after this position (default: only new ones)",
      nonNegativeInt,
    )
    .option("--plugin <plugin>", "only this plugin's events")
    .action(run(watch));
}

async function watch(ctx: CliContext, options: { from?: number; plugin?: string }): Promise<void> {
  if (options.plugin !== undefined && !isPluginId(options.plugin)) {
    throw new CliError(`"${options.plugin}" is not a plugin id (^[a-z][a-z0-9_]{1,63}$)`, ExitCode.invalid);
  }
  const ledger = await ctx.ledger();
  const after = options.from ?? (await ledger.status()).position;
  const stream = options.plugin === undefined ? undefined : `plugin-${options.plugin}`;
  const format = ctx.out.json ? (e: RecordedEvent) => JSON.stringify(e) : line;
  await untilStopped(ctx, async (signal, stop) => {
    const tail = ledger.tail(
      after,
      async (events) => {
        const lines = events.filter((e) => stream === undefined || e.streamId === stream).map(format);
        if (lines.length === 0 || signal.aborted) return;
        // A slow reader (a pipe into another program) slows the tail rather than filling memory;
        // a reader that went away ends the watch.
        if (!(await ctx.out.write(`${lines.join("\n")}\n`))) stop();
      },
      { signal },
    );
    // An abort that came first has fired its event already: a listener added now would wait forever.
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await tail.stop();
  });
}

function line(e: RecordedEvent): string {
  const who = e.metadata.actor.name ?? e.metadata.actor.id;
  const why = e.metadata.reason ? ` "${e.metadata.reason}"` : "";
  return `#${e.position} ${e.recordedAt.toISOString()} ${e.type} ${describe(e.data)} by ${who}${why}`;
}

/**
 * Runs `work` until SIGINT, SIGTERM or a closed stdout (the reader of a pipe went away), which all
 * end it cleanly with exit 0. A second signal exits at once.
 */
export async function untilStopped(
  ctx: CliContext,
  work: (signal: AbortSignal, stop: () => void) => Promise<void>,
) {
  const controller = new AbortController();
  const offSignals = onStopSignals(ctx, () => controller.abort());
  // The output says when its reader has gone (an EPIPE it already handles quietly).
  const onStdoutError = () => controller.abort();
  ctx.out.stdout.on("error", onStdoutError);
  try {
    await work(controller.signal, () => controller.abort());
  } finally {
    offSignals();
    ctx.out.stdout.off("error", onStdoutError);
  }
}
