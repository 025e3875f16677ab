import type { Command } from "commander";
import { type Background, startBackground } from "../background.ts";
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
 * Serves the API until SIGINT or SIGTERM, or next to `alongside` (the bot), which then owns the
 * signals, until it returns: then the change streams end, requests in hand finish, and the verb's
 * wrapper closes the ledger. With `background` (the default; `npm start` starts it once for the
 * whole process instead) it also signs checkpoints and delivers webhooks, when configured.
 */
export async function serveHttp(
  ctx: CliContext,
  where: { port: number; host: string },
  options: { alongside?: () => Promise<void>; background?: boolean } = {},
): Promise<void> {
  if (ctx.config.http.tokens.length === 0) {
    throw new CliError(
      "HTTP_TOKENS is not set (comma-separated bearer tokens of at least 32 characters; see README)",
      ExitCode.invalid,
    );
  }
  // Loaded here, not at the top: every other verb would pay for loading Fastify at start-up.
  const { serveApi } = await import("../../http/serve.ts");
  const ledger = await ctx.ledger();
  const api = await serveApi({ ledger, http: { ...ctx.config.http, ...where }, logger: ctx.logger });
  // One line on stdout a script can wait for (the port may have been 0).
  ctx.out.result({ listening: api.url }, () => `listening on ${api.url}`);
  let background: Background | undefined;
  try {
    if (options.background !== false) background = await startBackground(ctx);
    if (options.alongside) await options.alongside();
    else await untilSignal();
  } finally {
    await background?.stop();
    await api.close();
  }
}

/**
 * Resolves at SIGINT or SIGTERM. Signal listeners do not keep Node's event loop alive, so a
 * process with nothing else open (a container with nothing configured, a signer between ticks)
 * would end at once with "unsettled top-level await" (exit 13): a timer holds it until then.
 */
export function untilSignal(onSignal?: (signal: NodeJS.Signals) => void): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      onSignal?.(signal);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
