import { createHash, hash } from "node:crypto";

/**
 * The Merkle tree of RFC 6962 / RFC 9162 (section 2.1) over the events, and its proofs. Pure:
 * the store hands in the hashes it read, and nothing here knows where they came from.
 *
 * Leaves are indexed from 0 (the event at position p is leaf p - 1). Sizes and indexes are plain
 * numbers, exact below 2^53; no bitwise operator is used on them, since those cut to 32 bits.
 */
export type Hash = Buffer;

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Hash = createHash("sha256").digest();

/**
 * SHA-256 of 0x00 || leaf. Both hashes here are the one-shot `crypto.hash` over one buffer made for
 * it: a rebuild takes two per event, and a `createHash` with its updates cost about twice as much
 * per call (bench/README.md, measurements).
 */
export function leafHash(leaf: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(1 + leaf.length);
  input[0] = 0x00;
  input.set(leaf, 1);
  return hash("sha256", input, "buffer") as unknown as Hash;
}

/** SHA-256 of 0x01 || left || right. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash("sha256", input, "buffer") as unknown as Hash;
}

/** A half-open range of leaves [start, end). */
export type LeafRange = { start: number; end: number };

/** A perfect subtree: 2^level leaves from index * 2^level. */
export type Subtree = { level: number; index: number };

export type StoredNode = Subtree & { hash: Hash };

/** The largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function log2(n: number): number {
  let level = 0;
  for (let k = 1; k < n; k *= 2) level += 1;
  return level;
}

/**
 * The perfect subtrees whose hashes make MTH(D[start:end]), left to right, for a range that is a
 * node of some tree (its start aligned as RFC 6962's split leaves it): a perfect one stands for
 * itself, any other splits at the largest power of two below its length.
 */
export function subtreesOf(range: LeafRange): Subtree[] {
  const length = range.end - range.start;
  if (length <= 0) return [];
  if (isPowerOfTwo(length) && range.start % length === 0) {
    return [{ level: log2(length), index: range.start / length }];
  }
  const k = splitPoint(length);
  return [
    ...subtreesOf({ start: range.start, end: range.start + k }),
    ...subtreesOf({ start: range.start + k, end: range.end }),
  ];
}

/** MTH(D[start:end]) from the hashes of its perfect subtrees (see `subtreesOf`). */
export function rangeHash(range: LeafRange, subtree: (node: Subtree) => Hash): Hash {
  const length = range.end - range.start;
  if (length <= 0) return EMPTY_ROOT;
  if (isPowerOfTwo(length) && range.start % length === 0) {
    return subtree({ level: log2(length), index: range.start / length });
  }
  const k = splitPoint(length);
  return nodeHash(
    rangeHash({ start: range.start, end: range.start + k }, subtree),
    rangeHash({ start: range.start + k, end: range.end }, subtree),
  );
}

/** The ranges whose hashes are the inclusion proof of leaf `index` in a tree of `size` (RFC 6962 PATH), leaf first. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const down = descend(
    size,
    index,
    (m, k) => m < k,
    (_m, length) => length <= 1,
  );
  return down.proof.reverse();
}

/** The ranges whose hashes are the consistency proof from size `from` to size `to` (RFC 6962 PROOF). */
export function consistencyRanges(from: number, to: number): LeafRange[] {
  if (!(from >= 0 && from <= to)) throw new RangeError(`no consistency proof from size ${from} to ${to}`);
  if (from === 0 || from === to) return [];
  const down = descend(
    to,
    from,
    (m, k) => m <= k,
    (m, length) => m === length,
  );
  // SUBPROOF's flag b: after a right turn the range it stops at is not the old root, which the
  // verifier has, so its hash is part of the proof.
  if (down.turnedRight) down.proof.push(down.stop);
  return down.proof.reverse();
}

/**
 * RFC 6962's walk down from the root of a tree of `size` leaves, towards leaf `m` (PATH) or the
 * first `m` leaves (SUBPROOF): at each split the subtree off the path is a proof range, root side
 * first. `goesLeft(m, k)` says whether the path enters the left subtree (of k leaves); the walk
 * stops at the first range where `stops(m, length)`, with `m` counted from that range's start.
 */
