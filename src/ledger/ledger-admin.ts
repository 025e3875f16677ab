import { projections } from "../../projections/index.ts";
import { rebuildProjections } from "../../projections/rebuild.ts";
import { migrate, verifyChain } from "../store/index.ts";
import type { LedgerAdmin, LedgerCore } from "./ledger-type.ts";
import { replayStatus } from "./queries/replay.ts";
import { headPosition, resolvePosition } from "./queries/status.ts";
import { retryWindow } from "./reconnect.ts";
import { recordedEvent } from "./recorded-event.ts";

/** The ledger's walks over the whole log: read, fold, verify, rebuild; and its migrations. */
export function adminOf(core: LedgerCore): LedgerAdmin {
  const { database, pool, tables, store, retry, reconnect, settings } = core;
  return {
    replay: (replayOptions = {}) =>
      retry("replay", async () => {
        const to =
          replayOptions.to === undefined
            ? await headPosition(pool, tables)
            : await resolvePosition(pool, tables, replayOptions.to);
        return replayStatus(store, to);
      }),
    async *events(after = 0) {
      // Resumes after the last batch handed out: a lost connection neither repeats nor skips events.
      const retryBatch = retryWindow(reconnect, "events");
      let from = after;
      for (;;) {
        try {
          for await (const batch of store.readAllBatches(from)) {
            retryBatch.succeeded();
            from = (batch[batch.length - 1] as { position: number }).position;
            yield batch.map(recordedEvent);
          }
          return;
        } catch (error) {
          await retryBatch(error);
        }
      }
    },
    // A whole walk again: it only reads, and its progress starts over.
    verify: (onProgress) => retry("verify", () => verifyChain(store, onProgress)),
    // One transaction: a lost connection rolls all of it back, so it runs again from the start.
    async rebuild(onProgress, rebuildOptions = {}) {
      const result = await retry("rebuild", () =>
        rebuildProjections(store, projections, {
          readThroughPool: !database.sharedSession,
          onProgress,
          force: rebuildOptions.force,
        }),
      );
      if (result.forced) {
        settings.logger.warn(
          { ...result.forced },
          "rebuilt the projections from a chain that does not verify (forced)",
        );
      }
      return result;
    },
    migrate: () => retry("migrate", () => migrate(pool, settings.schema, settings.logger)),
  };
}
