import type pg from "pg";
import type { Logger } from "../../log.ts";
import type { Database } from "../../store/connection.ts";
import type { Tables } from "../../store/tables.ts";
import { backoffDelay } from "./backoff.ts";
import { discardClient } from "./dedicated-client.ts";

/**
 * When to look for new events, for every tail and subscriber of one ledger in this process.
 *
 * Each append sends `NOTIFY <channel>, '<new head>'` inside its transaction (src/store/event-store.ts),
 * so the notification leaves at commit. On a PostgreSQL server one LISTEN connection per ledger
 * hears them for every tail and subscriber of the process. Notifications are lost while that
 * connection is down, so the head row is also polled: every `pollMs`, and at once after every
 * reconnect. The poll on a live LISTEN connection runs on that connection, so it doubles as its
 * liveness check: a stalled or cut connection fails its poll within `queryTimeoutMs` and is
 * replaced, with backoff, without ever throwing into the process.
 *
 * Through PGlite (one shared backend, no notifications across connections) there is no LISTEN:
 * the poll alone wakes the feed, so a change is seen on average half a poll interval after it
 * commits (README "Change feed" gives the measured figures).
 */
export type Wakeups = {
  /** `listener(head)` whenever the head may have moved; returns the unsubscribe. */
  listen(listener: (head: number) => void): () => void;
  health(): FeedHealth;
  close(): Promise<void>;
};

export type FeedHealth = {
  /** `notify`: LISTEN/NOTIFY with a poll as fallback; `poll`: the poll alone (embedded ledger). */
  mode: "notify" | "poll";
  /** The last look at the database succeeded (and in `notify` mode the LISTEN connection is up). */
  connected: boolean;
  /** The newest head position seen. */
  head: number;
  /** When the database last answered a poll or sent a notification. */
  lastContactAt: Date | null;
};

export type WakeupOptions = {
  database: Database;
  tables: Tables;
  logger: Logger;
  pollMs: number;
  queryTimeoutMs: number;
};

const RECONNECT = { initialMs: 250, maxMs: 10_000 };

export function createWakeups(options: WakeupOptions): Wakeups {
  const { database, tables, logger } = options;
  const useListen = !database.sharedSession;
  const listeners = new Set<(head: number) => void>();
  let head = 0;
  let lastContactAt: Date | null = null;
  let pollOk = false;
  let listener: pg.Client | undefined;
  let listening = false;
  let reconnectAttempt = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let running = false;
  let polling: Promise<void> | undefined;

  function publish(position: number) {
    lastContactAt = new Date();
    if (position <= head) return;
    head = position;
    for (const l of [...listeners]) l(head);
  }

  async function pollOnce(): Promise<void> {
    const query = {
      text: `SELECT position FROM ${tables.head}`,
      rowMode: "array" as const,
      query_timeout: options.queryTimeoutMs,
    };
    const client = listening ? listener : undefined;
    try {
      const found = client ? await client.query(query) : await database.pool.query(query);
      if (!pollOk && lastContactAt) logger.info("change feed: database reachable again");
      pollOk = true;
      publish(Number(found.rows[0]?.[0] ?? 0));
    } catch (error) {
      if (pollOk || !lastContactAt)
        logger.warn({ err: error }, "change feed: cannot read the head; retrying");
      pollOk = false;
      if (client) dropListener(client);
    }
  }

  function poll(): Promise<void> {
    polling ??= pollOnce().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!running) return;
    pollTimer = setTimeout(() => {
      void poll().then(schedulePoll);
    }, options.pollMs);
    pollTimer.unref?.();
  }

  async function connectListener(): Promise<void> {
    if (!running || listener) return;
    const client = database.newClient();
    listener = client;
    // Errors arrive as events on an idle connection; unhandled, they would end the process.
    client.on("error", (error) => {
      logger.warn({ err: error }, "change feed: LISTEN connection lost");
      dropListener(client);
    });
    client.on("end", () => dropListener(client));
    client.on("notification", (message) => {
      if (message.channel !== tables.channel) return;
      const position = parseHeadPayload(message.payload);
      if (position !== null) publish(position);
    });
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
      // Whatever was committed while nobody listened.
      await poll();
    } catch (error) {
      if (reconnectAttempt === 0) logger.warn({ err: error }, "change feed: cannot LISTEN; retrying");
      dropListener(client);
    }
  }

  function dropListener(client: pg.Client) {
    if (listener !== client) return;
    listener = undefined;
    listening = false;
    discardClient(client);
    if (!running) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => void connectListener(), backoffDelay(reconnectAttempt++, RECONNECT));
    reconnectTimer.unref?.();
  }

  function start() {
    running = true;
    if (useListen) void connectListener();
    void poll().then(schedulePoll);
  }

  async function stop() {
    running = false;
    clearTimeout(pollTimer);
    clearTimeout(reconnectTimer);
    const client = listener;
    listener = undefined;
    listening = false;
    if (client) discardClient(client);
    await polling;
  }

  return {
    listen(l) {
      listeners.add(l);
      if (!running) start();
      else if (head > 0) queueMicrotask(() => listeners.has(l) && l(head));
      return () => {
        listeners.delete(l);
        if (listeners.size === 0 && running) void stop();
      };
    },
    health: () => ({
      mode: useListen ? "notify" : "poll",
      connected: pollOk && (!useListen || listening),
      head,
      lastContactAt,
    }),
    close: stop,
  };
}

/** The NOTIFY payload is the new head position, as decimal text; anything else is ignored. */
export function parseHeadPayload(payload: string | undefined): number | null {
  if (payload === undefined || !/^\d{1,16}$/.test(payload)) return null;
  const position = Number(payload);
  return Number.isSafeInteger(position) ? position : null;
}
