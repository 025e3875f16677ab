import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendLeaves,
  consistencyRanges,
  EMPTY_ROOT,
  type Hash,
  inclusionRanges,
  type LeafRange,
  leafHash,
  nodeHash,
  rangeHash,
  rootFromInclusion,
  rootOfFrontier,
  type Subtree,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from "../../src/domain/merkle-tree.ts";

const hex = (h: Hash) => h.toString("hex");
const fromHex = (s: string) => Buffer.from(s, "hex");

// The leaves and expected values of the certificate-transparency test suite (RFC 6962 trees),
// as published with its Go and C++ implementations.
const CT_LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(fromHex);
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
/** [leaf index, tree size, audit path]. */
const CT_PATHS: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    5,
    8,
    [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
];
/** [from size, to size, consistency proof]. */
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    6,
    8,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [
    2,
    5,
    [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  ],
];

/** A tree over leaf hashes, with every perfect subtree kept, as the store keeps them. */
function treeOf(leaves: Hash[]) {
  const { completed } = appendLeaves([], 0, leaves);
  const nodes = new Map(completed.map((n) => [`${n.level}/${n.index}`, n.hash]));
  const subtree = (s: Subtree) => {
    const found = nodes.get(`${s.level}/${s.index}`);
    if (!found) throw new Error(`no subtree ${s.level}/${s.index}`);
    return found;
  };
  return {
    root: (size: number) => rootOfFrontier(appendLeaves([], 0, leaves.slice(0, size)).frontier),
    hashes: (ranges: LeafRange[]) => ranges.map((r) => rangeHash(r, subtree)),
  };
}

// The naive definitions of RFC 6962 section 2.1, straight from the text.
function mth(d: Hash[]): Hash {
  if (d.length === 0) return EMPTY_ROOT;
  if (d.length === 1) return d[0] as Hash;
  const k = splitPoint(d.length);
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Hash[]): Hash[] {
  if (d.length <= 1) return [];
  const k = splitPoint(d.length);
  return m < k
    ? [...path(m, d.slice(0, k)), mth(d.slice(k))]
    : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Hash[], whole: boolean): Hash[] {
  if (m === d.length) return whole ? [] : [mth(d)];
  const k = splitPoint(d.length);
  return m <= k
    ? [...subproof(m, d.slice(0, k), whole), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

describe("Merkle tree: the RFC 6962 test vectors", () => {
  const leaves = CT_LEAVES.map(leafHash);
  const tree = treeOf(leaves);

  it("gives the published root of every size, and SHA-256 of nothing for the empty tree", () => {
    expect(hex(tree.root(0))).toBe(createHash("sha256").digest("hex"));
    for (let size = 1; size <= 8; size++) expect(hex(tree.root(size))).toBe(CT_ROOTS[size - 1]);
  });

  it.each(CT_PATHS)(
    "gives the published inclusion proof of leaf %i in a tree of %i",
    (index, size, expected) => {
      const proof = tree.hashes(inclusionRanges(index, size));
      expect(proof.map(hex)).toEqual(expected);
      expect(
        verifyInclusion(index, size, leaves[index] as Hash, proof, fromHex(CT_ROOTS[size - 1] as string)),
      ).toBe(true);
    },
  );

  it.each(CT_CONSISTENCY)("gives the published consistency proof from %i to %i", (from, to, expected) => {
    const proof = tree.hashes(consistencyRanges(from, to));
    expect(proof.map(hex)).toEqual(expected);
    const [fromRoot, toRoot] = [fromHex(CT_ROOTS[from - 1] as string), fromHex(CT_ROOTS[to - 1] as string)];
    expect(verifyConsistency(from, to, fromRoot, toRoot, proof)).toBe(true);
  });

  it("refuses a proof with a changed hash, a wrong index or a wrong size", () => {
    const proof = tree.hashes(inclusionRanges(5, 8));
    const root = tree.root(8);
    const leaf = leaves[5] as Hash;
    const changed = proof.map((h, i) => (i === 1 ? nodeHash(h, h) : h));
    expect(verifyInclusion(5, 8, leaf, changed, root)).toBe(false);
    expect(verifyInclusion(4, 8, leaf, proof, root)).toBe(false);
    expect(verifyInclusion(5, 4, leaf, proof, root)).toBe(false);
    expect(verifyInclusion(8, 8, leaf, proof, root)).toBe(false);
    expect(rootFromInclusion(5, 8, leaf, proof.slice(0, 2))).toBeNull();
    const consistency = tree.hashes(consistencyRanges(6, 8));
    expect(verifyConsistency(6, 8, tree.root(5), root, consistency)).toBe(false);
    expect(verifyConsistency(6, 8, tree.root(6), tree.root(7), consistency)).toBe(false);
    expect(verifyConsistency(6, 8, tree.root(6), root, consistency.slice(1))).toBe(false);
  });
});

describe("Merkle tree: against the naive recursive definition", () => {
  const MAX = 10_000;
  const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
  const tree = treeOf(leaves);
  const sizes = fc.integer({ min: 1, max: MAX });

  it("roots, from the frontier and from stored subtrees, equal MTH at random sizes", () => {
    fc.assert(
      fc.property(sizes, (size) => {
        const expected = mth(leaves.slice(0, size));
        expect(tree.root(size).equals(expected)).toBe(true);
        expect((tree.hashes([{ start: 0, end: size }])[0] as Hash).equals(expected)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it("inclusion proofs equal PATH and verify, for random leaves of random sizes", () => {
    const cases = sizes.chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
    fc.assert(
      fc.property(cases, ([size, index]) => {
        const d = leaves.slice(0, size);
        const proof = tree.hashes(inclusionRanges(index, size));
        expect(proof.map(hex)).toEqual(path(index, d).map(hex));
        expect(verifyInclusion(index, size, leaves[index] as Hash, proof, tree.root(size))).toBe(true);
        if (size > 1)
          expect(
            verifyInclusion(index, size, leaves[(index + 1) % size] as Hash, proof, tree.root(size)),
          ).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it("consistency proofs equal PROOF and verify, and fail against another tree", () => {
    const cases = sizes.chain((to) => fc.tuple(fc.integer({ min: 1, max: to }), fc.constant(to)));
    fc.assert(
      fc.property(cases, ([from, to]) => {
        const proof = tree.hashes(consistencyRanges(from, to));
        expect(proof.map(hex)).toEqual(from === to ? [] : subproof(from, leaves.slice(0, to), true).map(hex));
        expect(verifyConsistency(from, to, tree.root(from), tree.root(to), proof)).toBe(true);
        const forked = leafHash(Buffer.from("forked"));
        if (from < to) {
          const other = [...leaves.slice(0, to - 1), forked];
          expect(verifyConsistency(from, to, tree.root(from), mth(other), proof)).toBe(false);
        }
        if (from > 1) {
          const other = [forked, ...leaves.slice(1, from)];
          expect(verifyConsistency(from, to, mth(other), tree.root(to), proof)).toBe(false);
        }
      }),
      { numRuns: 30 },
    );
  });
});
