import type { Command } from "commander";
import { serveBot } from "./bot.ts";
import { serveWebhooks } from "./feed.ts";
import type { Run } from "./run.ts";

/**
 * `npm start` with no verb: apply migrations, then say where the ledger lives and whether it
 * holds; with TELEGRAM_BOT_TOKEN set, then run the bot until SIGINT/SIGTERM; with webhooks
 * configured (LEDGER_WEBHOOK_URLS), deliver them meanwhile (alone when there is no bot).
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
        // The bot delivers the webhooks itself; without a bot, they run on their own.
        if (ctx.config.telegram.token) await serveBot(ctx);
        else if (ctx.config.webhooks.urls.length > 0) await serveWebhooks(ctx);
      }),
    );
}
