import os from "node:os";
import type { Config } from "../config.ts";
import { type Ledger, openLedger, readSigningKey } from "../ledger/index.ts";
import { createLogger, type Logger } from "../log.ts";
import { CliError, ExitCode } from "./exit-codes.ts";
import { type CliStream, createOutput, type Output } from "./output.ts";

export type GlobalOptions = { json?: boolean; output?: "json" | "table"; actor?: string; reason?: string };

/**
 * What one run of the CLI talks to: the process's streams and environment, or a test's. A
 * `ledger` given here is used as it is and left open (a host that embeds the CLI, the tests).
 */
export type CliIo = {
  stdout: CliStream;
  stderr: CliStream;
  env: NodeJS.ProcessEnv;
  ledger?: Ledger;
};

/**
 * What a verb needs, opened on first use and closed once at the end: a verb that fails on its
 * arguments never touches the database.
 */
export type CliContext = {
  config: Config;
  logger: Logger;
  out: Output;
  actor: { kind: "cli"; id: string; name: string };
  reason: string | undefined;
  ledger(): Promise<Ledger>;
  close(): Promise<void>;
};

/** --json or -o json: one JSON document on stdout. Asking for both formats is a usage error. */
export function wantsJson(options: GlobalOptions): boolean {
  if (options.json === true && options.output === "table") {
    throw new CliError("--json and -o table ask for two formats; give one", ExitCode.invalid);
  }
  return options.json === true || options.output === "json";
}

/** `config` is `loadConfig(io.env)`, loaded by the caller after `wantsJson` has read the options. */
export function createContext(options: GlobalOptions, io: CliIo, json: boolean, config: Config): CliContext {
  const logger = createLogger(config.logLevel);
  let opened: Promise<Ledger> | undefined;
  const actorName = options.actor ?? `cli:${os.userInfo().username}`;
  return {
    config,
    logger,
    out: createOutput(json, io.stdout, io.stderr, config.columns),
    actor: { kind: "cli", id: actorName, name: actorName },
    reason: options.reason,
    ledger() {
      opened ??= io.ledger
        ? Promise.resolve(io.ledger)
        : Promise.resolve().then(() =>
            openLedger({
              databaseUrl: config.databaseUrl,
              dataDir: config.dataDir,
              schema: config.schema,
              poolSize: config.poolSize,
              timeouts: config.timeouts,
              logger,
              origin: config.origin,
              signer: config.signingKeyFile ? readSigningKey(config.signingKeyFile) : undefined,
              feed: { pollMs: config.feedPollMs },
            }),
          );
      return opened;
    },
    async close() {
      if (opened && !io.ledger) await (await opened.catch(() => undefined))?.close();
    },
  };
}
