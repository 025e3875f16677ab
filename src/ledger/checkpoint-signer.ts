import type { CheckpointEvery } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Ledger } from "./ledger.ts";

/** The durable subscriber that signs every `events` events (as `plugin-ledger subscriptions` lists it). */
export const CHECKPOINT_SIGNER = "checkpoint-signer";

export type CheckpointSigner = {
  /**
   * Signs a checkpoint of the head now if a rule says so: `minutes` since the last one with
   * events since, or `events` unsigned events already there (at start, before any new event
   * reaches the subscriber). What the timer runs in the process that leads; tests call it directly.
   */
  tick(): Promise<"signed" | "waiting">;
  /** True while this process runs the subscriber (and so the timer's rule). */
  readonly leading: boolean;
  /** Stops the subscriber and the timer, and waits for a signature in hand. */
  stop(): Promise<void>;
};

type SignerLedger = Pick<Ledger, "subscribe" | "head" | "latestCheckpoint" | "checkpoint">;

/**
 * Signs checkpoints as the log grows, in any long-running process that has the key (bot, serve,
 * npm start):
 * - every `every.events` events, from the change feed: a durable subscriber (CHECKPOINT_SIGNER)
 *   signs the tree at the position that is `events` past the last stored checkpoint, whoever
 *   signed that one (this rule, the timer, or `plugin-ledger checkpoint`). So the signed sizes
 *   do not depend on how the feed batched the events. A new subscriber starts at the head.
 * - every `every.minutes` minutes while there are events since the last checkpoint, on a timer
 *   (every `pollMs`) that only the process running the subscriber acts on, so several processes
 *   do not sign the same minutes over.
 * A size is signed once (the table's key, and signing a stored size returns its note), so a batch
 * handled again after a crash, or two processes meeting, never make two checkpoints of one size.
 * A failure to sign fails the batch, which the subscriber retries with backoff (its error shown
 * by `plugin-ledger subscriptions`); a failed tick is logged and tried again at the next one.
 */
export function startCheckpointSigner(
  ledger: SignerLedger,
  every: CheckpointEvery,
  logger: Logger,
  options: { pollMs?: number; now?: () => number } = {},
): CheckpointSigner {
  const pollMs = options.pollMs ?? 5000;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: CHECKPOINT_SIGNER });
  const started = now();
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const signed = (size: number, rootHash: string, why: string) =>
    log.info({ size, rootHash, why }, "checkpoint signed");

  const subscription = ledger.subscribe(
    CHECKPOINT_SIGNER,
    async (events) => {
      if (every.events === undefined) return;
      let last = (await ledger.latestCheckpoint())?.size ?? 0;
      for (const { position } of events) {
        if (position - last < every.events) continue;
        const checkpoint = await ledger.checkpoint(position);
        signed(checkpoint.size, checkpoint.rootHash, "events");
        last = checkpoint.size;
      }
    },
    { from: "head" },
  );

  async function tick(): Promise<"signed" | "waiting"> {
    const [size, last] = await Promise.all([ledger.head(), ledger.latestCheckpoint()]);
    const signedSize = last?.size ?? 0;
    if (size <= signedSize) return "waiting";
    const since = last ? last.signedAt.getTime() : started;
    const due =
      (every.events !== undefined && size - signedSize >= every.events) ||
      (every.minutes !== undefined && now() - since >= every.minutes * 60_000);
    if (!due) return "waiting";
    const checkpoint = await ledger.checkpoint();
    signed(checkpoint.size, checkpoint.rootHash, "timer");
    return "signed";
  }

  const timer = setInterval(() => {
    if (stopped || !subscription.active) return;
    running = running
      .then(tick)
      .catch((error: Error) => log.warn({ err: error.message }, "checkpoint not signed; retrying"));
  }, pollMs);
  timer.unref();

  return {
    tick,
    get leading() {
      return subscription.active;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([subscription.stop(), running.catch(() => {})]);
    },
  };
}
