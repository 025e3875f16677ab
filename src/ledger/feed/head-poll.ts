import type { ListenConnection } from "./listen-connection.ts";
import type { WakeupOptions } from "./wakeups.ts";

/**
 * The poll of the head row (see wakeups.ts): every `pollMs`, and at once when asked (after a
 * reconnect). On a live LISTEN connection it runs on that connection, so a stalled or cut one
 * fails its poll within `queryTimeoutMs` and is dropped (to be replaced with backoff).
 */
export type HeadPoll = {
  /** The last poll succeeded. */
  readonly ok: boolean;
  /** Polls now, or joins the poll in flight. */
  poll(): Promise<void>;
  start(): void;
  /** Stops scheduling polls at once; resolves when the poll in flight (if any) is done. */
  stop(): Promise<void>;
};

export function headPoll(
  options: WakeupOptions,
  listen: ListenConnection | undefined,
  seen: { publish(position: number): void; lastContactAt(): Date | null },
): HeadPoll {
  const { database, tables, logger } = options;
  let ok = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let polling: Promise<void> | undefined;

  async function pollOnce(): Promise<void> {
    const query = {
      text: `SELECT position FROM ${tables.head}`,
      rowMode: "array" as const,
      query_timeout: options.queryTimeoutMs,
    };
    const client = listen?.listening;
    try {
      const found = client ? await client.query(query) : await database.pool.query(query);
      if (!ok && seen.lastContactAt()) logger.info("change feed: database reachable again");
      ok = true;
      seen.publish(Number(found.rows[0]?.[0] ?? 0));
    } catch (error) {
      if (ok || !seen.lastContactAt())
        logger.warn({ err: error }, "change feed: cannot read the head; retrying");
      ok = false;
      if (client) listen?.drop(client);
    }
  }

  function poll(): Promise<void> {
    polling ??= pollOnce().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  function schedulePoll() {
    clearTimeout(timer);
    if (!running) return;
    timer = setTimeout(() => {
      void poll().then(schedulePoll);
    }, options.pollMs);
    timer.unref?.();
  }

  return {
    get ok() {
      return ok;
    },
    poll,
    start() {
      running = true;
      void poll().then(schedulePoll);
    },
    stop() {
      running = false;
      clearTimeout(timer);
      return polling ?? Promise.resolve();
    },
  };
}