function descend(
  size: number,
  m: number,
  goesLeft: (m: number, k: number) => boolean,
  stops: (m: number, length: number) => boolean,
): { proof: LeafRange[]; stop: LeafRange; turnedRight: boolean } {
  const proof: LeafRange[] = [];
  let start = 0;
  let end = size;
  let turnedRight = false;
  while (!stops(m, end - start)) {
    const k = splitPoint(end - start);
    if (goesLeft(m, k)) {
      proof.push({ start: start + k, end });
      end = start + k;
    } else {
      proof.push({ start, end: start + k });
      start += k;
      m -= k;
      turnedRight = true;
    }
  }
  return { proof, stop: { start, end }, turnedRight };
}

const odd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/** The root an inclusion proof leads to (RFC 9162 2.1.3.2), or null if the proof has the wrong shape. */
export function rootFromInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
): Hash | null {
  if (!(index >= 0 && index < size)) return null;
  let r = leaf;
  const reachedRoot = climb(index, size - 1, proof, (p, onTheLeft) => {
    r = onTheLeft ? nodeHash(p, r) : nodeHash(r, p);
  });
  return reachedRoot ? r : null;
}

export function verifyInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  const computed = rootFromInclusion(index, size, leaf, proof);
  return computed?.equals(root) === true;
}

/** RFC 9162 2.1.4.2: does the tree of size `to` and root `toRoot` extend the one of size `from`? */
export function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Hash,
  toRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!(from >= 0 && from <= to)) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (from === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  const reachedRoot = climb(fn, sn, path.slice(1), (c, onTheLeft) => {
    if (onTheLeft) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    } else {
      sr = nodeHash(sr, c);
    }
  });
  return reachedRoot && fr.equals(fromRoot) && sr.equals(toRoot);
}

/**
 * The walk up the tree that both verifications take (RFC 9162 2.1.3.2 and 2.1.4.2): `fn` is the
 * node's index and `sn` the last index at its level; each proof hash is a sibling, on the left
 * when `fn` is odd or the last of its level. False when the proof is longer or shorter than the
 * path to the root.
 */
function climb(
  fn: number,
  sn: number,
  proof: readonly Hash[],
  hashWith: (sibling: Hash, onTheLeft: boolean) => void,
): boolean {
  for (const sibling of proof) {
    if (sn === 0) return false;
    const onTheLeft = odd(fn) || fn === sn;
    hashWith(sibling, onTheLeft);
    // A left child that is last of its level has no sibling: it moves up unchanged, RFC 9162's
    // "until LSB(fn) is set or fn is 0".
    while (onTheLeft && !odd(fn) && fn !== 0) {
      fn = half(fn);
      sn = half(sn);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0;
}

/**
 * The right edge of a tree: its perfect subtrees left to right (one per set bit of its size,
 * largest first). Enough to append leaves and to compute the root, without the rest of the tree.
 */
export type Frontier = StoredNode[];

/**
 * Appends leaf hashes to a tree of `size` leaves with this frontier. Returns the new frontier and
 * every perfect subtree the leaves completed (each leaf is one; about two nodes a leaf in all).
 */
export function appendLeaves(
  frontier: Frontier,
  size: number,
  leaves: readonly Hash[],
): { frontier: Frontier; completed: StoredNode[] } {
  const next = [...frontier];
  const completed: StoredNode[] = [];
  let index = size;
  for (const leaf of leaves) {
    let node: StoredNode = { level: 0, index, hash: leaf };
    completed.push(node);
    let last = next[next.length - 1];
    while (last !== undefined && last.level === node.level) {
      next.pop();
      node = { level: node.level + 1, index: last.index / 2, hash: nodeHash(last.hash, node.hash) };
      completed.push(node);
      last = next[next.length - 1];
    }
    next.push(node);
    index += 1;
  }
  return { frontier: next, completed };
}

/** MTH of the whole tree, from its frontier. */
export function rootOfFrontier(frontier: Frontier): Hash {
  let root: Hash | undefined;
  for (let i = frontier.length - 1; i >= 0; i--) {
    const node = (frontier[i] as StoredNode).hash;
    root = root === undefined ? node : nodeHash(node, root);
  }
  return root ?? EMPTY_ROOT;
}
