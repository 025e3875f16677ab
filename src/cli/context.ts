import os from "node:os";
import { type Config, loadConfig } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import { type Database, openDatabase } from "../store/connection.ts";
import { createEventStore, type EventStore } from "../store/event-store.ts";
import { migrate } from "../store/migrate.ts";
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
  actorName: string;
  store(): Promise<{ db: Database; store: EventStore }>;
  close(): Promise<void>;
};

export function createContext(options: GlobalOptions): CliContext {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  let opened: Promise<{ db: Database; store: EventStore }> | undefined;
  return {
    config,
    logger,
    out: createOutput(options.json === true),
    actorName: options.actor ?? `cli:${os.userInfo().username}`,
    store() {
      opened ??= (async () => {
        const db = await openDatabase({
          databaseUrl: config.databaseUrl,
          dataDir: config.dataDir,
          poolSize: config.poolSize,
          logger,
        });
        try {
          await migrate(db.pool, config.schema, logger);
        } catch (error) {
          await db.close();
          throw error;
        }
        return { db, store: createEventStore({ pool: db.pool, schema: config.schema }) };
      })();
      return opened;
    },
    async close() {
      if (opened) await (await opened.catch(() => undefined))?.db.close();
    },
  };
}
