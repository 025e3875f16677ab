import { growTree, readHashes } from "../../projections/merkle.ts";
import type { EventStore } from "../store/index.ts";

/** Events per read while catching up: a few seconds of hashing per million. */
const BATCH = 10_000;

/** How far the tree is behind the events (0 when it is at the head). */
export async function merkleLag(store: EventStore): Promise<{ tree: number; head: number }> {
  const { tables } = store;
  const found = await store.pool.query({
    text: `SELECT (SELECT position FROM ${tables.checkpoints} WHERE projection = 'merkle'), position FROM ${tables.head}`,
    rowMode: "array",
  });
  const [tree, head] = (found.rows[0] ?? [0, 0]) as [number | null, number];
  return { tree: tree ?? 0, head };
}

/**
 * Brings the Merkle tree up to the head from where it stopped: on a ledger that had history
 * before the tree existed, and after appends made without projections. It adds to the tree,
 * never rewrites it, under the head lock like an append (nothing appends meanwhile). The other
 * projections are left to `rebuild`. Returns the number of events added.
 */
export async function catchUpMerkle(
  store: EventStore,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const lag = await merkleLag(store);
  if (lag.tree >= lag.head) return 0;
  return store.transact(async ({ client, tables, head, named }) => {
    const found = await client.query({
      text: `SELECT position FROM ${tables.checkpoints} WHERE projection = 'merkle'`,
      rowMode: "array",
    });
    const from = Number(found.rows[0]?.[0] ?? 0);
    // Only the hash column, read in this transaction (through PGlite's socket another
    // connection would wait for it).
    let done = 0;
    for (let after = from; after < head.position; after += BATCH) {
      const to = Math.min(after + BATCH, head.position);
      const { before, hashes } = await readHashes(client, tables, after, to);
      await growTree(client, tables, named, after, before, hashes);
      done += hashes.length;
      onProgress?.(done, head.position - from);
    }
    await client.query({
      text: `INSERT INTO ${tables.checkpoints} (projection, position, updated_at) VALUES ('merkle', $1, now())
             ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
      values: [head.position],
    });
    return done;
  });
}
