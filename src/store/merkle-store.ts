import type pg from "pg";
import {
  appendLeaves,
  type Frontier,
  type Hash,
  leafHash,
  type StoredNode,
  type Subtree,
  subtreesOf,
} from "../domain/merkle-tree.ts";
import type { Tables } from "./tables.ts";

/**
 * Where the Merkle tree's hashes come from: subtrees of 16 leaves and more from `merkle_nodes`,
 * smaller ones hashed from the events' own hashes (leaf i is the event at position i + 1). Any
 * root or proof needs at most two such partial blocks, so it is one round trip of indexed reads.
 */
export const STORED_LEVEL = 4;
const BLOCK = 2 ** STORED_LEVEL;

type Queryable = pg.Pool | pg.PoolClient;

export class MerkleTreeMissingError extends Error {
  override name = "MerkleTreeMissingError";
}

const keyOf = (s: Subtree) => `${s.level}/${s.index}`;

/** Looks up the hashes of these perfect subtrees (any level) in one statement. */
export async function readSubtrees(
  db: Queryable,
  tables: Tables,
  subtrees: readonly Subtree[],
): Promise<(s: Subtree) => Hash> {
  const stored = subtrees.filter((s) => s.level >= STORED_LEVEL);
  const positions: number[] = [];
  for (const s of subtrees) {
    if (s.level >= STORED_LEVEL) continue;
    const width = 2 ** s.level;
    for (let leaf = s.index * width; leaf < (s.index + 1) * width; leaf++) positions.push(leaf + 1);
  }
  const found = await db.query({
    text: `SELECT level, index, hash FROM ${tables.q("merkle_nodes")}
            WHERE (level, index) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))
           UNION ALL
           SELECT -1, position, hash FROM ${tables.events} WHERE position = ANY($3::bigint[])`,
    values: [stored.map((s) => s.level), stored.map((s) => s.index), positions],
    rowMode: "array",
  });
  const nodes = new Map<string, Hash>();
  const leaves = new Map<number, Hash>();
  for (const [level, index, hash] of found.rows as [number, string | number, Buffer][]) {
    if (level < 0) leaves.set(Number(index) - 1, leafHash(hash));
    else nodes.set(`${level}/${index}`, hash);
  }
  return (s) => {
    const key = keyOf(s);
    const known = nodes.get(key);
    if (known) return known;
    if (s.level >= STORED_LEVEL) {
      throw new MerkleTreeMissingError(
        `the Merkle tree has no node ${key}: it is behind the events; run rebuild`,
      );
    }
    const width = 2 ** s.level;
    const hashes: Hash[] = [];
    for (let leaf = s.index * width; leaf < (s.index + 1) * width; leaf++) {
      const hash = leaves.get(leaf);
      if (!hash) throw new MerkleTreeMissingError(`the events end before leaf ${leaf}`);
      hashes.push(hash);
    }
    const { frontier } = appendLeaves([], s.index * width, hashes);
    const node = frontier[0] as StoredNode;
    nodes.set(key, node.hash);
    return node.hash;
  };
}

/** The right edge of the tree of `size` leaves, read from the table and the last partial block. */
export async function readFrontier(db: Queryable, tables: Tables, size: number): Promise<Frontier> {
  const subtrees = subtreesOf({ start: 0, end: size });
  const lookup = await readSubtrees(db, tables, subtrees);
  return subtrees.map((s) => ({ ...s, hash: lookup(s) }));
}

/** The completed nodes worth a row: the stored levels only. */
export function storedOf(completed: readonly StoredNode[]): StoredNode[] {
  return completed.filter((n) => n.level >= STORED_LEVEL);
}

export async function insertNodes(
  client: pg.PoolClient,
  tables: Tables,
  nodes: readonly StoredNode[],
  named: (name: string) => { name?: string },
): Promise<void> {
  if (nodes.length > 0) await client.query(insertNodesStatement(tables, nodes, named));
}

export function insertNodesStatement(
  tables: Tables,
  nodes: readonly StoredNode[],
  named: (name: string) => { name?: string },
): pg.QueryConfig {
  return {
    ...named("merkle-insert"),
    text: `INSERT INTO ${tables.q("merkle_nodes")} (level, index, hash)
           SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
    values: [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
  };
}

export { BLOCK as MERKLE_BLOCK };
