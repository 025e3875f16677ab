import { startCheckpointSigner } from "../ledger/index.ts";
import { startWebhooks } from "../webhooks/webhooks.ts";
import type { CliContext } from "./context.ts";

export type Background = {
  /** What runs, for a log line and for `npm start` to know whether to stay up. */
  running: string[];
  stop(): Promise<void>;
};

/**
 * The work a long-running process does besides answering (the bot, `serve`, `npm start`): signing
 * checkpoints when a key and LEDGER_CHECKPOINT_EVERY are set, delivering webhooks when
 * LEDGER_WEBHOOK_URLS are. Started once per process, whatever else it serves; both follow the
 * change feed as durable subscribers, so several processes may start them and one at a time works.
 */
export async function startBackground(ctx: CliContext): Promise<Background> {
  const { checkpointEvery, signingKeyFile, webhooks } = ctx.config;
  if (!(checkpointEvery && signingKeyFile) && webhooks.urls.length === 0) {
    return { running: [], stop: async () => {} };
  }
  const ledger = await ctx.ledger();
  const signer =
    checkpointEvery && signingKeyFile
      ? startCheckpointSigner(ledger, checkpointEvery, ctx.logger)
      : undefined;
  const delivery = webhooks.urls.length > 0 ? startWebhooks(ledger, webhooks, ctx.logger) : undefined;
  const running = [...(signer ? ["checkpoint signer"] : []), ...(delivery ? ["webhooks"] : [])];
  ctx.logger.info({ running }, "background work started");
  return {
    running,
    async stop() {
      await Promise.all([signer?.stop(), delivery?.stop()]);
    },
  };
}
