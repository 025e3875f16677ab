import type pg from "pg";

/** How long a goodbye to the server may take before the socket is simply destroyed. */
const END_WAIT_MS = 1_000;

/**
 * Lets go of a dedicated connection that may be dead or stalled: `end()` waits for the server's
 * answer, which a cut or stalled link never sends, so after a short wait the socket is destroyed.
 * Never throws; errors the connection raises afterwards are already handled by its owner.
 */
export function discardClient(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  const timer = setTimeout(() => stream?.destroy(), END_WAIT_MS);
  timer.unref?.();
  client
    .end()
    .catch(() => {})
    .finally(() => clearTimeout(timer));
}
