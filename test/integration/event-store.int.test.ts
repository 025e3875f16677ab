import { describe, expect, it } from "vitest";
import { ConcurrencyError, IdempotencyConflictError } from "../../src/store/errors.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { appendingStore } from "../support/appending-store.ts";
import { backends } from "../support/databases.ts";
import { actor, storeFixture } from "../support/store-fixture.ts";

describe.each(backends)("event store on $name", ({ open }) => {
  const f = storeFixture(open);

  async function positions(): Promise<number[]> {
    const found = await f.ledger.db.pool.query(
      `SELECT position FROM "${f.ledger.schema}".events ORDER BY position`,
    );
    return found.rows.map((r) => Number(r.position));
  }

  it("lets exactly one of 16 concurrent appends with the same expected version win", async () => {
    await f.store.append("plugin-race", 0, [{ type: "Seeded", data: { n: 0 } }], actor);
    const attempts = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) =>
        f.store.append("plugin-race", 1, [{ type: "Raced", data: { contender: i } }], actor),
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
    const stream = await f.store.readStream("plugin-race");
    expect(stream.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });

  it("answers a repeated idempotency key with the first append's events and refuses another request", async () => {
    const request = [{ type: "Keyed", data: { value: 1 } }];
    const first = await f.store.append("plugin-keyed", "any", request, actor, "key-1");
    const again = await f.store.append("plugin-keyed", "any", request, actor, "key-1");
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.events.map((e) => [e.position, e.eventId, e.hash.toString("hex")])).toEqual(
      first.events.map((e) => [e.position, e.eventId, e.hash.toString("hex")]),
    );
    expect(await f.store.readStream("plugin-keyed")).toHaveLength(1);
    await expect(
      f.store.append("plugin-keyed", "any", [{ type: "Keyed", data: { value: 2 } }], actor, "key-1"),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await f.store.readStream("plugin-keyed")).toHaveLength(1);
  });

  it("writes many events of several streams in one chained append, or none of them", async () => {
    const before = (await f.store.head()).position;
    const events = Array.from({ length: 2500 }, (_, i) => ({ type: "Bulk", data: { i } }));
    const result = await f.store.appendMany(
      [
        { streamId: "plugin-bulk_a", events },
        { streamId: "plugin-bulk_b", events: events.slice(0, 10) },
      ],
      actor,
    );
    expect(result.events).toHaveLength(2510);
    expect(result.events.at(-1)?.position).toBe(before + 2510);
    expect((await f.store.readStream("plugin-bulk_b")).map((e) => e.streamVersion)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    await expect(
      f.store.appendMany(
        [
          { streamId: "plugin-bulk_c", events: events.slice(0, 5) },
          { streamId: "plugin-bulk_a", expectedVersion: 3, events: events.slice(0, 5) },
        ],
        actor,
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await f.store.readStream("plugin-bulk_c")).toHaveLength(0);
    expect((await f.store.head()).position).toBe(before + 2510);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });

  it("reads everything back in position order, in bounded batches", async () => {
    const head = await f.store.head();
    const sizes: number[] = [];
    let last = 0;
    for await (const batch of f.store.readAllBatches(0, 1000)) {
      sizes.push(batch.length);
      for (const event of batch) {
        expect(event.position).toBe(last + 1);
        last = event.position;
      }
    }
    expect(last).toBe(head.position);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    let fromMiddle = 0;
    for await (const event of f.store.readAll(head.position - 3)) fromMiddle += event.position > 0 ? 1 : 0;
    expect(fromMiddle).toBe(3);
  });

  it("refuses UPDATE, DELETE and TRUNCATE on the event table", async () => {
    const events = `"${f.ledger.schema}".events`;
    await expect(
      f.ledger.db.pool.query(`UPDATE ${events} SET type = 'Edited' WHERE position = 1`),
    ).rejects.toThrow(/append-only: UPDATE/);
    await expect(f.ledger.db.pool.query(`DELETE FROM ${events} WHERE position = 1`)).rejects.toThrow(
      /append-only: DELETE/,
    );
    await expect(f.ledger.db.pool.query(`TRUNCATE ${events}`)).rejects.toThrow(/append-only: TRUNCATE/);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });

  it("keeps recorded_at non-decreasing along positions even when the clock goes back", async () => {
    const past = appendingStore({
      pool: f.ledger.db.pool,
      schema: f.ledger.schema,
      pinnedTime: () => new Date("2001-01-01T00:00:00Z"),
    });
    const { events } = await past.append("plugin-clock", "any", [{ type: "Late", data: {} }], actor);
    const head = await f.store.head();
    expect(events[0]?.recordedAt.getTime()).toBeGreaterThan(new Date("2001-01-02").getTime());
    expect(head.recordedAt?.getTime()).toBe(events[0]?.recordedAt.getTime());
    expect((await verifyChain(f.store)).ok).toBe(true);
  });
});
