import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLedger, type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { createLogger } from "../../src/log.ts";
import { operatorMetadata, pluginUpgraded } from "../event-fixtures.ts";
import { latencyRows, percentilesOf } from "../latency-rows.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";

const ROUNDS = 200;
const EMBEDDED_ROUNDS = 60;

/**
 * How soon a tail hears of an append: from the start of `append` to the tail's handler receiving
 * that position, one append at a time. On the server the wake-up is the append's NOTIFY; its
 * baseline is the bare mechanism, a `pg_notify` statement until a LISTEN connection hears it.
 * On the embedded ledger (PGlite, no notifications across connections) the tail polls the head
 * every 100 ms, so its latency is the append plus on average half a poll interval.
 */
export const feed: Scenario = {
  name: "feed",
  summary: "append -> ledger.tail delivery latency: NOTIFY on the server, the poll on the embedded ledger",
  async run(context) {
    const logger = createLogger("silent");
    const ledger = createLedger(context.db, { schema: context.schema, logger });
    context.progress(`feed: ${ROUNDS} appends, each until the tail has it`);
    const server = await deliveryLatencies(ledger, context, ROUNDS, (n) =>
      context.store.append(`plugin-feed`, "any", [pluginUpgraded("feed", n)], operatorMetadata(n)),
    );
    await ledger.close();
    context.progress(`feed: ${ROUNDS} bare pg_notify round trips`);
    const bare = await bareNotify(context, ROUNDS);
    context.progress(`feed: ${EMBEDDED_ROUNDS} appends on a fresh embedded ledger`);
    const embedded = await embeddedLatencies(EMBEDDED_ROUNDS);
    return [
      ...latencyRows((q) => `append -> tail ${q}, PostgreSQL (NOTIFY)`, server, {
        baseline: bare,
        targets: { p50: [{ below: 50 }], p99: [{ below: 200 }] },
        details: { server, bare },
      }),
      ...latencyRows((q) => `append -> tail ${q}, embedded (100 ms poll)`, embedded, {
        details: { embedded },
      }),
    ];
  },
};

async function deliveryLatencies(
  ledger: Ledger,
  context: Pick<ScenarioContext, "signal">,
  rounds: number,
  append: (n: number) => Promise<{ events: Array<{ position: number }> }>,
) {
  const arrived = new Map<number, number>();
  let waiting: { position: number; resolve: () => void } | undefined;
  const head = (await ledger.status()).position;
  const tail = ledger.tail(head, (events) => {
    for (const e of events) arrived.set(e.position, performance.now());
    if (waiting && arrived.has(waiting.position)) waiting.resolve();
  });
  const samples: number[] = [];
  for (let n = 0; n < rounds && !context.signal.aborted; n++) {
    const started = performance.now();
    const { events } = await append(n);
    const position = events[0]?.position ?? 0;
    if (!arrived.has(position)) await new Promise<void>((resolve) => (waiting = { position, resolve }));
    samples.push((arrived.get(position) as number) - started);
  }
  await tail.stop();
  return summary(samples);
}

async function bareNotify(context: ScenarioContext, rounds: number) {
  const listener = context.db.newClient();
  await listener.connect();
  await listener.query("LISTEN bench_feed_baseline");
  let heard: (() => void) | undefined;
  listener.on("notification", () => heard?.());
  const samples: number[] = [];
  for (let n = 0; n < rounds && !context.signal.aborted; n++) {
    const started = performance.now();
    const arrived = new Promise<void>((resolve) => (heard = resolve));
    await context.db.pool.query("SELECT pg_notify('bench_feed_baseline', $1)", [String(n)]);
    await arrived;
    samples.push(performance.now() - started);
  }
  await listener.end();
  return summary(samples);
}

async function embeddedLatencies(rounds: number) {
  const dir = await mkdtemp(path.join(tmpdir(), "pl-bench-feed-"));
  const ledger = await openLedger({
    dataDir: dir,
    schema: "ledger",
    poolSize: 4,
    logger: createLogger("silent"),
  });
  try {
    const abort = new AbortController();
    const actor = { kind: "system" as const, id: "bench" };
    return await deliveryLatencies(ledger, abort, rounds, async (n) => {
      const result = await ledger.execute(
        { kind: "release", pluginId: "feed", version: `1.${n}.0`, author: "bench" } as never,
        { actor },
      );
      if (!result.ok || result.dryRun) throw new Error("the embedded release was refused");
      return result;
    });
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  const { p50, p99 } = percentilesOf(sorted);
  return {
    samples: samples.length,
    p50: round(p50),
    p99: round(p99),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}
