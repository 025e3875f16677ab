import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Telegraf } from "telegraf";
import type { TelegramConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { BotContext } from "./context.ts";

/** The path the webhook server accepts when TELEGRAM_WEBHOOK_URL has none of its own. */
export const WEBHOOK_PATH = "/telegram/webhook";

/**
 * Webhook mode: an HTTP server on the configured port accepting POSTs on the public URL's path
 * (WEBHOOK_PATH unless the URL has a path), with Telegram's secret_token header checked
 * (anything else gets 403); then Telegram is told where to send updates.
 */
export async function listenForWebhook(
  bot: Telegraf<BotContext>,
  webhook: NonNullable<TelegramConfig["webhook"]>,
  allowedUpdates: ("message" | "callback_query")[],
  logger: Logger,
  retried: (call: () => Promise<true>) => Promise<true>,
): Promise<http.Server> {
  const url = new URL(webhook.url);
  if (url.pathname === "/" || url.pathname === "") url.pathname = WEBHOOK_PATH;
  const callback = bot.webhookCallback(url.pathname, { secretToken: webhook.secret });
  const server = http.createServer((req, res) => {
    callback(req, res).catch((error) => {
      logger.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(webhook.port, () => {
      server.off("error", reject);
      // A listening server's later failure (say, out of file descriptors on accept) is logged,
      // never an unhandled 'error' event that ends the process.
      server.on("error", (error) => logger.error({ err: error }, "webhook server error"));
      resolve();
    });
  });
  try {
    await retried(() =>
      bot.telegram.setWebhook(url.toString(), {
        secret_token: webhook.secret,
        allowed_updates: allowedUpdates,
      }),
    );
  } catch (error) {
    server.close();
    throw error;
  }
  logger.info({ url: url.toString(), port: (server.address() as AddressInfo).port }, "webhook set");
  return server;
}
