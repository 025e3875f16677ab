import pg from "pg";

type Callback = (error: Error | null, result?: unknown) => void;

/**
 * pg's Client with a read timeout of its own in place of pg's `query_timeout`. pg's timer closes
 * over the query, and with it over every row the query receives; a timer that outlives two
 * young-generation collections moves to the old generation, where, cleared but not yet
 * collected, it keeps the next batches' rows alive into the old generation too. Reading a whole
 * history in batches then took a third more time and 30 MB more memory (bench/README.md). This
 * timer closes over the client only.
 *
 * When it fires, the connection is destroyed, which fails the statement as a lost connection
 * (`Query read timeout`, as pg says), and any statement queued behind it; the pool then discards
 * the client. A statement's own `query_timeout` replaces the client's. Queries that keep a portal
 * open (pg-cursor) and config objects with a callback of their own have no bound here: nothing in
 * the ledger sends them.
 */
export class BoundedClient extends pg.Client {
  readonly #readTimeoutMs: number;

  constructor(config: pg.ClientConfig = {}) {
    super({ ...config, query_timeout: undefined });
    this.#readTimeoutMs = config.query_timeout ?? 0;
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads of query() cannot be restated one by one.
  override query(config: any, values?: any, callback?: any): any {
    const own = typeof config === "object" && config !== null ? config.query_timeout : undefined;
    const ms: number = own ?? this.#readTimeoutMs;
    // A statement given as a config object that carries its own callback is left to pg as well.
    const unbounded = !ms || typeof config?.submit === "function" || typeof config?.callback === "function";
    if (unbounded) return super.query(config, values, callback);
    const statement = own === undefined ? config : { ...config, query_timeout: undefined };
    const timer = setTimeout(expire, ms, this);
    try {
      if (typeof values === "function" || typeof callback === "function") {
        const done: Callback = typeof values === "function" ? values : callback;
        const settled: Callback = (error, result) => {
          clearTimeout(timer);
          done(error, result);
        };
        return typeof values === "function"
          ? super.query(statement, settled)
          : super.query(statement, values, settled);
      }
      return (super.query(statement, values) as Promise<unknown>).finally(() => clearTimeout(timer));
    } catch (error) {
      // pg refused the call itself (no statement, a callback that is not a function).
      clearTimeout(timer);
      throw error;
    }
  }
}

/** The read timeout's end: the connection goes, and with it the statements waiting on it. */
function expire(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } })
    .connection?.stream;
  stream?.destroy(new Error("Query read timeout"));
}
