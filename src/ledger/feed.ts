import type { Logger } from "../log.ts";
import type { Database } from "../store/connection.ts";
import type { EventStore } from "../store/event-store.ts";
import { type LedgerWatch, watchLedger } from "./feed/ledger-watch.ts";
import {
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
  startSubscriber,
} from "./feed/subscriber.ts";
import { type SubscriptionStatus, subscriptionList } from "./feed/subscription-list.ts";
import { type FeedSource, startTail, type Tail, type TailHandler } from "./feed/tail.ts";
import { createWakeups, type FeedHealth, type Wakeups } from "./feed/wakeups.ts";
import type { StatusView } from "./queries/status.ts";

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
  /**
   * A named, durable subscriber: every event after its checkpoint, in position order, in batches;
   * the checkpoint moves after the handler succeeds; one process at a time runs it, others stand
   * by (README "Change feed").
   */
  subscribe(name: string, handler: SubscriptionHandler, options?: SubscribeOptions): Subscription;
  /** Every subscriber's checkpoint, lag, last run and last error. */
  subscriptions(): Promise<SubscriptionStatus[]>;
  /**
   * The active versions and A/B splits in memory, kept current from the feed, with a `change`
   * event per plugin change (for Node hosts; see README "Integrating a host").
   */
  watch(): Promise<LedgerWatch>;
  /** How current this process's view of the feed is. */
  feedHealth(): FeedHealth;
};

export function createFeed(
  database: Database,
  store: EventStore,
  logger: Logger,
  status: () => Promise<StatusView>,
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
  const running = new Set<{ stop(): Promise<void> }>();
  /** Closing the ledger stops what still follows the feed. */
  const track = <T extends { stop(): Promise<void> }>(follower: T): T => {
    running.add(follower);
    const stop = follower.stop.bind(follower);
    follower.stop = async () => {
      running.delete(follower);
      await stop();
    };
    return follower;
  };
  return {
    tail: (after, handler, tailOptions) => track(startTail(source(), after, handler, tailOptions)),
    subscribe: (name, handler, subscribeOptions) =>
      track(
        startSubscriber({ ...source(), database, tables: store.tables }, name, handler, subscribeOptions),
      ),
    subscriptions: () => subscriptionList(database.pool, store.tables),
    feedHealth: () => source().wakeups.health(),
    async watch() {
      const feed = source();
      const view = await watchLedger({
        status,
        salts: (testIds) => salts(database, store, testIds),
        // Closing the ledger ends the view's tail; the view keeps its last answers.
        tail: (after, handler) => track(startTail(feed, after, handler)),
        feedHealth: () => feed.wakeups.health(),
        logger,
      });
      return view;
    },
    async closeFeed() {
      await Promise.all([...running].map((t) => t.stop()));
      running.clear();
      await wakeups?.close();
    },
  };
}

/** Salts of A/B tests: a test's salt never changes, so it needs no snapshot with the status. */
async function salts(database: Database, store: EventStore, testIds: string[]): Promise<Map<string, string>> {
  if (testIds.length === 0) return new Map();
  const found = await database.pool.query<{ test_id: string; salt: string }>({
    text: `SELECT test_id, salt FROM ${store.tables.q("ab_tests")} WHERE test_id = ANY($1::text[])`,
    values: [testIds],
  });
  return new Map(found.rows.map((r) => [r.test_id, r.salt]));
}
