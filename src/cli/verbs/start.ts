import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { unknownVerb } from "../unknown-verb.ts";
import { serveBot } from "./bot.ts";
import { serveWebhooks } from "./feed.ts";
import type { Run } from "./run.ts";
import { serveHttp } from "./serve.ts";

/**
 * `npm start` with no verb: apply migrations, then say where the ledger lives and whether it
 * holds; with TELEGRAM_BOT_TOKEN set, then run the bot until SIGINT/SIGTERM. Without a token it
 * says that the bot did not start and what to do next, and exits 0 (nothing failed), or with
 * `--stay` (a container, whose restart policy would start it again and again) it waits for a
 * signal instead.
 */
export function registerStartVerb(program: Command, run: Run): void {
  program
    .command("start", { isDefault: true, hidden: true })
    .description("apply migrations and report where the ledger lives, its size and its chain")
    // An unknown verb lands here as the default verb's argument.
    .argument("[words...]")
    .option("--stay", "with nothing configured to run, keep running until SIGTERM (for a container)")
    .action(
      run(async (ctx, words: string[], o: { stay?: boolean }) => {
        if (words[0] !== undefined) throw unknownVerb(program, words[0]);
        const ledger = await ctx.ledger();
        const check = await ledger.verify();
        const { database } = ledger;
        const { http, telegram, webhooks } = ctx.config;
        const bot = telegram.token ? "starting" : "not started: TELEGRAM_BOT_TOKEN is not set";
        const idle = !telegram.token && http.port === undefined && webhooks.urls.length === 0;
        // Listening before saying so: a signal right after "Staying up" must find it listening.
        const signalled = idle && o.stay ? signal(ctx) : undefined;
        const summary = {
          location: database.location,
          mode: database.mode,
          schema: ctx.config.schema,
          events: check.events,
          chainVerifies: check.ok,
          headHash: check.headHash,
          firstBadPosition: check.firstBadPosition,
          bot,
        };
        ctx.out.result(summary, () =>
          [
            `plugin-ledger: ${database.mode === "server" ? "PostgreSQL" : "embedded PGlite"} at ${database.location} (schema ${summary.schema})`,
            `events: ${summary.events}`,
            check.ok
              ? `chain: verifies (head ${summary.headHash})`
              : `chain: TAMPERED at position ${check.firstBadPosition}: ${check.problem}`,
            `bot: ${bot}`,
            ...(telegram.token ? [] : nextSteps(signalled !== undefined)),
          ].join("\n"),
        );
        const alongside = telegram.token
          ? () => serveBot(ctx)
          : webhooks.urls.length > 0
            ? () => serveWebhooks(ctx)
            : undefined;
        if (http.port !== undefined) await serveHttp(ctx, { port: http.port, host: http.host }, alongside);
        else if (alongside) await alongside();
        else if (signalled) {
          await ctx.close();
          await signalled;
        }
      }),
    );
}

function nextSteps(staying: boolean): string[] {
  return [
    "",
    "What next:",
    "  - the Telegram bot: create one with @BotFather, then set TELEGRAM_BOT_TOKEN and your",
    "    numeric user id in TELEGRAM_ADMINS (ask the bot /whoami), and start again",
    staying
      ? "    (in .env for Docker Compose: docker compose up -d)"
      : "    (TELEGRAM_BOT_TOKEN=... TELEGRAM_ADMINS=... npm start, or npx plugin-ledger bot)",
    "  - the CLI: npx plugin-ledger --help, e.g. npx plugin-ledger status",
    staying
      ? "    (here: docker compose exec ledger npx plugin-ledger status)"
      : "    (or npm start -- <verb>)",
    "  - the docs: README.md (CLI, Telegram bot, Running with Docker Compose)",
    ...(staying ? ["", "Staying up without the bot until stopped (SIGTERM)."] : []),
  ];
}

/** SIGINT or SIGTERM: what a container with nothing to run waits for. */
function signal(ctx: CliContext): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      ctx.logger.info({ signal: received }, "stopping");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
