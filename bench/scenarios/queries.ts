import { isDeepStrictEqual } from "node:util";
import { PLUGIN_COUNT, pluginId } from "../event-fixtures.ts";
import { latencyRows, percentilesOf } from "../latency-rows.ts";
import { currentHistory, type SeededHistory } from "../ledger-schemas.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { mulberry32 } from "../seeded-random.ts";

/** Timed calls of each query, interleaved; a few more first warm connections, plans and caches. */
const CALLS = 500;
const WARMUP = 20;

type Kind = "asOf(position)" | "asOf(Date)" | "history(pluginId)";

/**
 * The read side at the seeded history (a million events over 50 plugins by default): `asOf` at
 * random positions and at random moments, and `history` of a random plugin, each an indexed
 * read of the projections, timed call by call with the three kinds interleaved. Baseline: what
 * the same answer costs without the projections, `ledger.replay({ to })`, a full fold of the
 * events up to the same point, timed a few times only (each reads up to the whole history); its
 * answer must equal the query's. For `history`, the point is the head.
 */
export const queries: Scenario = {
  name: "queries",
  summary:
    "asOf(position), asOf(Date) and history(pluginId) latency vs ledger.replay({ to }) to the same point",
  async run(context) {
    const history = await currentHistory(context);
    const { ledger } = history;
    const { first, last } = await timeSpan(context, history);
    const random = mulberry32(20_260_301);
    const point = {
      position: () => 1 + Math.floor(random() * history.head),
      date: () => new Date(first + random() * (last - first)),
      plugin: () => pluginId(Math.floor(random() * PLUGIN_COUNT)),
    };
    const calls: Record<Kind, () => Promise<unknown>> = {
      "asOf(position)": () => ledger.asOf(point.position()),
      "asOf(Date)": () => ledger.asOf(point.date()),
      "history(pluginId)": () => ledger.history(point.plugin()),
    };
    const kinds = Object.keys(calls) as Kind[];
    const latencies = new Map<Kind, number[]>(kinds.map((kind) => [kind, []]));
    context.progress(`queries: ${CALLS} calls of each of ${kinds.join(", ")}, interleaved`);
    for (let i = 0; i < WARMUP + CALLS; i++) {
      context.signal.throwIfAborted();
      for (const kind of i % 2 === 0 ? kinds : [...kinds].reverse()) {
        const started = performance.now();
        await calls[kind]();
        if (i >= WARMUP) latencies.get(kind)?.push(performance.now() - started);
      }
    }

    const replays: Record<Kind, Replay> = {
      "asOf(position)": await replayTo(context, history, point.position()),
      "asOf(Date)": await replayTo(context, history, point.date()),
      "history(pluginId)": await replayTo(context, history, history.head),
    };

    const at = history.head.toLocaleString("en-US");
    return kinds.flatMap((kind) => {
      const sorted = (latencies.get(kind) ?? []).sort((a, b) => a - b);
      const replay = replays[kind];
      return latencyRows({ p50: `${kind} p50 at ${at} events`, p99: `${kind} p99` }, percentilesOf(sorted), {
        baseline: replay.ms,
        targets: { p50: [{ below: 5 }], p99: [{ below: 20 }] },
        details: { calls: sorted.length, maxMs: sorted.at(-1), replay },
      });
    });
  },
};

type Replay = { ms: number; to: number | string };

/**
 * Times `ledger.replay({ to: at })` and checks that `asOf` answers the same there (for
 * `history`, whose replay point is the head, that proves the version_history rows it reads).
 */
async function replayTo(
  context: ScenarioContext,
  history: SeededHistory,
  at: number | Date,
): Promise<Replay> {
  const to = at instanceof Date ? at.toISOString() : at;
  context.progress(`queries: ledger.replay({ to: ${to} })`);
  const started = performance.now();
  const replayed = await history.ledger.replay({ to: at });
  const ms = performance.now() - started;
  if (!isDeepStrictEqual(replayed, await history.ledger.asOf(at))) {
    throw new Error(`asOf(${to}) differs from the replay to the same point`);
  }
  return { ms, to };
}

async function timeSpan(context: ScenarioContext, history: SeededHistory) {
  const found = await context.db.pool.query<{ first: Date; last: Date }>(
    `SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM ${history.store.tables.events}`,
  );
  const row = found.rows[0];
  if (!row) throw new Error("the seeded history is empty");
  return { first: row.first.getTime(), last: row.last.getTime() };
}
