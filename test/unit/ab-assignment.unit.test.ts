import fc from "fast-check";
import murmurhash3js from "murmurhash3js";
import { describe, expect, it } from "vitest";
import { armOf, assignUnit, BASIS_POINTS, bucketOf, murmur3 } from "../../src/domain/index.ts";

/**
 * MurmurHash3_x86_32 written here from Austin Appleby's specification (SMHasher's
 * MurmurHash3.cpp), over bytes: an independent check of the package the ledger uses.
 */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const mixK = (k: number) => Math.imul(rotl(Math.imul(k, c1), 15), c2);
  let h = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const k =
      (bytes[i] ?? 0) |
      ((bytes[i + 1] ?? 0) << 8) |
      ((bytes[i + 2] ?? 0) << 16) |
      ((bytes[i + 3] ?? 0) << 24);
    h = rotl(h ^ mixK(k), 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let i = bytes.length - 1; i >= blocks; i--) tail = (tail << 8) | (bytes[i] ?? 0);
  if (bytes.length & 3) h ^= mixK(tail);
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const byteString = (bytes: number[]) => String.fromCharCode(...bytes);

/** Published MurmurHash3_x86_32 vectors (SMHasher's verification set, as collected by Ian Boyd). */
const BYTE_VECTORS: Array<[number[], number, number]> = [
  [[], 0, 0],
  [[], 1, 0x514e28b7],
  [[], 0xffffffff, 0x81f16f39],
  [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
  [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
  [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
  [[0x21, 0x43, 0x65], 0, 0x7e4a8634],
  [[0x21, 0x43], 0, 0xa0f7b07a],
  [[0x21], 0, 0x72661cf4],
  [[0, 0, 0, 0], 0, 0x2362f9de],
  [[0, 0, 0], 0, 0x85f0b427],
  [[0, 0], 0, 0x30f4c306],
  [[0], 0, 0x514e28b7],
];

/** Text vectors of the same collections and of Python's mmh3; the hash runs over UTF-8. */
const TEXT_VECTORS: Array<[string, number, number]> = [
  ["", 0, 0],
  ["", 1, 0x514e28b7],
  ["hello", 0, 0x248bfa47],
  ["Hello, world!", 1234, 0xfaf6cdb3],
  ["Hello, world!", 0x9747b28c, 0x24884cba],
  ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
  ["abc", 0, 0xb3dd93fa],
  ["aaaa", 0x9747b28c, 0x5a97808a],
  ["ππππππππ", 0x9747b28c, 0xd58063c1],
];

describe("MurmurHash3 x86 32", () => {
  it("matches the published byte vectors, in murmurhash3js and in a from-spec implementation", () => {
    for (const [bytes, seed, expected] of BYTE_VECTORS) {
      expect(referenceMurmur3(Uint8Array.from(bytes), seed)).toBe(expected);
      expect(murmurhash3js.x86.hash32(byteString(bytes), seed)).toBe(expected);
    }
  });

  it("matches the published text vectors over UTF-8", () => {
    for (const [text, seed, expected] of TEXT_VECTORS) {
      expect(referenceMurmur3(utf8(text), seed)).toBe(expected);
      expect(murmur3(text, seed)).toBe(expected);
    }
  });

  it("hashes any text as the reference hashes its UTF-8 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat(), (text, seed) => {
        expect(murmur3(text, seed)).toBe(referenceMurmur3(utf8(text), seed));
      }),
      { numRuns: 2000 },
    );
  });

  it("equals the bare package on ASCII, as Unleash's Node SDK hashes, and fixes what it reads of other text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-ascii", maxLength: 40 }), (text) => {
        expect(murmur3(text)).toBe(murmurhash3js.x86.hash32(text, 0));
      }),
    );
    // murmurhash3js keeps one low byte per UTF-16 unit: "π" (U+03C0) would hash as "\xc0".
    expect(murmurhash3js.x86.hash32("ππππππππ", 0x9747b28c)).not.toBe(0xd58063c1);
  });
});

/** Unit keys as a host would send them, from a seeded generator so that a failure repeats. */
function unitKeys(count: number, seed: number): string[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return Array.from({ length: count }, () => `acct-${next().toString(36)}-${next().toString(16)}`);
}

describe("A/B assignment", () => {
  const split = { control: "3.3.0", candidate: "3.4.0", candidateWeightBp: 1000, salt: "9f2c41d07a1e" };
  const keys = unitKeys(100_000, 20_240_501);

  it("puts bucket < weight in the candidate arm, and gives each arm its version", () => {
    expect(armOf(999, 1000)).toBe("candidate");
    expect(armOf(1000, 1000)).toBe("control");
    for (const key of keys.slice(0, 1000)) {
      const unit = assignUnit(split, key);
      expect(unit.bucket).toBe(bucketOf(split.salt, key));
      expect(unit.bucket).toBeGreaterThanOrEqual(0);
      expect(unit.bucket).toBeLessThan(BASIS_POINTS);
      expect(unit.bucket).toBe(murmur3(`${split.salt}:${key}`) % 10_000);
      expect(unit.version).toBe(unit.arm === "candidate" ? "3.4.0" : "3.3.0");
    }
  });

  it("gives the candidate arm its weight's share of 100,000 units, within one percentage point", () => {
    for (const candidateWeightBp of [100, 1000, 5000, 9000]) {
      const inCandidate = keys.filter(
        (key) => assignUnit({ ...split, candidateWeightBp }, key).arm === "candidate",
      ).length;
      const share = (100 * inCandidate) / keys.length;
      expect(Math.abs(share - candidateWeightBp / 100)).toBeLessThan(1);
    }
  });

  it("never moves a unit out of the candidate arm when the weight grows", () => {
    const weights = [1, 100, 1000, 2500, 5000, 9000, 9999];
    const sample = keys.slice(0, 20_000);
    let before = new Set<string>();
    for (const candidateWeightBp of weights) {
      const now = new Set(
        sample.filter((key) => assignUnit({ ...split, candidateWeightBp }, key).arm === "candidate"),
      );
      for (const key of before) expect(now.has(key)).toBe(true);
      expect(now.size).toBeGreaterThanOrEqual(before.size);
      before = now;
    }
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 1, max: 9999 }),
        (salt, key, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const bucket = bucketOf(salt, key);
          if (armOf(bucket, low) === "candidate") expect(armOf(bucket, high)).toBe("candidate");
        },
      ),
    );
  });

  it("draws the units afresh for a new test: another salt assigns a sizeable part differently", () => {
    const other = { ...split, salt: "0d3b7e55c2a8", candidateWeightBp: 5000 };
    const same = { ...split, candidateWeightBp: 5000 };
    const sample = keys.slice(0, 20_000);
    const moved = sample.filter((key) => assignUnit(same, key).arm !== assignUnit(other, key).arm).length;
    // Independent draws at 50% disagree on half the units.
    expect(moved / sample.length).toBeGreaterThan(0.45);
    expect(moved / sample.length).toBeLessThan(0.55);
    const sameBucket = sample.filter((key) => bucketOf(same.salt, key) === bucketOf(other.salt, key)).length;
    expect(sameBucket / sample.length).toBeLessThan(0.01);
  });
});
