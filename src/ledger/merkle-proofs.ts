import type pg from "pg";
import {
  consistencyRanges,
  type Hash,
  inclusionRanges,
  type LeafRange,
  rangeHash,
  subtreesOf,
} from "../domain/merkle-tree.ts";
import { readSubtrees } from "../store/merkle-store.ts";
import type { Tables } from "../store/tables.ts";

type Db = pg.Pool | pg.PoolClient;

/**
 * Roots and proofs of the stored Merkle tree: each is one statement of indexed reads (at most
 * about 2 log2(n) node rows and two blocks of 15 event hashes), whatever the tree's size.
 * The caller makes sure the tree covers the sizes asked for (`merkle` checkpoint at or past them).
 */
async function hashesOf(db: Db, tables: Tables, ranges: LeafRange[]): Promise<Hash[]> {
  const lookup = await readSubtrees(db, tables, ranges.flatMap(subtreesOf));
  return ranges.map((range) => rangeHash(range, lookup));
}

export async function treeRoot(db: Db, tables: Tables, size: number): Promise<Hash> {
  const [root] = await hashesOf(db, tables, [{ start: 0, end: size }]);
  return root as Hash;
}

type Proven = { proof: Hash[]; root: Hash };

/** The inclusion proof of leaf `index` in the tree of `size`, and that tree's root. */
export function inclusionProof(db: Db, tables: Tables, index: number, size: number): Promise<Proven> {
  return withRoot(db, tables, inclusionRanges(index, size), size);
}

/** The consistency proof from `from` to `to`, and the root of the tree of `to`. */
export function consistencyProof(db: Db, tables: Tables, from: number, to: number): Promise<Proven> {
  return withRoot(db, tables, consistencyRanges(from, to), to);
}

/** The proof's hashes (one per range) and the root of the tree of `size`, in one read. */
async function withRoot(db: Db, tables: Tables, ranges: LeafRange[], size: number): Promise<Proven> {
  const hashes = await hashesOf(db, tables, [...ranges, { start: 0, end: size }]);
  return { proof: hashes.slice(0, -1), root: hashes[hashes.length - 1] as Hash };
}
