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
  return murmurhash3js.x86.hash32(isAscii(text) ? text : utf8Bytes(text), seed);
}

/**
 * bucket < weight: the candidate arm holds the lowest `weight` buckets, so raising the weight only
 * adds units to it, and a unit in the candidate arm stays there while the weight grows.
 */
export function armOf(bucket: number, candidateWeightBp: number): AbArm {
  return bucket < candidateWeightBp ? "candidate" : "control";
}

export function assignUnit(split: AbSplit, unitKey: string): UnitAssignment {
  return assignerOf(split)(unitKey);
}

/**
 * `assignUnit` for many units of one split: the salt's share of the work (its prefix, whether it
 * is ASCII) is done once. What `assignMany` runs per unit, and what `npm run bench` measures.
 */
export function assignerOf(split: AbSplit): (unitKey: string) => UnitAssignment {
  const { control, candidate, candidateWeightBp } = split;
  const prefix = `${split.salt}:`;
  const asciiPrefix = isAscii(prefix);
  return (unitKey) => {
    const text = prefix + unitKey;
    const hash = murmurhash3js.x86.hash32(asciiPrefix && isAscii(unitKey) ? text : utf8Bytes(text), 0);
    const bucket = hash % BASIS_POINTS;
    return bucket < candidateWeightBp
      ? { arm: "candidate", version: candidate, bucket }
      : { arm: "control", version: control, bucket };
  };
}

/** A loop, not a regular expression: unit keys are short, and this runs once per assignment. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`, one character per byte (U+0000..U+00FF), as murmurhash3js reads them. */
function utf8Bytes(text: string): string {
  let bytes = "";
  for (const byte of encoder.encode(text)) bytes += String.fromCharCode(byte);
  return bytes;
}
