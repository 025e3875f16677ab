import type pg from "pg";
import { appendLeaves, type Frontier, leafHash } from "../src/domain/merkle-tree.ts";
import type { StatementNamer } from "../src/store/index.ts";
import { insertNodes, insertNodesStatement, readFrontier, storedOf } from "../src/store/merkle-store.ts";
import type { Tables } from "../src/store/tables.ts";
import type { HashFold, LedgerProjection } from "./ledger-projection.ts";

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
  /** Without a read only when the batch chains onto the edge kept here. */
  plan(events, tables, named) {
    const first = events[0];
    if (!first) return [];
    const size = first.position - 1;
    const known = edges.get(tables.schema);
    const frontier =
      size === 0
        ? []
        : known && known.size === size && known.lastLeaf.equals(first.prevHash)
          ? known.frontier
          : null;
    if (frontier === null) return null;
    const { nodes } = grow(
      tables,
      size,
      frontier,
      events.map((e) => e.hash),
    );
    return nodes.length > 0 ? [insertNodesStatement(tables, nodes, named)] : [];
  },
  async apply(client, events, tables, named) {
    const first = events[0];
    if (!first) return;
    // Appends hand over what they wrote, hashes included; events read without their hash
    // columns (a rebuild's typed folds) must never reach the tree.
    if (first.hash.length !== 32) throw new Error("the Merkle tree was handed events without their hashes");
    const hashes = events.map((e) => e.hash);
    await growTree(client, tables, named, first.position - 1, first.prevHash, hashes);
  },
  rebuild: { fromHashes: treeFromScratch },
};

/**
 * Adds the event hashes that follow the first `size` events (`before` being the hash of the
 * last of those) to the tree, and inserts the stored subtrees they complete.
 */
export async function growTree(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  size: number,
  before: Buffer,
  hashes: readonly Buffer[],
): Promise<void> {
  const last = hashes[hashes.length - 1];
  if (last === undefined) return;
  const known = edges.get(tables.schema);
  const frontier =
    size === 0
      ? []
      : known && known.size === size && known.lastLeaf.equals(before)
        ? known.frontier
        : await readFrontier(client, tables, size);
  await insertNodes(client, tables, grow(tables, size, frontier, hashes).nodes, named);
}

/**
 * A rebuild's tree, from no leaf: its chain walk hands over the hashes it read and checked, batch
 * by batch (see projections/rebuild.ts), and gets back the insert of the subtrees each completes.
 * Nothing is read back: the walk holds every hash, and the edge is kept here between batches.
 */
function treeFromScratch(tables: Tables, named: StatementNamer): HashFold {
  let size = 0;
  let frontier: Frontier = [];
  return (hashes) => {
    if (hashes.length === 0) return null;
    const grown = grow(tables, size, frontier, hashes);
    size += hashes.length;
    frontier = grown.frontier;
    return grown.nodes.length > 0 ? insertNodesStatement(tables, grown.nodes, named) : null;
  };
}

/** Adds the leaves to the edge, keeps the new edge, and answers it with the nodes worth a row. */
function grow(tables: Tables, size: number, frontier: Frontier, hashes: readonly Buffer[]) {
  const grown = appendLeaves(frontier, size, hashes.map(leafHash));
  const last = hashes[hashes.length - 1] as Buffer;
  edges.set(tables.schema, { size: size + hashes.length, lastLeaf: last, frontier: grown.frontier });
  return { nodes: storedOf(grown.completed), frontier: grown.frontier };
}

/**
 * The hashes of the events after position `after` up to `to`, and the hash at `after` (zeros
 * for 0): one bytea for the whole range, the cheapest way to read many of them.
 */
export async function readHashes(
  client: pg.PoolClient,
  tables: Tables,
  after: number,
  to: number,
): Promise<{ before: Buffer; hashes: Buffer[] }> {
  const found = await client.query({
    text: `SELECT string_agg(hash, ''::bytea ORDER BY position) FROM ${tables.events}
            WHERE position BETWEEN $1 AND $2`,
    values: [after, to],
    rowMode: "array",
  });
  const joined = (found.rows[0]?.[0] as Buffer | null) ?? Buffer.alloc(0);
  const count = to - after;
  const offset = joined.length - count * 32;
  if (offset !== (after === 0 ? 0 : 32)) {
    throw new Error(`positions ${after + 1}..${to} are not all in the events table`);
  }
  const hashes = Array.from({ length: count }, (_, i) =>
    joined.subarray(offset + i * 32, offset + (i + 1) * 32),
  );
  return { before: offset === 32 ? joined.subarray(0, 32) : Buffer.alloc(32), hashes };
}
