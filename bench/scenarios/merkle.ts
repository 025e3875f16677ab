import { merkle as merkleProjection } from "../../projections/merkle.ts";
import { appendLeaves, type Frontier, leafHash, rootOfFrontier } from "../../src/domain/merkle-tree.ts";
import { formatCheckpoint, signerFromSeed, signNote } from "../../src/domain/signed-note.ts";
import { checkpointStore } from "../../src/ledger/checkpoints.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { catchUpMerkle } from "../../src/ledger/merkle-catch-up.ts";
import { treeRoot } from "../../src/ledger/merkle-proofs.ts";
import { createLogger } from "../../src/log.ts";
import { migrate } from "../../src/store/migrate.ts";
import { type AppendingStore, appendingStore } from "../../test/support/appending-store.ts";
import { compareInSlices, percentile } from "../closed-loop.ts";
import { operatorMetadata, pluginUpgraded } from "../event-fixtures.ts";
import { seededHistory } from "../ledger-schemas.ts";
import type { Measurement, Scenario, ScenarioContext } from "../scenario.ts";
import { mulberry32 } from "../seeded-random.ts";

const CALLS = 200;
const WARMUP = 10;
const EARLIER_CHECKPOINTS = 20;

/**
 * The Merkle tree at the seeded history (BENCH_EVENTS): a checkpoint's root and signature, an
 * inclusion proof file (`ledger.prove`), a consistency check of an earlier checkpoint
 * (`ledger.checkConsistency`), each timed call by call; baseline for all three, the plain way
 * without the stored tree: the root from one pass over the events' hashes. Then what the tree
 * costs an append: single-event `store.append` with the merkle projection against the same
 * without it, each in a schema of its own, alternating in slices.
 */
export const merkle: Scenario = {
  name: "merkle",
  summary:
    "checkpoint, inclusion proof and consistency check at BENCH_EVENTS; append with the tree vs without",
  async run(context) {
    const history = await seededHistory(context);
    const { pool } = context.db;
    const signer = signerFromSeed("bench/merkle", Buffer.alloc(32, 42));
    const ledger = createLedger(context.db, {
      schema: history.schema,
      logger: createLogger("warn"),
      origin: signer.name,
      signer,
    });
    const fillStarted = performance.now();
    context.progress("merkle: filling the tree from the seeded events (as a first open does)");
    const filled = await catchUpMerkle(history.store);
    const fillMs = performance.now() - fillStarted;
    const { tables } = history.store;
    const size = history.head;

    const random = mulberry32(20_261_130);
    const sizes = Array.from({ length: EARLIER_CHECKPOINTS }, () => 1 + Math.floor(random() * (size - 1)));
    const checkpoints = await ledger.checkpoints();
    const store = checkpointStore(pool, tables);
    const notes: string[] = [];
    for (const s of sizes) notes.push((await store.sign(signer, signer.name, s)).note);
    const head = await ledger.checkpoint();
    context.progress(
      `merkle: ${checkpoints.length + notes.length + 1} checkpoints; timing ${CALLS} calls of each`,
    );

    const timings = { checkpoint: [] as number[], prove: [] as number[], consistency: [] as number[] };
    for (let i = 0; i < WARMUP + CALLS; i++) {
      context.signal.throwIfAborted();
      const keep = i >= WARMUP;
      let started = performance.now();
      // What `checkpoint` does for a size not yet signed: the root and the signature.
      const rootHash = await treeRoot(pool, tables, size);
      signNote(formatCheckpoint({ origin: signer.name, size, rootHash }), signer);
      if (keep) timings.checkpoint.push(performance.now() - started);
      started = performance.now();
      await ledger.prove(1 + Math.floor(random() * size), size);
      if (keep) timings.prove.push(performance.now() - started);
      started = performance.now();
      const check = await ledger.checkConsistency(notes[i % notes.length] as string);
      if (keep) timings.consistency.push(performance.now() - started);
      if (!check.ok) throw new Error(`consistency check failed: ${check.problem}`);
    }
    const baseline = await rootFromEvents(context, tables.events, size);
    if (baseline.root !== head.rootHash)
      throw new Error("the stored tree's root differs from the events' root");

    const rows: Measurement[] = [];
    const at = size.toLocaleString("en-US");
    for (const [kind, below] of [
      ["checkpoint (root + signature)", 50],
      ["inclusion proof (ledger.prove)", 20],
      ["consistency check", 50],
    ] as const) {
      const key = kind.startsWith("checkpoint")
        ? "checkpoint"
        : kind.startsWith("inclusion")
          ? "prove"
          : "consistency";
      const sorted = timings[key].sort((a, b) => a - b);
      rows.push({
        metric: `${kind} p50 at ${at} events`,
        unit: "ms",
        value: percentile(sorted, 0.5),
        baseline: baseline.ms,
        targets: [{ below }],
        details: { p99: percentile(sorted, 0.99), max: sorted.at(-1), calls: sorted.length },
      });
    }
    // When the rebuild scenario ran first, it filled the tree already: nothing to report.
    if (filled > 0)
      rows.push({
        metric: "tree filled from the events",
        unit: "events/s",
        value: filled > 0 ? filled / (fillMs / 1000) : 0,
        details: { events: filled, ms: fillMs },
      });
    rows.push(...(await appendWithAndWithout(context)));
    return rows;
  },
};

