import type { Command } from "commander";
import { unknownVerb } from "../unknown-verb.ts";
import { serveBot } from "./bot.ts";
import { serveWebhooks } from "./feed.ts";
import type { Run } from "./run.ts";
import { serveHttp } from "./serve.ts";

/**
 * `npm start` with no verb: apply migrations, then say where the ledger lives and whether it
 * holds; then, until SIGINT/SIGTERM, the HTTP API when HTTP_PORT is set, the bot when
 * TELEGRAM_BOT_TOKEN is (it delivers the webhooks too), else the webhooks when
 * LEDGER_WEBHOOK_URLS are set: all in one process when several are configured.
 */
export function registerStartVerb(program: Command, run: Run): void {
  program
    .command("start", { isDefault: true, hidden: true })
    .description("apply migrations and report where the ledger lives, its size and its chain")
    // An unknown verb lands here as the default verb's argument.
    .argument("[words...]")
    .action(
      run(async (ctx, words: string[]) => {
        if (words[0] !== undefined) throw unknownVerb(program, words[0]);
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
        const { http, telegram, webhooks } = ctx.config;
        const alongside = telegram.token
          ? () => serveBot(ctx)
          : webhooks.urls.length > 0
            ? () => serveWebhooks(ctx)
            : undefined;
        if (http.port !== undefined) await serveHttp(ctx, { port: http.port, host: http.host }, alongside);
        else if (alongside) await alongside();
      }),
    );
}
