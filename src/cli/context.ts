import os from "node:os";
import { type Config, loadConfig } from "../config.ts";
import { type Ledger, openLedger } from "../ledger.ts";
import { createLogger, type Logger } from "../log.ts";
import { readSigningKey } from "../signing-key.ts";
import { createOutput, type Output } from "./output.ts";

export type GlobalOptions = { json?: boolean; actor?: string; reason?: string };

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

export function createContext(options: GlobalOptions): CliContext {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  let opened: Promise<Ledger> | undefined;
  const actorName = options.actor ?? `cli:${os.userInfo().username}`;
  return {
    config,
    logger,
    out: createOutput(options.json === true, config.columns),
    actor: { kind: "cli", id: actorName, name: actorName },
    reason: options.reason,
    ledger() {
      opened ??= Promise.resolve().then(() =>
        openLedger({
          databaseUrl: config.databaseUrl,
          dataDir: config.dataDir,
          schema: config.schema,
          poolSize: config.poolSize,
          logger,
          origin: config.origin,
          signer: config.signingKeyFile ? readSigningKey(config.signingKeyFile) : undefined,
        }),
      );
      return opened;
    },
    async close() {
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}
