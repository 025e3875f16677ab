import { randomUUID } from "node:crypto";
import { compareInSlices } from "../closed-loop.ts";
import { operatorMetadata, pluginUpgraded } from "../event-fixtures.ts";
import type { Measurement, Scenario, ScenarioContext } from "../scenario.ts";

/**
 * Single-event appends per second through `store.append` (head lock, version lookup, hash chain,
 * one insert statement, commit), at one client and at many, against the plainest way to write the
 * same row: `BEGIN; INSERT; COMMIT` into a copy of the events table (same columns, constraints and
 * indexes; no trigger, no hash, no head row), on the same pool.
 */
export const append: Scenario = {
  name: "append",
  summary: "single-event store.append per second vs raw BEGIN; INSERT; COMMIT",
  async run(context) {
    const { settings, progress } = context;
    const rawInsert = await prepareRawInsert(context, "append_baseline");
    const measurements: Measurement[] = [];
    for (const clients of [1, settings.clients]) {
      const label = clients === 1 ? "1 client" : `${clients} clients`;
      progress(`append: store.append and raw INSERT, ${label}, ${settings.seconds} s each, alternating`);
      const { baseline, store } = await compareInSlices(
        {
          baseline: (client, n) => rawInsert(streamOf(clients, client), n),
          store: (client, n) => storeAppend(context, streamOf(clients, client), n),
        },
        { clients, seconds: settings.seconds, signal: context.signal },
      );
      measurements.push(
        {
          metric: `appends/s, ${label}`,
          unit: "events/s",
          value: store.perSecond,
          baseline: baseline.perSecond,
          // The target is for an operator's single command; at many clients the head lock serialises
          // appends by design (DESIGN.md "Scale"), which this row measures rather than judges.
          targets: clients === 1 ? [{ ratioAtLeast: 0.5 }] : [],
          details: { store, baseline },
        },
        {
          metric: `append latency p99, ${label}`,
          unit: "ms",
          value: store.latencyMs.p99,
          baseline: baseline.latencyMs.p99,
        },
      );
    }
    return measurements;
  },
};

/** A stream per loop and per run, so the baseline's (stream, version) pairs never collide. */
function streamOf(clients: number, client: number): string {
  return `plugin-c${clients}n${client}`;
}

/** One event through the run's bare store, as the append scenario measures it. */
export async function storeAppend(context: ScenarioContext, streamId: string, n: number): Promise<void> {
  const pluginId = streamId.slice("plugin-".length);
  await context.store.append(streamId, "any", [pluginUpgraded(pluginId, n)], operatorMetadata(n));
}

/**
 * Creates a baseline table `name` in the run's schema and returns one raw insert transaction into
 * it: the plainest way to write one event row. The command scenario measures against it too, in
 * a table of its own, since positions and stream versions count from 1 in each.
 */
export async function prepareRawInsert(context: ScenarioContext, name: string) {
  const { pool } = context.db;
  const table = context.store.tables.q(name);
  // LIKE copies columns, NOT NULL and CHECK constraints, and indexes (so the unique indexes and the
  // recorded_at index cost the same), but no trigger.
  await pool.query(`CREATE TABLE ${table} (LIKE ${context.store.tables.events} INCLUDING ALL)`);
  // The hash columns hold 32 bytes each as in the ledger, but nothing is computed or chained.
  const hash = Buffer.alloc(32, 0xab);
  let position = 0;
  const text = `INSERT INTO ${table} (position, stream_id, stream_version, event_id, type, schema_version,
      data, metadata, recorded_at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

  return async function rawInsert(streamId: string, n: number): Promise<void> {
    position += 1;
    const event = pluginUpgraded(streamId.slice("plugin-".length), n);
    const values = [
      position,
      streamId,
      n + 1,
      randomUUID(),
      event.type,
      1,
      JSON.stringify(event.data),
      JSON.stringify(operatorMetadata(n)),
      new Date(),
      hash,
      hash,
    ];
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query({ name: `bench-raw-insert-${context.schema}-${name}`, text, values });
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
}
