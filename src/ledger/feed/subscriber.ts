import type { Database } from "../../store/connection.ts";
import type { StoredEvent } from "../../store/event-store.ts";
import type { Tables } from "../../store/tables.ts";
import { type RecordedEvent, recordedEvent } from "../recorded-event.ts";
import { type Backoff, backoffDelay, pause } from "./backoff.ts";
import { type SubscriberLease, subscriberLease } from "./subscriber-lease.ts";
import { type FeedSource, followFeed } from "./tail.ts";

/**
 * A durable subscriber's handler. It may see a batch again (at least once: after a crash, the
 * batch in flight; after a failure, the same batch): each event's `position` lets it deduplicate.
 * `signal` aborts when this process stops running the subscriber.
 */
export type SubscriptionHandler = (
  events: RecordedEvent[],
  context: { signal: AbortSignal },
) => void | Promise<void>;

export type SubscribeOptions = {
  /** Where a subscriber without a checkpoint starts: after this position (default 0), or at the head. */
  from?: number | "head";
  /** At most this many events per handler call (default 100). */
  batchSize?: number;
  signal?: AbortSignal;
  /** Backoff between failed runs of the handler (default 1 s doubling up to 60 s). */
  retry?: Backoff;
  /** How often a standby tries to take over (default 1 s). */
  standbyMs?: number;
  /** How long a lease row holds without renewal on the embedded ledger (default 15 s). */
  leaseMs?: number;
};

export type Subscription = {
  name: string;
  /** True while this process is the one running the subscriber. */
  readonly active: boolean;
  /** Stops (after the handler call in hand) and lets another process take over. */
  stop(): Promise<void>;
};

export type SubscriberDeps = FeedSource & { database: Database; tables: Tables };

/** Printable ASCII without spaces, so that it reads plainly in `plugin-ledger subscriptions`. */
export function isSubscriberName(name: unknown): name is string {
  return typeof name === "string" && /^[\x21-\x7e]{1,200}$/.test(name);
}

const DEFAULT_RETRY: Backoff = { initialMs: 1_000, maxMs: 60_000 };

/**
 * Runs a named subscriber: stand by until this process holds its lease (subscriber-lease.ts), then
 * read every event after its checkpoint, in position order, in batches, and move the checkpoint
 * only after the handler succeeded. Positions are gapless and follow commit order (every append
 * holds the head row lock until it commits), so `position > checkpoint` misses nothing: an event
 * not yet visible has a higher position than every visible one (see `followFeed`). A failing handler is retried on the same batch with
 * exponential backoff, its error recorded in the subscriber's row; a lost lease or connection
 * sends the process back to standing by. Nothing here throws into the caller.
 */
export function startSubscriber(
  deps: SubscriberDeps,
  name: string,
  handler: SubscriptionHandler,
  options: SubscribeOptions = {},
): Subscription {
  if (!isSubscriberName(name)) {
    throw new RangeError("a subscriber name is 1-200 printable ASCII characters without spaces");
  }
  const logger = deps.logger.child({ subscriber: name });
  const leaseMs = options.leaseMs ?? 15_000;
  const controller = new AbortController();
  const stopOnSignal = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener("abort", stopOnSignal, { once: true });
  const run: SubscriberRun = {
    deps,
    handler,
    logger,
    batchSize: options.batchSize ?? 100,
    retry: options.retry ?? DEFAULT_RETRY,
    standbyMs: options.standbyMs ?? 1_000,
    leaseMs,
    lease: subscriberLease({
      database: deps.database,
      tables: deps.tables,
      name,
      from: options.from ?? 0,
      leaseMs,
      queryTimeoutMs: deps.queryTimeoutMs,
      logger,
    }),
    active: false,
  };

  const done = (async () => {
    await standByAndLead(run, controller.signal);
    options.signal?.removeEventListener("abort", stopOnSignal);
  })();

  return {
    name,
    get active() {
      return run.active;
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** One running subscriber: what it was given, its lease, and whether it leads now. */
type SubscriberRun = {
  deps: SubscriberDeps;
  handler: SubscriptionHandler;
  logger: SubscriberDeps["logger"];
  batchSize: number;
  retry: Backoff;
  standbyMs: number;
  leaseMs: number;
  lease: SubscriberLease;
  active: boolean;
};

/** Until `signal` aborts: wait for the lease (backing off while the database is away), then lead. */
async function standByAndLead(run: SubscriberRun, signal: AbortSignal): Promise<void> {
  const { lease, logger, standbyMs } = run;
  let failures = 0;
  while (!signal.aborted) {
    let held: { position: number } | null = null;
    try {
      held = await lease.acquire();
      failures = 0;
    } catch (error) {
      if (failures++ === 0) logger.warn({ err: error }, "subscriber: cannot reach the database; retrying");
    }
    if (!held) {
      await pause(
        failures > 0 ? backoffDelay(failures - 1, { initialMs: standbyMs, maxMs: 30_000 }) : standbyMs,
        signal,
      );
      continue;
    }
    run.active = true;
    logger.info({ position: held.position }, "subscriber: running");
    try {
      await lead(run, held.position, signal);
    } catch (error) {
      logger.error({ err: error }, "subscriber: stopped unexpectedly; standing by");
    } finally {
      run.active = false;
      await lease.release().catch(() => {});
    }
    if (!signal.aborted) logger.info("subscriber: standing by");
  }
}

/** While the lease holds: each batch after the checkpoint to the handler, then the checkpoint on. */
async function lead(run: SubscriberRun, checkpoint: number, signal: AbortSignal): Promise<void> {
  const { lease, leaseMs } = run;
  const leading = new AbortController();
  const standDown = () => leading.abort();
  // A stop asked for while the lease was being taken has fired its event already, and a listener
  // added now would never hear it: the feed would wait for events forever and stop() with it.
  if (signal.aborted) standDown();
  else signal.addEventListener("abort", standDown, { once: true });
  // Renewing often enough that a slow handler keeps the lease; a failed renewal stands down.
  const renewal = setInterval(
    () => void lease.renew().then((held) => held || standDown()),
    Math.max(100, Math.min(leaseMs / 3, 5_000)),
  );
  let failures = 0;
  try {
    for await (const batch of followFeed(run.deps, checkpoint, leading.signal, run.batchSize)) {
      const last = (batch[batch.length - 1] as StoredEvent).position;
      while (!leading.signal.aborted && !(await runHandler(run, batch, leading.signal, failures))) {
        await pause(backoffDelay(failures++, run.retry), leading.signal);
      }
      if (leading.signal.aborted) return;
      failures = 0;
      if (!(await lease.commit(last))) return;
    }
  } finally {
    clearInterval(renewal);
    signal.removeEventListener("abort", standDown);
  }
}

/** One call of the handler on a batch: true when it succeeded; a failure is logged and recorded. */
async function runHandler(
  run: SubscriberRun,
  batch: StoredEvent[],
  leading: AbortSignal,
  failures: number,
): Promise<boolean> {
  try {
    await run.handler(batch.map(recordedEvent), { signal: leading });
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.logger.warn(
      { err: error, from: batch[0]?.position, failures: failures + 1 },
      "subscriber: handler failed; retrying with backoff",
    );
    await run.lease
      .recordError(message)
      .catch((e) => run.logger.warn({ err: e }, "subscriber: cannot record the error"));
    return false;
  }
}
