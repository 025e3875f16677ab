export type Backoff = { initialMs: number; maxMs: number };

/**
 * Exponential backoff with jitter: about `initialMs * 2^attempt`, never above `maxMs`, drawn from
 * the upper half so that processes failing together do not retry together.
 */
export function backoffDelay(attempt: number, { initialMs, maxMs }: Backoff, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
