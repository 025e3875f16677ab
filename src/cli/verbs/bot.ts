import type { Command } from "commander";
import { startCheckpointSigner } from "../../checkpoint-signer.ts";
import { startWebhooks } from "../../index.ts";
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
  // Loaded here, not at the top: telegraf costs every other verb's start-up a fifth of a second.
  const [{ createLedgerBot }, { BotTokenRejectedError, TelegramUnreachableError }] = await Promise.all([
    import("../../telegram/bot.ts"),
    import("../../telegram/startup-retry.ts"),
  ]);
  const ledger = await ctx.ledger();
  // With a signing key and a rule, the bot's process also signs checkpoints as the log grows.
  const { checkpointEvery, signingKeyFile } = ctx.config;
  const signer =
    checkpointEvery && signingKeyFile
      ? startCheckpointSigner(ledger, checkpointEvery, ctx.logger)
      : undefined;
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
  // The bot is a long-running process: it delivers the webhooks too, when they are configured.
  const webhooks = ctx.config.webhooks.urls.length
    ? startWebhooks(ledger, ctx.config.webhooks, ctx.logger)
    : undefined;
  try {
    await bot.start();
    await bot.stopped;
  } catch (error) {
    await bot.stop("failed").catch(() => {});
    if (error instanceof BotTokenRejectedError) throw new CliError(error.message, ExitCode.invalid);
    if (error instanceof TelegramUnreachableError) throw new CliError(error.message, ExitCode.unexpected);
    throw error;
  } finally {
    await signer?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await webhooks?.stop();
  }
}
