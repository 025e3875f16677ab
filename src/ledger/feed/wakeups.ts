import type { Logger } from "../../log.ts";
import type { Database } from "../../store/connection.ts";
import type { Tables } from "../../store/tables.ts";
import { headPoll } from "./head-poll.ts";
import { listenConnection } from "./listen-connection.ts";

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

export function createWakeups(options: WakeupOptions): Wakeups {
  const useListen = !options.database.sharedSession;
  const listeners = new Set<(head: number) => void>();
  let head = 0;
  let lastContactAt: Date | null = null;
  let running = false;

  function publish(position: number) {
    lastContactAt = new Date();
    if (position <= head) return;
    head = position;
    for (const l of [...listeners]) l(head);
  }

  // Whatever was committed while nobody listened: a poll as soon as LISTEN is (back) up.
  const listen = useListen
    ? listenConnection(options, { head: publish, listening: () => poller.poll() })
    : undefined;
  const poller = headPoll(options, listen, { publish, lastContactAt: () => lastContactAt });

  function start() {
    running = true;
    listen?.start();
    poller.start();
  }

  async function stop() {
    running = false;
    const polling = poller.stop();
    listen?.stop();
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
      connected: poller.ok && (!useListen || listen?.listening !== undefined),
      head,
      lastContactAt,
    }),
    close: stop,
  };
}

/** Re-exported where it was: the unit tests of the payload import it from here. */
export { parseHeadPayload } from "./listen-connection.ts";
