import type { HttpConfig } from "../config.ts";
import type { Ledger } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { buildApi, type LedgerApi } from "./app.ts";

export type RunningApi = LedgerApi & {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Ends the change streams, stops taking requests and waits for those in hand. */
  close(): Promise<void>;
};

/** Builds the API and listens on the configured host and port (0: any free port). */
export async function serveApi(options: {
  ledger: Ledger;
  http: HttpConfig & { port: number };
  logger: Logger;
  heartbeatMs?: number;
}): Promise<RunningApi> {
  const { http, logger } = options;
  if (http.tokens.length === 0) throw new Error("HTTP_TOKENS is empty: no client could call the API");
  const api = await buildApi({
    ledger: options.ledger,
    tokens: http.tokens,
    logger,
    heartbeatMs: options.heartbeatMs,
  });
  const url = await api.app.listen({ host: http.host, port: http.port });
  logger.info({ url }, "HTTP API listening");
  return { ...api, url, close: () => api.app.close() };
}
