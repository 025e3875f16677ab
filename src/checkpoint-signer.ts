import type { CheckpointEvery } from "./config.ts";
import type { Ledger } from "./ledger.ts";
import type { Logger } from "./log.ts";

export type CheckpointSigner = {
  /** Signs now if the rule says so; what the loop runs each turn (tests call it directly). */
  tick(): Promise<"signed" | "waiting">;
  /** Stops the loop and waits for a signature in hand. */
  stop(): Promise<void>;
};

/**
 * Signs a checkpoint of the head every `every.events` new events, or every `every.minutes`
 * minutes while there are events since the last one, whichever comes first. It polls the head
 * (every `pollMs`) until the change feed can wake it. Several processes may run it: a size is
 * signed once (the table's key), and a second signer gets the stored note back. A failure is
 * logged and retried at the next turn; it never stops the process.
 */
export function startCheckpointSigner(
  ledger: Ledger,
  every: CheckpointEvery,
  logger: Logger,
  options: { pollMs?: number; now?: () => number } = {},
): CheckpointSigner {
  const pollMs = options.pollMs ?? 5000;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: "checkpoint-signer" });
  const started = now();
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  async function tick(): Promise<"signed" | "waiting"> {
    const [{ size }, last] = await Promise.all([ledger.treeHead(), ledger.latestCheckpoint()]);
    const signedSize = last?.size ?? 0;
    if (size <= signedSize) return "waiting";
    const since = last ? last.signedAt.getTime() : started;
    const due =
      (every.events !== undefined && size - signedSize >= every.events) ||
      (every.minutes !== undefined && now() - since >= every.minutes * 60_000);
    if (!due) return "waiting";
    const checkpoint = await ledger.checkpoint();
    log.info({ size: checkpoint.size, rootHash: checkpoint.rootHash }, "checkpoint signed");
    return "signed";
  }

  const timer = setInterval(() => {
    if (stopped) return;
    running = running
      .then(tick)
      .catch((error: Error) => log.warn({ err: error.message }, "checkpoint not signed; retrying"));
  }, pollMs);
  timer.unref();

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => {});
    },
  };
}
