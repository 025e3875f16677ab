import { randomBytes } from "node:crypto";
import murmurhash3js from "murmurhash3js";
import { type AbSplit, assignerOf } from "../../src/domain/index.ts";
import type { Measurement, Scenario } from "../scenario.ts";

const KEYS = 2_000_000;
const ROUNDS = 5;

/**
 * What a trading host pays per unit once the split is loaded (`assignMany` does one lookup, then
 * this per key): the pure `assignerOf(split)`, which `assignUnit` and `assignMany` run, over
 * 2,000,000 random unit keys, in process.
 * Baseline: the bare package, `murmurhash3js.x86.hash32` of the same `salt:unitKey` strings and
 * `% 10000 < weight`, as Unleash's Node SDK buckets. The two alternate over several rounds (a
 * neighbour's load falls on both alike) and each keeps its best round. Needs no database.
 */
export const abAssignment: Scenario = {
  name: "ab-assignment",
  summary: "A/B assignments per second of the pure assignment vs the bare murmurhash3js hash, 2M keys",
  async run({ progress, signal }) {
    progress(`ab-assignment: ${KEYS.toLocaleString("en-US")} random unit keys`);
    const keys = unitKeys(KEYS);
    const split: AbSplit = {
      control: "3.3.0",
      candidate: "3.4.0",
      candidateWeightBp: 1000,
      salt: randomBytes(16).toString("hex"),
    };

    const ours = (): number => {
      let candidates = 0;
      const assign = assignerOf(split);
      for (const key of keys) if (assign(key).arm === "candidate") candidates += 1;
      return candidates;
    };
    const bare = (): number => {
      let candidates = 0;
      const { salt, candidateWeightBp } = split;
      for (const key of keys) {
        if (murmurhash3js.x86.hash32(`${salt}:${key}`, 0) % 10_000 < candidateWeightBp) candidates += 1;
      }
      return candidates;
    };

    const best = { ours: 0, bare: 0 };
    const rounds: Array<{ ours: number; bare: number }> = [];
    // A first pass of each, not counted, lets V8 optimise both loops.
    const counts = { ours: ours(), bare: bare() };
    if (counts.ours !== counts.bare) {
      throw new Error(
        `the assignment put ${counts.ours} units in the candidate arm, the bare hash ${counts.bare}`,
      );
    }
    for (let round = 1; round <= ROUNDS && !signal.aborted; round++) {
      const perSecond = { ours: timed(ours), bare: timed(bare) };
      rounds.push(perSecond);
      best.ours = Math.max(best.ours, perSecond.ours);
      best.bare = Math.max(best.bare, perSecond.bare);
      progress(
        `ab-assignment: round ${round}/${ROUNDS}: ${Math.round(perSecond.ours).toLocaleString("en-US")}/s, bare ${Math.round(perSecond.bare).toLocaleString("en-US")}/s`,
      );
    }

    const measurement: Measurement = {
      metric: "assignerOf(split)(key), in process, 2M random keys",
      unit: "assignments/s",
      value: Math.round(best.ours),
      baseline: Math.round(best.bare),
      targets: [{ above: 2_000_000 }, { ratioAtLeast: 0.5 }],
      details: {
        keys: KEYS,
        rounds: rounds.map((r) => ({ ours: Math.round(r.ours), bare: Math.round(r.bare) })),
        candidateShare: counts.ours / KEYS,
        weightBp: split.candidateWeightBp,
      },
    };
    return [measurement];

    function timed(work: () => number): number {
      const started = process.hrtime.bigint();
      work();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return KEYS / seconds;
    }
  },
};

/** Unit keys as a host sends them: an account or a symbol with a random part, ASCII. */
function unitKeys(count: number): string[] {
  const bytes = randomBytes(count * 6);
  const keys: string[] = new Array(count);
  for (let i = 0; i < count; i++) keys[i] = `acct-${bytes.toString("hex", i * 6, i * 6 + 6)}`;
  return keys;
}
