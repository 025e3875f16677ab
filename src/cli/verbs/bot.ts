import type { Command } from "commander";
import { startBackground } from "../background.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { onStopSignals } from "../stop-signals.ts";
import type { Run } from "./run.ts";

export function registerBotVerb(program: Command, run: Run): void {
  program
    .command("bot")
    .description(
      "run the Telegram bot (TELEGRAM_BOT_TOKEN; long polling, or a webhook with TELEGRAM_WEBHOOK_URL)",
    )
    .action(run((ctx) => serveBot(ctx)));
}

/**
 * Runs the bot until SIGINT or SIGTERM: then it stops taking updates, finishes those in hand, and
 * returns, and the verb's wrapper closes the ledger. A second signal exits at once. With
 * `background` (the default; `npm start` starts it once for the whole process instead) it also
 * signs checkpoints and delivers webhooks, when they are configured.
 */
export async function serveBot(ctx: CliContext, options: { background?: boolean } = {}): Promise<void> {
  const { token } = ctx.config.telegram;
  if (!token) {
    throw new CliError(
      "TELEGRAM_BOT_TOKEN is not set (create a bot with BotFather; see README)",
      ExitCode.invalid,
    );
  }
  // Loaded here, not at the top: every other verb would pay for loading telegraf at start-up.
  const [
    { createLedgerBot },
    { BotTokenRejectedError, TelegramUnreachableError },
    { startCheckpointPoster },
  ] = await Promise.all([
    import("../../telegram/bot.ts"),
    import("../../telegram/startup-retry.ts"),
    import("../../telegram/checkpoint-poster.ts"),
  ]);
  const ledger = await ctx.ledger();
  const bot = createLedgerBot({
    config: { ...ctx.config.telegram, token },
    ledger,
    logger: ctx.logger,
  });
  const offSignals = onStopSignals(ctx, (signal) => void bot.stop(signal));
  const background = options.background === false ? undefined : await startBackground(ctx);
  let poster: { stop(): void } | undefined;
  try {
    await bot.start();
    const notifier = bot.notifier();
    if (notifier) poster = startCheckpointPoster(ledger, notifier, ctx.logger);
    await bot.stopped;
  } catch (error) {
    await bot.stop("failed").catch(() => {});
    if (error instanceof BotTokenRejectedError) throw new CliError(error.message, ExitCode.invalid);
    if (error instanceof TelegramUnreachableError) throw new CliError(error.message, ExitCode.unexpected);
    throw error;
  } finally {
    poster?.stop();
    offSignals();
    await background?.stop();
  }
}
