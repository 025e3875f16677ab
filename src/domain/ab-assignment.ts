import murmurhash3js from "murmurhash3js";
import { BASIS_POINTS } from "./ab-weights.ts";

/** What assigning a unit needs of a running test. */
export type AbSplit = {
  control: string;
  candidate: string;
  candidateWeightBp: number;
  salt: string;
};

export type AbArm = "control" | "candidate";

export type UnitAssignment = { arm: AbArm; version: string; bucket: number };

/**
 * A unit's bucket in 0..9999: MurmurHash3 (x86, 32 bit, seed 0) of `salt:unitKey`, modulo 10,000,
 * as Unleash's gradual rollout hashes `groupId:userId` (Unleash then takes modulo 100, plus 1).
 * The salt is the test's own, so each test draws its units afresh.
 *
 * The hash runs over the key's UTF-8 bytes. murmurhash3js reads one byte per UTF-16 code unit
 * (its low byte), so a key that is not ASCII is handed over as a string of its UTF-8 bytes: for
 * ASCII keys this is exactly what Unleash's Node SDK computes, and for every key it is the
 * reference MurmurHash3_x86_32 of the UTF-8 text, which a host in another language can compute.
 */
export function bucketOf(salt: string, unitKey: string): number {
  return murmur3(`${salt}:${unitKey}`) % BASIS_POINTS;
}

/** MurmurHash3_x86_32 of the UTF-8 bytes of `text`, as an unsigned 32-bit number. */
export function murmur3(text: string, seed = 0): number {
  return murmurhash3js.x86.hash32(NOT_ASCII.test(text) ? utf8Bytes(text) : text, seed);
}

/**
 * bucket < weight: the candidate arm holds the lowest `weight` buckets, so raising the weight only
 * adds units to it, and a unit in the candidate arm stays there while the weight grows.
 */
export function armOf(bucket: number, candidateWeightBp: number): AbArm {
  return bucket < candidateWeightBp ? "candidate" : "control";
}

export function assignUnit(split: AbSplit, unitKey: string): UnitAssignment {
  const bucket = bucketOf(split.salt, unitKey);
  const arm = armOf(bucket, split.candidateWeightBp);
  return { arm, version: arm === "candidate" ? split.candidate : split.control, bucket };
}

const NOT_ASCII = /[\u0080-\uffff]/;
const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`, one character per byte (U+0000..U+00FF), as murmurhash3js reads them. */
function utf8Bytes(text: string): string {
  let bytes = "";
  for (const byte of encoder.encode(text)) bytes += String.fromCharCode(byte);
  return bytes;
}
