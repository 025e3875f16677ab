import { isDeepStrictEqual } from "node:util";
import { intervalsOf, transitionsOf } from "../../projections/transitions.ts";
import type { TimelineView } from "../../src/ledger/queries/timeline.ts";
import { type TimelineWindow, timelineOf, type VersionRow } from "../../src/timeline/pieces.ts";
import { percentile } from "../closed-loop.ts";
import { PLUGIN_COUNT, pluginId } from "../event-fixtures.ts";
import { latencyRows, percentilesOf } from "../latency-rows.ts";
import { currentHistory, type SeededHistory } from "../ledger-schemas.ts";
import type { Measurement, Scenario } from "../scenario.ts";
import { mulberry32 } from "../seeded-random.ts";

/** Timed windows; a few more first warm connections, plans and caches. */
const CALLS = 300;
const WARMUP = 20;
/** The fold reads a whole stream each time: timed on fewer windows, the same kind of window. */
const FOLDS = 30;
/** A window is this share of the ledger's positions: at a million events, about 100 intervals of a plugin. */
const WINDOW_SHARE = 0.01;

type Window = { pluginId: string; from: number; to: number };

/**
 * `ledger.timeline([plugin], { from, to })` over the seeded history (a million events over 50
 * plugins by default, about 10,000 intervals each), for windows of 1% of the ledger at random
 * places and for one plugin's whole history. Baselines in the same run: the same answer by
 * folding the plugin's stream (every event of it read by its stream index, turned into
 * intervals the way the projection does, then cut and clipped by the same code), which must
 * equal the query's; and a plain indexed SELECT of the raw version_history rows of the window,
 * the floor for any read of those intervals.
 */
export const timeline: Scenario = {
  name: "timeline",
  summary:
    "ledger.timeline of one plugin (1% window, whole history) vs a fold of its stream and a raw interval SELECT",
  async run(context) {
    const history = await currentHistory(context);
    const random = mulberry32(20_260_305);
    const span = Math.max(1, Math.floor(history.head * WINDOW_SHARE));
    const windowAt = (): Window => {
      const from = 1 + Math.floor(random() * Math.max(1, history.head - span));
      return { pluginId: pluginId(Math.floor(random() * PLUGIN_COUNT)), from, to: from + span };
    };

    context.progress(
      `timeline: ${CALLS} windows of ${span.toLocaleString("en-US")} positions, query and raw SELECT interleaved`,
    );
    const query: number[] = [];
    const raw: number[] = [];
    const intervals: number[] = [];
    for (let i = 0; i < WARMUP + CALLS; i++) {
      context.signal.throwIfAborted();
      const window = windowAt();
      const timed = i >= WARMUP;
      const ways = [
        async () => {
          const started = performance.now();
          const view = await history.ledger.timeline([window.pluginId], window);
          if (timed) query.push(performance.now() - started);
          if (timed) intervals.push(view.items.length);
        },
        async () => {
          const started = performance.now();
          await rawIntervals(history, window);
          if (timed) raw.push(performance.now() - started);
        },
      ];
      for (const way of i % 2 === 0 ? ways : ways.reverse()) await way();
    }

    context.progress(
      `timeline: ${FOLDS} windows by folding the plugin's stream, each checked against the query`,
    );
    const fold: number[] = [];
    for (let i = 0; i < FOLDS; i++) {
      context.signal.throwIfAborted();
      const window = windowAt();
      const started = performance.now();
      const folded = await foldedTimeline(history, window);
      fold.push(performance.now() - started);
      await sameAnswer(history, window, folded);
    }

    context.progress("timeline: whole histories, query and fold");
    const whole: number[] = [];
    const wholeFold: number[] = [];
    let wholeIntervals = 0;
    for (let i = 0; i < FOLDS; i++) {
      context.signal.throwIfAborted();
      const window = { pluginId: pluginId(i % PLUGIN_COUNT), from: 0, to: history.head };
      let started = performance.now();
      const view = await history.ledger.timeline([window.pluginId]);
      whole.push(performance.now() - started);
      wholeIntervals = view.items.length;
      started = performance.now();
      await foldedTimeline(history, window);
      wholeFold.push(performance.now() - started);
    }

    for (const list of [query, raw, fold, whole, wholeFold]) list.sort((a, b) => a - b);
    const meanIntervals = intervals.reduce((sum, n) => sum + n, 0) / Math.max(1, intervals.length);
    const events = history.head.toLocaleString("en-US");
    const details = { windows: query.length, spanPositions: span, meanIntervals, maxMs: query.at(-1) };
    return [
      ...latencyRows(
        {
          p50: `timeline, 1% window, p50 at ${events} events (baseline: fold of the stream)`,
          p99: "timeline, 1% window, p99 (baseline: fold of the stream)",
        },
        percentilesOf(query),
        {
          baseline: percentilesOf(fold),
          targets: { p50: [{ below: 10 }] },
          details: { ...details, folds: fold.length, foldMaxMs: fold.at(-1) },
        },
      ),
      {
        metric: "timeline, 1% window, p50 (baseline: raw SELECT of its intervals)",
        unit: "ms",
        value: percentile(query, 0.5),
        baseline: percentile(raw, 0.5),
        details: { rawMaxMs: raw.at(-1) },
      },
      {
        metric: `timeline, whole history of a plugin (${wholeIntervals.toLocaleString("en-US")} intervals), p50`,
        unit: "ms",
        value: percentile(whole, 0.5),
        baseline: percentile(wholeFold, 0.5),
        details: { calls: whole.length, maxMs: whole.at(-1), foldMaxMs: wholeFold.at(-1) },
      },
    ] satisfies Measurement[];
  },
};

