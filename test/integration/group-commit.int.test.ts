import { describe, expect, it } from "vitest";
import { ConcurrencyError, IdempotencyConflictError } from "../../src/store/errors.ts";
import type { AppendResult } from "../../src/store/event-store.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { backends } from "../support/databases.ts";
import { actor, storeFixture } from "../support/store-fixture.ts";

/** Appends waiting in one process share a transaction; each keeps its own outcome. */
describe.each(backends)("group commit on $name", ({ open }) => {
  const f = storeFixture(open);

  /** How many transactions wrote the events of these streams (xmin: the inserting transaction). */
  async function transactionsOf(streams: string[]): Promise<number> {
    const found = await f.ledger.db.pool.query(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM "${f.ledger.schema}".events WHERE stream_id = ANY($1)`,
      [streams],
    );
    return found.rows[0].n;
  }

  it("writes concurrent appends in fewer transactions, each answered with its own events", async () => {
    const streams = Array.from({ length: 24 }, (_, i) => `plugin-g${i}`);
    const results = await Promise.all(
      streams.map((stream, i) => f.store.append(stream, 0, [{ type: "Grouped", data: { i } }], actor)),
    );
    results.forEach((result, i) => {
      expect(result.replayed).toBe(false);
      expect(result.events).toHaveLength(1);
      expect(result.events[0]).toMatchObject({ streamId: streams[i], streamVersion: 1, data: { i } });
    });
    const positions = results.map((r) => r.events[0]?.position as number);
    expect(new Set(positions).size).toBe(streams.length);
    expect(await transactionsOf(streams)).toBeLessThan(streams.length);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });

  it("rejects only the appends whose expected version or idempotency key does not hold", async () => {
    await f.store.append("plugin-contested", 0, [{ type: "Seeded", data: {} }], actor);
    const attempts = await Promise.allSettled([
      f.store.append("plugin-contested", 1, [{ type: "First", data: {} }], actor),
      f.store.append("plugin-calm", 0, [{ type: "Calm", data: {} }], actor),
      f.store.append("plugin-contested", 1, [{ type: "Second", data: {} }], actor),
      f.store.append("plugin-keyed", "any", [{ type: "Keyed", data: { n: 1 } }], actor, "group-key"),
      f.store.append("plugin-keyed", "any", [{ type: "Keyed", data: { n: 1 } }], actor, "group-key"),
      f.store.append("plugin-keyed", "any", [{ type: "Keyed", data: { n: 2 } }], actor, "group-key"),
    ]);
    expect(attempts.map((a) => a.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    const [first, calm, second, keyed, again, reused] = attempts;
    expect(first).toMatchObject({ value: { events: [{ type: "First", streamVersion: 2 }] } });
    expect(calm).toMatchObject({ value: { events: [{ type: "Calm", streamVersion: 1 }] } });
    expect((second as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    const written = (keyed as PromiseFulfilledResult<AppendResult>).value;
    const replayed = (again as PromiseFulfilledResult<AppendResult>).value;
    expect(written.replayed).toBe(false);
    expect(replayed).toEqual({ events: written.events, replayed: true });
    expect((reused as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyConflictError);
    expect((await f.store.readStream("plugin-keyed")).map((e) => e.data)).toEqual([{ n: 1 }]);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });

  it("runs each append alone when a statement of the group fails, so only the faulty one fails", async () => {
    const schema = `"${f.ledger.schema}"`;
    await f.ledger.db.pool.query(`CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN IF NEW.stream_id = 'plugin-refused' THEN RAISE EXCEPTION 'refused by the test'; END IF;
         RETURN NEW; END $$`);
    await f.ledger.db.pool.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${schema}.events
      FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse()`);
    try {
      const streams = ["plugin-a", "plugin-refused", "plugin-b", "plugin-c"];
      const attempts = await Promise.allSettled(
        streams.map((stream) => f.store.append(stream, 0, [{ type: "Tried", data: {} }], actor)),
      );
      expect(attempts.map((a) => a.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
      expect(String((attempts[1] as PromiseRejectedResult).reason)).toMatch(/refused by the test/);
    } finally {
      await f.ledger.db.pool.query(`DROP TRIGGER refuse ON ${schema}.events`);
    }
    expect(await f.store.readStream("plugin-refused")).toEqual([]);
    expect((await verifyChain(f.store)).ok).toBe(true);
  });
});
