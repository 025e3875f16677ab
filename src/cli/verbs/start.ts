import type { Command } from "commander";
import { startBackground } from "../background.ts";
import { serveBot } from "./bot.ts";
import type { Run } from "./run.ts";
import { serveHttp, untilSignal } from "./serve.ts";

/**
 * `npm start` with no verb: apply migrations, then say where the ledger lives and whether it
 * holds; then, until SIGINT/SIGTERM, the HTTP API when HTTP_PORT is set, the bot when
 * TELEGRAM_BOT_TOKEN is, the webhooks when LEDGER_WEBHOOK_URLS are, and the checkpoint signer
 * when LEDGER_SIGNING_KEY_FILE and LEDGER_CHECKPOINT_EVERY are: all in one process when several
 * are configured, the webhooks and the signer started once for it.
 */
export function registerStartVerb(program: Command, run: Run): void {
  program
    .command("start", { isDefault: true, hidden: true })
    .description("apply migrations and report where the ledger lives, its size and its chain")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const check = await ledger.verify();
        const { database } = ledger;
        const summary = {
          location: database.location,
          mode: database.mode,
          schema: ctx.config.schema,
          events: check.events,
          chainVerifies: check.ok,
          headHash: check.headHash,
          firstBadPosition: check.firstBadPosition,
        };
        ctx.out.result(summary, () =>
          [
            `plugin-ledger: ${database.mode === "server" ? "PostgreSQL" : "embedded PGlite"} at ${database.location} (schema ${summary.schema})`,
            `events: ${summary.events}`,
            check.ok
              ? `chain: verifies (head ${summary.headHash})`
              : `chain: TAMPERED at position ${check.firstBadPosition}: ${check.problem}`,
          ].join("\n"),
        );
        const { http, telegram } = ctx.config;
        const background = await startBackground(ctx);
        try {
          const bot = telegram.token ? () => serveBot(ctx, { background: false }) : undefined;
          if (http.port !== undefined) {
            await serveHttp(ctx, { port: http.port, host: http.host }, { alongside: bot, background: false });
          } else if (bot) await bot();
          else if (background.running.length > 0) await untilSignal();
        } finally {
          await background.stop();
        }
      }),
    );
}