/** The root the plain way: every event hash read (one bytea a batch) and folded into a tree. */
async function rootFromEvents(context: ScenarioContext, events: string, size: number) {
  const started = performance.now();
  let frontier: Frontier = [];
  for (let from = 0; from < size; from += 10_000) {
    const found = await context.db.pool.query({
      text: `SELECT string_agg(hash, ''::bytea ORDER BY position) FROM ${events} WHERE position > $1 AND position <= $2`,
      values: [from, Math.min(from + 10_000, size)],
      rowMode: "array",
    });
    const joined = found.rows[0]?.[0] as Buffer;
    const leaves = [];
    for (let o = 0; o < joined.length; o += 32) leaves.push(leafHash(joined.subarray(o, o + 32)));
    frontier = appendLeaves(frontier, from, leaves).frontier;
  }
  return { ms: performance.now() - started, root: rootOfFrontier(frontier).toString("base64") };
}

async function appendWithAndWithout(context: ScenarioContext): Promise<Measurement[]> {
  const logger = createLogger("warn");
  const stores = await Promise.all(
    (["tree", "bare"] as const).map(async (name) => {
      const schema = `${context.schema}_merkle_${name}`;
      await migrate(context.db.pool, schema, logger);
      return appendingStore({
        pool: context.db.pool,
        schema,
        prepareStatements: true,
        projections: name === "tree" ? [merkleProjection] : [],
      });
    }),
  );
  const [tree, bare] = stores as [AppendingStore, AppendingStore];
  const { settings } = context;
  context.progress(
    `merkle: single-event appends with the tree and without, ${settings.seconds} s each, alternating`,
  );
  const arms = {
    bare: (_: number, n: number) =>
      bare.append("plugin-m", "any", [pluginUpgraded("m", n)], operatorMetadata(n)).then(() => {}),
    tree: (_: number, n: number) =>
      tree.append("plugin-m", "any", [pluginUpgraded("m", n)], operatorMetadata(n)).then(() => {}),
  };
  const result = await compareInSlices(arms, {
    clients: 1,
    seconds: settings.seconds,
    signal: context.signal,
  });
  return [
    {
      metric: "appends/s with the tree, 1 client",
      unit: "events/s",
      value: result.tree.perSecond,
      baseline: result.bare.perSecond,
      targets: [{ ratioAtLeast: 0.8 }],
      details: { tree: result.tree, bare: result.bare },
    },
    {
      metric: "append latency p99 with the tree",
      unit: "ms",
      value: result.tree.latencyMs.p99,
      baseline: result.bare.latencyMs.p99,
    },
  ];
}
