import type { Command } from "commander";
import { createLedgerBot } from "../../telegram/bot.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import type { Run } from "./run.ts";

export function registerBotVerb(program: Command, run: Run): void {
  program
    .command("bot")
    .description(
      "run the Telegram bot (TELEGRAM_BOT_TOKEN; long polling, or a webhook with TELEGRAM_WEBHOOK_URL)",
    )
    .action(run(serveBot));
}

/**
 * Runs the bot until SIGINT or SIGTERM: then it stops taking updates, finishes those in hand, and
 * returns, and the verb's wrapper closes the ledger. A second signal exits at once.
 */
export async function serveBot(ctx: CliContext): Promise<void> {
  const { token } = ctx.config.telegram;
  if (!token) {
    throw new CliError(
      "TELEGRAM_BOT_TOKEN is not set (create a bot with BotFather; see README)",
      ExitCode.invalid,
    );
  }
  const ledger = await ctx.ledger();
  const bot = createLedgerBot({
    config: { ...ctx.config.telegram, token },
    ledger,
    schema: ctx.config.schema,
    logger: ctx.logger,
  });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      ctx.logger.warn({ signal }, "second signal: exiting now");
      process.exit(ExitCode.unexpected);
    }
    signalled = true;
    void bot.stop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await bot.start();
    await bot.stopped;
  } catch (error) {
    await bot.stop("failed").catch(() => {});
    throw rejectedToken(error) ?? error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Telegram's 401 means the token is wrong or revoked: a configuration error (exit 2), not a crash. */
function rejectedToken(error: unknown): CliError | undefined {
  const e = error as { code?: unknown; response?: { error_code?: unknown } } | null;
  if (e?.response?.error_code !== 401 && e?.code !== 401) return undefined;
  return new CliError(
    "TELEGRAM_BOT_TOKEN was rejected by Telegram (401): check the token with BotFather (/token, /revoke)",
    ExitCode.invalid,
  );
}
