import type { EventStore, StreamAppend } from "../src/store/event-store.ts";
import { operatorMetadata, PLUGIN_COUNT, pluginId, pluginUpgraded } from "./event-fixtures.ts";

export type SeedResult = { events: number; transactions: number; seconds: number; perSecond: number };

/**
 * Writes `total` events through the store's bulk path: `appendMany`, `perTransaction` events per
 * call spread over the streams plugin-p00..plugin-p49, chained and hashed like any append.
 */
export async function seedEvents(
  store: EventStore,
  options: {
    total: number;
    perTransaction: number;
    signal: AbortSignal;
    progress: (message: string) => void;
  },
): Promise<SeedResult> {
  const upgrades = Array.from({ length: PLUGIN_COUNT }, () => 0);
  const started = performance.now();
  let written = 0;
  let transactions = 0;
  let reported = 0;
  while (written < options.total) {
    options.signal.throwIfAborted();
    const size = Math.min(options.perTransaction, options.total - written);
    const appends: StreamAppend[] = [];
    for (let p = 0; p < PLUGIN_COUNT; p++) {
      const count = Math.floor(size / PLUGIN_COUNT) + (p < size % PLUGIN_COUNT ? 1 : 0);
      if (count === 0) continue;
      const id = pluginId(p);
      const first = upgrades[p] ?? 0;
      upgrades[p] = first + count;
      appends.push({
        streamId: `plugin-${id}`,
        expectedVersion: "any",
        events: Array.from({ length: count }, (_, i) => pluginUpgraded(id, first + i)),
      });
    }
    await store.appendMany(appends, operatorMetadata(transactions));
    written += size;
    transactions += 1;
    if (written - reported >= options.total / 10 || written === options.total) {
      reported = written;
      const rate = written / ((performance.now() - started) / 1000);
      options.progress(
        `seeded ${written.toLocaleString("en-US")}/${options.total.toLocaleString("en-US")} events (${Math.round(rate).toLocaleString("en-US")} events/s)`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { events: written, transactions, seconds, perSecond: written / seconds };
}
