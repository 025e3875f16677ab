import type pg from "pg";
import { backoffDelay } from "./backoff.ts";
import { discardClient } from "./dedicated-client.ts";
import type { WakeupOptions } from "./wakeups.ts";

/**
 * The one LISTEN connection of a ledger on a PostgreSQL server (see wakeups.ts): it hears each
 * append's `NOTIFY <channel>, '<new head>'`, and once it listens the head poll runs on it, as its
 * liveness check. A lost connection is replaced with backoff, never thrown into the process.
 */
export type ListenConnection = {
  /** The connection while it listens (the poll runs on it); undefined while it is down. */
  readonly listening: pg.Client | undefined;
  start(): void;
  /** Lets go of `client` (its poll failed) and, while running, connects again after a backoff. */
  drop(client: pg.Client): void;
  stop(): void;
};

const RECONNECT = { initialMs: 250, maxMs: 10_000 };

export function listenConnection(
  options: WakeupOptions,
  on: {
    /** A notification named a head position. */
    head(position: number): void;
    /** The connection listens (again): look for whatever was committed while nobody listened. */
    listening(): Promise<void>;
  },
): ListenConnection {
  const { tables, logger } = options;
  let listener: pg.Client | undefined;
  let listening = false;
  let reconnectAttempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let running = false;

  async function connectListener(): Promise<void> {
    if (!running || listener) return;
    const client = newListener(options, on.head, drop);
    listener = client;
    try {
      await client.connect();
      await client.query({
        text: `LISTEN "${tables.channel}"`,
        query_timeout: options.queryTimeoutMs,
      } as pg.QueryConfig);
      if (listener !== client) return;
      listening = true;
      if (reconnectAttempt > 0) logger.info("change feed: LISTEN connection restored");
      reconnectAttempt = 0;
      await on.listening();
    } catch (error) {
      if (reconnectAttempt === 0) logger.warn({ err: error }, "change feed: cannot LISTEN; retrying");
      drop(client);
    }
  }

  function drop(client: pg.Client) {
    if (listener !== client) return;
    listener = undefined;
    listening = false;
    discardClient(client);
    if (!running) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => void connectListener(), backoffDelay(reconnectAttempt++, RECONNECT));
    reconnectTimer.unref?.();
  }

  return {
    get listening() {
      return listening ? listener : undefined;
    },
    start() {
      running = true;
      void connectListener();
    },
    drop,
    stop() {
      running = false;
      clearTimeout(reconnectTimer);
      const client = listener;
      listener = undefined;
      listening = false;
      if (client) discardClient(client);
    },
  };
}

/** A new connection for LISTEN: notifications of the channel go to `head`, its loss to `lost`. */
function newListener(
  options: WakeupOptions,
  head: (position: number) => void,
  lost: (client: pg.Client) => void,
): pg.Client {
  const { database, tables, logger } = options;
  const client = database.newClient();
  // Errors arrive as events on an idle connection; unhandled, they would end the process.
  client.on("error", (error) => {
    logger.warn({ err: error }, "change feed: LISTEN connection lost");
    lost(client);
  });
  client.on("end", () => lost(client));
  client.on("notification", (message) => {
    if (message.channel !== tables.channel) return;
    const position = parseHeadPayload(message.payload);
    if (position !== null) head(position);
  });
  return client;
}

/** The NOTIFY payload is the new head position, as decimal text; anything else is ignored. */
export function parseHeadPayload(payload: string | undefined): number | null {
  if (payload === undefined || !/^\d{1,16}$/.test(payload)) return null;
  const position = Number(payload);
  return Number.isSafeInteger(position) ? position : null;
}
