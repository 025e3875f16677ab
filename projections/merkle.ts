import type pg from "pg";
import { appendLeaves, type Frontier, type Hash, leafHash } from "../src/domain/merkle-tree.ts";
import { insertNodes, readFrontier, storedOf } from "../src/merkle-store.ts";
import type { StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import type { LedgerProjection } from "./ledger-projection.ts";

/**
 * The Merkle tree over the events' hashes (`merkle_nodes`, see its migration): each batch's
 * leaves are added to the tree's right edge, and the subtrees of 16 leaves and more they complete
 * are inserted in one statement; most single-event appends complete none and write nothing.
 *
 * The right edge of the last tree this process saw is kept per schema, so that an append does
 * not read it back. It is used only for a batch that chains onto it: the batch's first event
 * names the hash of the event before it, and the hash chain makes that hash stand for every
 * leaf before it. After an append by another process, a rolled-back one or a rewrite, it does
 * not match and the edge is read from the table (one statement).
 */
type Edge = { size: number; lastLeaf: Buffer; frontier: Frontier };
const edges = new Map<string, Edge>();

export const merkle: LedgerProjection = {
  name: "merkle",
  tables: ["merkle_nodes"],
  async apply(client, events, tables, named) {
    const first = events[0];
    const last = events[events.length - 1];
    if (!first || !last) return;
    const size = first.position - 1;
    const { before, hashes } = await chainOf(client, tables, events);
    const known = edges.get(tables.schema);
    const frontier =
      size === 0
        ? []
        : known && known.size === size && known.lastLeaf.equals(before)
          ? known.frontier
          : await readFrontier(client, tables, size);
    const grown = appendLeaves(frontier, size, hashes.map(leafHash));
    await insertNodes(client, tables, storedOf(grown.completed), named);
    edges.set(tables.schema, {
      size: last.position,
      lastLeaf: hashes[hashes.length - 1] as Hash,
      frontier: grown.frontier,
    });
  },
};

/**
 * The batch's event hashes and the hash before them. A rebuild reads events without their hash
 * columns (they cost a sixth of a read); then this reads them, as one bytea for the batch.
 */
async function chainOf(
  client: pg.PoolClient,
  tables: Tables,
  events: StoredEvent[],
): Promise<{ before: Buffer; hashes: Buffer[] }> {
  const first = events[0] as StoredEvent;
  if (first.hash.length === 32) return { before: first.prevHash, hashes: events.map((e) => e.hash) };
  const last = events[events.length - 1] as StoredEvent;
  const found = await client.query({
    text: `SELECT string_agg(hash, ''::bytea ORDER BY position) FROM ${tables.events}
            WHERE position BETWEEN $1 AND $2`,
    values: [first.position - 1, last.position],
    rowMode: "array",
  });
  const joined = (found.rows[0]?.[0] as Buffer | null) ?? Buffer.alloc(0);
  const count = last.position - first.position + 1;
  const offset = joined.length - count * 32;
  if (offset < 0 || (offset !== 0 && offset !== 32)) {
    throw new Error(`positions ${first.position}..${last.position} are not all in the events table`);
  }
  const hashes = Array.from({ length: count }, (_, i) =>
    joined.subarray(offset + i * 32, offset + (i + 1) * 32),
  );
  return { before: offset === 32 ? joined.subarray(0, 32) : Buffer.alloc(32), hashes };
}
