import type { Command } from "commander";
import { isPluginId, type RecordedEvent } from "../../index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { table } from "../output.ts";
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
            : table(
                ["subscriber", "running", "position", "lag", "last run", "failures", "last error"],
                items.map((s) => [
                  s.name,
                  s.running ? "yes" : "no",
                  String(s.position),
                  String(s.lag),
                  s.lastRunAt?.toISOString() ?? "never",
                  String(s.consecutiveFailures),
                  s.lastError ? `${s.lastErrorAt?.toISOString()} ${s.lastError}` : "",
                ]),
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
  await untilStopped(ctx, async (signal) => {
    const tail = ledger.tail(
      after,
      async (events) => {
        const lines = events.filter((e) => stream === undefined || e.streamId === stream).map(format);
        if (lines.length === 0 || signal.aborted) return;
        // A slow reader (a pipe into another program) slows the tail rather than filling memory.
        if (!process.stdout.write(`${lines.join("\n")}\n`)) await drained(signal);
      },
      { signal },
    );
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await tail.stop();
  });
}

function line(e: RecordedEvent): string {
  const who = e.metadata.actor.name ?? e.metadata.actor.id;
  const why = e.metadata.reason ? ` "${e.metadata.reason}"` : "";
  return `#${e.position} ${e.recordedAt.toISOString()} ${e.type} ${describe(e.data)} by ${who}${why}`;
}

function drained(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    process.stdout.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `work` until SIGINT, SIGTERM or a closed stdout (the reader of a pipe went away), which all
 * end it cleanly with exit 0. A second signal exits at once.
 */
export async function untilStopped(ctx: CliContext, work: (signal: AbortSignal) => Promise<void>) {
  const controller = new AbortController();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      ctx.logger.warn({ signal }, "second signal: exiting now");
      process.exit(ExitCode.unexpected);
    }
    signalled = true;
    controller.abort();
  };
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") ctx.logger.warn({ err: error }, "stdout failed; stopping");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.stdout.on("error", onStdoutError);
  try {
    await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.stdout.off("error", onStdoutError);
  }
}
