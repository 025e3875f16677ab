import type { Command } from "commander";
import { startBackground } from "../background.ts";
import { unknownVerb } from "../unknown-verb.ts";
import { serveBot } from "./bot.ts";
import type { Run } from "./run.ts";
import { serveHttp, untilSignal } from "./serve.ts";

/**
 * `npm start` with no verb: apply migrations, then say where the ledger lives and whether it
 * holds; then, until SIGINT/SIGTERM, the HTTP API when HTTP_PORT is set, the bot when
 * TELEGRAM_BOT_TOKEN is, the webhooks when LEDGER_WEBHOOK_URLS are, and the checkpoint signer
 * when LEDGER_SIGNING_KEY_FILE and LEDGER_CHECKPOINT_EVERY are: all in one process when several
 * are configured, the webhooks and the signer started once for it. Without a token it says that
 * the bot did not start and what to do next; with nothing to run it exits 0 (nothing failed), or
 * with `--stay` (a container, whose restart policy would start it again and again) waits for a
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
        const { storage } = ledger;
        const { http, telegram, webhooks } = ctx.config;
        const bot = telegram.token ? "starting" : "not started: TELEGRAM_BOT_TOKEN is not set";
        // Nothing to run: no API, no bot, no webhooks, no checkpoint signer.
        const idle =
          !telegram.token &&
          http.port === undefined &&
          webhooks.urls.length === 0 &&
          !(ctx.config.signingKeyFile && ctx.config.checkpointEvery);
        // Listening before saying so: a signal right after "Staying up" must find it listening.
        const signalled =
          idle && o.stay
            ? untilSignal((received) => ctx.logger.info({ signal: received }, "stopping"))
            : undefined;
        const summary = {
          location: storage.location,
          mode: storage.mode,
          schema: ctx.config.schema,
          events: check.events,
          chainVerifies: check.ok,
          headHash: check.headHash,
          firstBadPosition: check.firstBadPosition,
          bot,
        };
        ctx.out.result(summary, () =>
          [
            `plugin-ledger: ${storage.mode === "server" ? "PostgreSQL" : "embedded PGlite"} at ${storage.location} (schema ${summary.schema})`,
            `events: ${summary.events}`,
            check.ok
              ? `chain: verifies (head ${summary.headHash})`
              : `chain: TAMPERED at position ${check.firstBadPosition}: ${check.problem}`,
            `bot: ${bot}`,
            ...(telegram.token ? [] : nextSteps(signalled !== undefined)),
          ].join("\n"),
        );
        const background = await startBackground(ctx);
        try {
          const bot = telegram.token ? () => serveBot(ctx, { background: false }) : undefined;
          if (http.port !== undefined) {
            await serveHttp(ctx, { port: http.port, host: http.host }, { alongside: bot, background: false });
          } else if (bot) await bot();
          else if (background.running.length > 0) await untilSignal();
          else if (signalled) {
            await ctx.close();
            await signalled;
          }
        } finally {
          await background.stop();
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
