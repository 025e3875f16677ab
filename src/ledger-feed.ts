import { type FeedSource, startTail, type Tail, type TailHandler } from "./feed/tail.ts";
import { createWakeups, type FeedHealth, type Wakeups } from "./feed/wakeups.ts";
import type { Logger } from "./log.ts";
import type { Database } from "./store/connection.ts";
import type { EventStore } from "./store/event-store.ts";

export type FeedOptions = {
  /**
   * How often the head is polled: the only wake-up on the embedded ledger (default 100 ms), the
   * fallback to LISTEN/NOTIFY on a server (default 2 s).
   */
  pollMs?: number;
  /** Every read of the feed gives up after this long (default 10 s) and is retried. */
  queryTimeoutMs?: number;
};

/** The change feed's face on the ledger (README "Change feed"). */
export type LedgerFeed = {
  /** Every event after `after`, in order, then each new one live; not durable (see `subscribe`). */
  tail(after: number, handler: TailHandler, options?: { signal?: AbortSignal }): Tail;
  /** How current this process's view of the feed is. */
  feedHealth(): FeedHealth;
};

export function createFeed(
  database: Database,
  store: EventStore,
  logger: Logger,
  options: FeedOptions = {},
): LedgerFeed & { closeFeed(): Promise<void> } {
  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
  let wakeups: Wakeups | undefined;
  // Made on first use: a CLI verb that never follows the feed opens no LISTEN connection.
  const source = (): FeedSource => {
    wakeups ??= createWakeups({
      database,
      tables: store.tables,
      logger,
      pollMs: options.pollMs ?? (database.sharedSession ? 100 : 2_000),
      queryTimeoutMs,
    });
    return { readAfter: store.readAfter, wakeups, logger, queryTimeoutMs };
  };
  const running = new Set<Tail>();
  const track = (tail: Tail): Tail => {
    running.add(tail);
    return {
      async stop() {
        running.delete(tail);
        await tail.stop();
      },
    };
  };
  return {
    tail: (after, handler, tailOptions) => track(startTail(source(), after, handler, tailOptions)),
    feedHealth: () => source().wakeups.health(),
    async closeFeed() {
      await Promise.all([...running].map((t) => t.stop()));
      running.clear();
      await wakeups?.close();
    },
  };
}
