import type { Logger } from "../../log.ts";
import type { StoredEvent } from "../../store/event-store.ts";
import { type RecordedEvent, recordedEvent } from "../recorded-event.ts";
import { type Backoff, backoffDelay, pause } from "./backoff.ts";
import type { Wakeups } from "./wakeups.ts";

/** What reading the feed needs of the ledger. */
export type FeedSource = {
  readAfter(after: number, limit: number, timeoutMs: number): Promise<StoredEvent[]>;
  wakeups: Wakeups;
  logger: Logger;
  queryTimeoutMs: number;
};

export type TailHandler = (events: RecordedEvent[]) => void | Promise<void>;
export type Tail = { stop(): Promise<void> };

const READ_RETRY: Backoff = { initialMs: 200, maxMs: 5_000 };
const TAIL_BATCH = 500;

/**
 * Positions are gapless and follow commit order (each append holds the head row lock until it
 * commits, DESIGN.md "Append"), so once position p is visible every position below it is too:
 * reading `position > last seen` again and again misses nothing and never reorders.
 */
export async function* followFeed(
  source: FeedSource,
  after: number,
  signal: AbortSignal,
  batchSize = TAIL_BATCH,
): AsyncGenerator<StoredEvent[]> {
  let position = after;
  let knownHead = 0;
  let wake: (() => void) | undefined;
  const unlisten = source.wakeups.listen((head) => {
    knownHead = head;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  let failures = 0;
  let rereadAt = -1;
  try {
    while (!signal.aborted) {
      let batch: StoredEvent[];
      try {
        batch = await source.readAfter(position, batchSize, source.queryTimeoutMs);
      } catch (error) {
        if (failures === 0)
          source.logger.warn({ err: error, after: position }, "change feed: read failed; retrying");
        await pause(backoffDelay(failures++, READ_RETRY), signal);
        continue;
      }
      failures = 0;
      if (batch.length > 0) {
        position = (batch[batch.length - 1] as StoredEvent).position;
        yield batch;
        continue;
      }
      // The head said more than the read found: the read's snapshot predates that commit. Once.
      if (knownHead > position && rereadAt !== knownHead) {
        rereadAt = knownHead;
        continue;
      }
      // Caught up: sleep until the head passes what we have read (a notification or a poll).
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        wake = () => {
          if ((knownHead > position && knownHead !== rereadAt) || signal.aborted) resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unlisten();
  }
}

/**
 * A live, non-durable tail: every event after `after`, in order, then each new one as it commits.
 * The handler is awaited before the next batch (back-pressure). A lost connection delays the
 * tail, which retries with backoff; a handler that throws ends the tail (logged): its consumer
 * is gone.
 */
export function startTail(
  source: FeedSource,
  after: number,
  handler: TailHandler,
  options: { signal?: AbortSignal } = {},
): Tail {
  const controller = new AbortController();
  const stopOnSignal = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener("abort", stopOnSignal, { once: true });
  const done = (async () => {
    try {
      for await (const batch of followFeed(source, after, controller.signal)) {
        await handler(batch.map(recordedEvent));
      }
    } catch (error) {
      source.logger.error({ err: error }, "change feed: a tail's handler failed; the tail ends");
    } finally {
      options.signal?.removeEventListener("abort", stopOnSignal);
    }
  })();
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}