/** The floor: the version_history rows a window touches, by the primary key, as they are. */
async function rawIntervals(history: SeededHistory, window: Window): Promise<number> {
  const found = await history.pool.query({
    text: `SELECT * FROM ${history.store.tables.q("version_history")}
            WHERE plugin_id = $1 AND from_position > $2 AND from_position <= $3
            ORDER BY from_position`,
    values: [window.pluginId, window.from, window.to],
  });
  return found.rowCount ?? 0;
}

/** The same answer without the projection: the plugin's stream folded into intervals, then cut and clipped. */
async function foldedTimeline(history: SeededHistory, window: Window): Promise<TimelineView> {
  const events = await history.store.readStream(`plugin-${window.pluginId}`);
  const { opened } = intervalsOf(transitionsOf(events));
  const versions: VersionRow[] = opened.flatMap(({ transition: t, closedBy }) =>
    t.version === null || t.action === "deactivated"
      ? []
      : [
          {
            pluginId: t.pluginId,
            version: t.version,
            action: t.action,
            actor: JSON.parse(t.actor),
            reason: t.reason,
            from: { position: t.position, at: t.at },
            to: closedBy ? { position: closedBy.position, at: closedBy.at } : null,
            closedBy: closedBy?.action ?? null,
          },
        ],
  );
  const at = async (position: number) => {
    const found = await history.pool.query<{ recorded_at: Date }>({
      text: `SELECT recorded_at FROM ${history.store.tables.events} WHERE position = $1`,
      values: [position],
    });
    return { position, at: found.rows[0]?.recorded_at ?? new Date(0) };
  };
  const bounds: TimelineWindow = {
    from: window.from === 0 ? null : await at(window.from),
    to: await at(window.to),
  };
  return { ...bounds, items: timelineOf(versions, [], bounds) };
}

async function sameAnswer(history: SeededHistory, window: Window, folded: TimelineView): Promise<void> {
  const queried = await history.ledger.timeline([window.pluginId], window);
  if (!isDeepStrictEqual(queried.items, folded.items)) {
    throw new Error(
      `timeline(${window.pluginId}, ${window.from}..${window.to}) differs from the fold: ${queried.items.length} vs ${folded.items.length} intervals`,
    );
  }
}
