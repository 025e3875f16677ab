import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import type { Run } from "./run.ts";

const DEFAULT_PORT = 8080;

export function registerServeVerb(program: Command, run: Run): void {
  program
    .command("serve")
    .description("serve the read-only HTTP API and its change stream (HTTP_PORT, HTTP_HOST, HTTP_TOKENS)")
    .option("--port <port>", "listen on this port (default HTTP_PORT, else 8080; 0: any free port)")
    .option("--host <host>", "listen on this address (default HTTP_HOST, 127.0.0.1)")
    .action(
      run(async (ctx, o: { port?: string; host?: string }) => {
        const port = o.port === undefined ? (ctx.config.http.port ?? DEFAULT_PORT) : portOf(o.port);
        await serveHttp(ctx, { port, host: o.host ?? ctx.config.http.host });
      }),
    );
}

function portOf(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new CliError(`--port must be 0 to 65535, not "${text}"`, ExitCode.invalid);
  return port;
}

/**
 * Serves the API until SIGINT or SIGTERM, or next to `alongside` (the bot, the webhooks), which
 * then owns the signals, until it returns: then the change streams end, requests in hand
 * finish, and the verb's wrapper closes the ledger.
 */
export async function serveHttp(
  ctx: CliContext,
  where: { port: number; host: string },
  alongside?: () => Promise<void>,
): Promise<void> {
  if (ctx.config.http.tokens.length === 0) {
    throw new CliError(
      "HTTP_TOKENS is not set (comma-separated bearer tokens of at least 32 characters; see README)",
      ExitCode.invalid,
    );
  }
  // Loaded here, not at the top: Fastify costs every other verb's start-up a third of a second.
  const { serveApi } = await import("../../http/serve.ts");
  const ledger = await ctx.ledger();
  const api = await serveApi({ ledger, http: { ...ctx.config.http, ...where }, logger: ctx.logger });
  // One line on stdout a script can wait for (the port may have been 0).
  ctx.out.result({ listening: api.url }, () => `listening on ${api.url}`);
  try {
    if (alongside) await alongside();
    else await untilSignal();
  } finally {
    await api.close();
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
