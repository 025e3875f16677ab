import type pg from "pg";
import {
  appendLeaves,
  type Frontier,
  type Hash,
  leafHash,
  rootOfFrontier,
  verifyConsistency,
} from "../domain/merkle-tree.ts";
import {
  type Checkpoint,
  NoteError,
  openNote,
  parseCheckpoint,
  parseNote,
  type Verifier,
} from "../domain/signed-note.ts";
import type { Tables } from "../store/tables.ts";
import type { SignedCheckpoint } from "./checkpoints.ts";
import { consistencyProof } from "./merkle-proofs.ts";

export type ConsistencyCheck = {
  ok: boolean;
  /** The checkpoint held to the ledger. */
  checkpoint: { origin: string; size: number; rootHash: string } | null;
  /** The ledger's tree it was compared with. */
  treeSize: number;
  rootHash: string | null;
  /** The consistency proof from the checkpoint's size to the tree's, base64. */
  proof: string[];
  /** Whether the note's signature was checked (only with a verifier key). */
  signatureChecked: boolean;
  /** Why it does not hold; null when it does. */
  problem: string | null;
};

export type CheckpointAudit = ConsistencyCheck & {
  /** The largest stored checkpoint whose tree today's events still give; null if none does. */
  lastHolding: { size: number; rootHash: string; signedAt: string } | null;
  /** Stored checkpoints today's events no longer give. */
  broken: number[];
};

type Read = { checkpoint: Checkpoint; signatureChecked: boolean } | { problem: string };

/** The note's checkpoint, its signature checked if a verifier is given, its origin this ledger's. */
export function readCheckpointNote(note: string, origin: string, verifier?: Verifier): Read {
  try {
    const text = verifier ? openNote(note, verifier) : parseNote(note).text;
    const checkpoint = parseCheckpoint(text);
    if (checkpoint.origin !== origin) {
      return { problem: `the checkpoint is of the log "${checkpoint.origin}", this ledger is "${origin}"` };
    }
    return { checkpoint, signatureChecked: verifier !== undefined };
  } catch (error) {
    if (error instanceof NoteError) return { problem: `checkpoint: ${error.message}` };
    throw error;
  }
}

function unreadable(problem: string, treeSize: number): ConsistencyCheck {
  return {
    ok: false,
    checkpoint: null,
    treeSize,
    rootHash: null,
    proof: [],
    signatureChecked: false,
    problem,
  };
}

const describe = (c: Checkpoint) => ({
  origin: c.origin,
  size: c.size,
  rootHash: c.rootHash.toString("base64"),
});

/**
 * Does the ledger's stored tree at `treeSize` extend the checkpoint? A consistency proof from the
 * stored tree, checked: milliseconds at any size. It trusts the stored tree to be the events'
 * tree; `auditCheckpoint` does not.
 */
export async function checkConsistency(
  db: pg.Pool,
  tables: Tables,
  read: Read,
  treeSize: number,
): Promise<ConsistencyCheck> {
  if ("problem" in read) return unreadable(read.problem, treeSize);
  const { checkpoint, signatureChecked } = read;
  const base = { checkpoint: describe(checkpoint), treeSize, signatureChecked };
  if (checkpoint.size > treeSize) {
    return {
      ...base,
      ok: false,
      rootHash: null,
      proof: [],
      problem: `the checkpoint has ${checkpoint.size} events, the ledger holds ${treeSize}: events were removed`,
    };
  }
  const { proof, root } = await consistencyProof(db, tables, checkpoint.size, treeSize);
  const ok = verifyConsistency(checkpoint.size, treeSize, checkpoint.rootHash, root, proof);
  return {
    ...base,
    ok,
    rootHash: root.toString("base64"),
    proof: proof.map((h) => h.toString("base64")),
    problem: ok
      ? null
      : `the ledger's tree of ${treeSize} events does not extend the checkpoint of ${checkpoint.size}`,
  };
}

/**
 * Holds the checkpoint, and every stored one, to the events themselves: walks the events' hashes
 * once, computing the tree's root at each checkpoint's size and at the head (the stored tree is
 * not trusted, since whoever could rewrite the events could rewrite it), then checks the
 * consistency proof from the stored tree against those roots.
 */
export async function auditCheckpoint(
  db: pg.Pool,
  tables: Tables,
  read: Read,
  stored: readonly SignedCheckpoint[],
  onProgress?: (done: number, total: number) => void,
): Promise<CheckpointAudit> {
  const head = await db.query({ text: `SELECT position FROM ${tables.head}`, rowMode: "array" });
  const treeSize = Number(head.rows[0]?.[0] ?? 0);
  const sizes = new Set(stored.map((c) => c.size));
  if (!("problem" in read)) sizes.add(read.checkpoint.size);
  const roots = await rootsFromEvents(db, tables, sizes, treeSize, onProgress);
  const holds = (size: number, rootHash: string) => roots.get(size)?.toString("base64") === rootHash;
  const holding = stored.filter((c) => holds(c.size, c.rootHash));
  const last = holding[holding.length - 1];
  const audit = {
    lastHolding: last
      ? { size: last.size, rootHash: last.rootHash, signedAt: last.signedAt.toISOString() }
      : null,
    broken: stored.filter((c) => !holds(c.size, c.rootHash)).map((c) => c.size),
  };
  if ("problem" in read) return { ...unreadable(read.problem, treeSize), ...audit };
  const fromEvents = roots.get(read.checkpoint.size);
  const check = await checkConsistency(db, tables, read, treeSize);
  const headRoot = roots.get(treeSize) as Hash;
  if (fromEvents?.equals(read.checkpoint.rootHash) !== true) {
    const problem = fromEvents
      ? `today's first ${read.checkpoint.size} events give another root than the checkpoint: history was rewritten`
      : check.problem;
    return { ...check, ok: false, rootHash: headRoot.toString("base64"), problem, ...audit };
  }
  if (check.rootHash !== headRoot.toString("base64")) {
    return {
      ...check,
      ok: false,
      rootHash: headRoot.toString("base64"),
      problem: "the stored Merkle tree is not the events' tree (run rebuild)",
      ...audit,
    };
  }
  return { ...check, ...audit };
}

/** The events' tree roots at the given sizes (those up to `treeSize`), and at `treeSize` itself. */
async function rootsFromEvents(
  db: pg.Pool,
  tables: Tables,
  sizes: ReadonlySet<number>,
  treeSize: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<number, Hash>> {
  const wanted = [...sizes, treeSize].filter((s) => s <= treeSize).sort((a, b) => a - b);
  const roots = new Map<number, Hash>();
  let frontier: Frontier = [];
  let size = 0;
  const take = () => {
    while (wanted[0] === size) {
      roots.set(size, rootOfFrontier(frontier));
      wanted.shift();
    }
  };
  take();
  while (size < treeSize) {
    // The hash column only, as one bytea a batch: the cheapest way to read a million of them.
    const found = await db.query({
      text: `SELECT string_agg(hash, ''::bytea ORDER BY position) FROM (
               SELECT position, hash FROM ${tables.events} WHERE position > $1 AND position <= $2 ORDER BY position
             ) AS batch`,
      values: [size, Math.min(size + 10_000, treeSize)],
      rowMode: "array",
    });
    const joined = found.rows[0]?.[0] as Buffer | null;
    if (!joined || joined.length === 0) break;
    for (let offset = 0; offset < joined.length; offset += 32) {
      const grown = appendLeaves(frontier, size, [leafHash(joined.subarray(offset, offset + 32))]);
      frontier = grown.frontier;
      size += 1;
      take();
    }
    onProgress?.(size, treeSize);
  }
  return roots;
}
