import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConcurrencyError, IdempotencyConflictError } from "../../src/store/errors.ts";
import { createEventStore, type EventStore, type Metadata } from "../../src/store/event-store.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { backends, type TestDatabase } from "../support/databases.ts";

const actor: Metadata = { actor: { kind: "system", id: "test" } };

describe.each(backends)("event store on $name", ({ open }) => {
  let ledger: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    ledger = await open();
    store = createEventStore({
      pool: ledger.db.pool,
      schema: ledger.schema,
      prepareStatements: !ledger.db.sharedSession,
    });
  });
  afterAll(async () => {
    await ledger?.close();
  });

  async function positions(): Promise<number[]> {
    const found = await ledger.db.pool.query(
      `SELECT position FROM "${ledger.schema}".events ORDER BY position`,
    );
    return found.rows.map((r) => Number(r.position));
  }

  it("lets exactly one of 16 concurrent appends with the same expected version win", async () => {
    await store.append("plugin-race", 0, [{ type: "Seeded", data: { n: 0 } }], actor);
    const attempts = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) =>
        store.append("plugin-race", 1, [{ type: "Raced", data: { contender: i } }], actor),
      ),
    );
    const won = attempts.filter((a) => a.status === "fulfilled");
    const lost = attempts.filter((a) => a.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(15);
    for (const failure of lost)
      expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    const all = await positions();
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    const stream = await store.readStream("plugin-race");
    expect(stream.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await verifyChain(store)).ok).toBe(true);
  });

  it("answers a repeated idempotency key with the first append's events and refuses another request", async () => {
    const request = [{ type: "Keyed", data: { value: 1 } }];
    const first = await store.append("plugin-keyed", "any", request, actor, "key-1");
    const again = await store.append("plugin-keyed", "any", request, actor, "key-1");
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.events.map((e) => [e.position, e.eventId, e.hash.toString("hex")])).toEqual(
      first.events.map((e) => [e.position, e.eventId, e.hash.toString("hex")]),
    );
    expect(await store.readStream("plugin-keyed")).toHaveLength(1);
    await expect(
      store.append("plugin-keyed", "any", [{ type: "Keyed", data: { value: 2 } }], actor, "key-1"),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await store.readStream("plugin-keyed")).toHaveLength(1);
  });

  it("writes many events of several streams in one chained append, or none of them", async () => {
    const before = (await store.head()).position;
    const events = Array.from({ length: 2500 }, (_, i) => ({ type: "Bulk", data: { i } }));
    const result = await store.appendMany(
      [
        { streamId: "plugin-bulk_a", events },
        { streamId: "plugin-bulk_b", events: events.slice(0, 10) },
      ],
      actor,
    );
    expect(result.events).toHaveLength(2510);
    expect(result.events.at(-1)?.position).toBe(before + 2510);
    expect((await store.readStream("plugin-bulk_b")).map((e) => e.streamVersion)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    await expect(
      store.appendMany(
        [
          { streamId: "plugin-bulk_c", events: events.slice(0, 5) },
          { streamId: "plugin-bulk_a", expectedVersion: 3, events: events.slice(0, 5) },
        ],
        actor,
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.readStream("plugin-bulk_c")).toHaveLength(0);
    expect((await store.head()).position).toBe(before + 2510);
    expect((await verifyChain(store)).ok).toBe(true);
  });

  it("reads everything back in position order, in bounded batches", async () => {
    const head = await store.head();
    const sizes: number[] = [];
    let last = 0;
    for await (const batch of store.readAllBatches(0, 1000)) {
      sizes.push(batch.length);
      for (const event of batch) {
        expect(event.position).toBe(last + 1);
        last = event.position;
      }
    }
    expect(last).toBe(head.position);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    let fromMiddle = 0;
    for await (const event of store.readAll(head.position - 3)) fromMiddle += event.position > 0 ? 1 : 0;
    expect(fromMiddle).toBe(3);
  });

  it("refuses UPDATE, DELETE and TRUNCATE on the event table", async () => {
    const events = `"${ledger.schema}".events`;
    await expect(
      ledger.db.pool.query(`UPDATE ${events} SET type = 'Edited' WHERE position = 1`),
    ).rejects.toThrow(/append-only: UPDATE/);
    await expect(ledger.db.pool.query(`DELETE FROM ${events} WHERE position = 1`)).rejects.toThrow(
      /append-only: DELETE/,
    );
    await expect(ledger.db.pool.query(`TRUNCATE ${events}`)).rejects.toThrow(/append-only: TRUNCATE/);
    expect((await verifyChain(store)).ok).toBe(true);
  });

  it("keeps recorded_at non-decreasing along positions even when the clock goes back", async () => {
    const past = createEventStore({
      pool: ledger.db.pool,
      schema: ledger.schema,
      pinnedTime: () => new Date("2001-01-01T00:00:00Z"),
    });
    const { events } = await past.append("plugin-clock", "any", [{ type: "Late", data: {} }], actor);
    const head = await store.head();
    expect(events[0]?.recordedAt.getTime()).toBeGreaterThan(new Date("2001-01-02").getTime());
    expect(head.recordedAt?.getTime()).toBe(events[0]?.recordedAt.getTime());
    expect((await verifyChain(store)).ok).toBe(true);
  });
});
