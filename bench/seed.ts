import type { NewEvent, StreamAppend } from "../src/store/event-store.ts";
import type { AppendingStore } from "../test/support/appending-store.ts";
import { hostDeclared, operatorMetadata, PLUGIN_COUNT, pluginId, pluginLife } from "./event-fixtures.ts";

export type SeedResult = { events: number; transactions: number; seconds: number; perSecond: number };

/**
 * Writes `total` events through the store's bulk path: `appendMany`, `perTransaction` events per
 * call spread over the streams plugin-p00..plugin-p49 (each plugin's life as `pluginLife` tells
 * it: releases, upgrades, rollbacks, deprecations) after one host declaration, chained and hashed
 * like any append, and projected if the store has projections.
 */
export async function seedEvents(
  store: AppendingStore,
  options: {
    total: number;
    perTransaction: number;
    signal: AbortSignal;
    progress: (message: string) => void;
  },
): Promise<SeedResult> {
  const lives = Array.from({ length: PLUGIN_COUNT }, (_, p) => pluginLife(p));
  const started = performance.now();
  let written = 0;
  let transactions = 0;
  let reported = 0;
  while (written < options.total) {
    options.signal.throwIfAborted();
    const size = Math.min(options.perTransaction, options.total - written);
    const appends: StreamAppend[] = [];
    let plugins = size;
    if (written === 0) {
      appends.push({ streamId: "host", events: [hostDeclared(0)] });
      plugins -= 1;
    }
    for (let p = 0; p < PLUGIN_COUNT; p++) {
      const count = Math.floor(plugins / PLUGIN_COUNT) + (p < plugins % PLUGIN_COUNT ? 1 : 0);
      if (count === 0) continue;
      const life = lives[p] as () => NewEvent;
      appends.push({
        streamId: `plugin-${pluginId(p)}`,
        expectedVersion: "any",
        events: Array.from({ length: count }, () => life()),
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
