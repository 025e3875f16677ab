import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewPendingAction } from "../../src/ledger/pending-actions.ts";
import { type LedgerFixture, openFixture, register, release } from "../support/ledger-fixtures.ts";

/**
 * Telegram previews as the ledger keeps them, on real PostgreSQL: a Confirm uses its preview in
 * the write's own transaction, expiry is the database's clock, and old rows are pruned.
 */
describe("pending actions", () => {
  let f: LedgerFixture;
  let nextUpdate = 70_000;
  const userId = 4242;
  const table = () => `"${f.test.schema}".telegram_pending_actions`;

  async function preview(pluginId: string, version: string, ttlMs = 120_000): Promise<string> {
    const action: NewPendingAction = {
      id: randomUUID(),
      updateId: nextUpdate++,
      chatId: userId,
      requesterUserId: userId,
      command: { kind: "upgrade", pluginId, version },
      ctx: { actor: { kind: "telegram", id: String(userId), name: "tester" } },
      state: "pending",
      ttlMs,
    };
    expect(await f.ledger.pendingActions.create(action)).toBe(true);
    return action.id;
  }
  function confirm(id: string, updateId = nextUpdate++) {
    return f.ledger.pendingActions.confirm(
      id,
      { userId, updateId },
      { causationId: String(updateId), idempotencyKey: `tg:${updateId}` },
    );
  }
  async function stateOf(id: string) {
    return (await f.ledger.pendingActions.find(id))?.state;
  }
  async function eventsOf(pluginId: string): Promise<number> {
    const found = await f.test.db.pool.query(
      `SELECT count(*)::int AS n FROM "${f.test.schema}".events WHERE stream_id = $1`,
      [`plugin-${pluginId}`],
    );
    return found.rows[0].n;
  }

  beforeAll(async () => {
    f = await openFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("leaves the preview pending when the write fails, and writes once when pressed again", async () => {
    await f.ok(release("stranded", "1.0.0"));
    await f.ok(release("stranded", "1.1.0"));
    await f.ok(register("stranded", "1.0.0"));
    const before = await eventsOf("stranded");
    const id = await preview("stranded", "1.1.0");

    // Every insert into the event table fails while this trigger exists.
    await f.test.db.pool.query(`
      CREATE FUNCTION "${f.test.schema}".refuse_appends() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'appends are broken (a test fault)'; END $$;
      CREATE TRIGGER refuse_appends BEFORE INSERT ON "${f.test.schema}".events
        FOR EACH STATEMENT EXECUTE FUNCTION "${f.test.schema}".refuse_appends();`);
    try {
      await expect(confirm(id)).rejects.toThrow(/appends are broken/);
      await expect(confirm(id)).rejects.toThrow(/appends are broken/);
    } finally {
      await f.test.db.pool.query(`
        DROP TRIGGER refuse_appends ON "${f.test.schema}".events;
        DROP FUNCTION "${f.test.schema}".refuse_appends();`);
    }
    expect(await stateOf(id)).toBe("pending");
    expect(await eventsOf("stranded")).toBe(before);

    const pressed = nextUpdate++;
    const done = await confirm(id, pressed);
    expect(done?.result.ok).toBe(true);
    expect(done?.action.state).toBe("confirmed");
    expect(done?.action.usedUpdateId).toBe(pressed);
    expect(await eventsOf("stranded")).toBe(before + 1);

    // The same press redelivered is answered from its idempotency key; a new press finds it used.
    const again = await confirm(id, pressed);
    expect(again?.result).toMatchObject({ ok: true, replayed: true });
    expect(await confirm(id)).toBeNull();
    expect(await f.ledger.pendingActions.cancel(id, { userId, updateId: nextUpdate++ })).toBeNull();
    expect(await eventsOf("stranded")).toBe(before + 1);
    expect(await f.ledger.activeVersion("stranded")).toBe("1.1.0");
  });

  it("uses a preview once when it is refused by the rules at the press", async () => {
    await f.ok(release("refused", "1.0.0"));
    await f.ok(release("refused", "1.1.0"));
    await f.ok(register("refused", "1.0.0"));
    const id = await preview("refused", "1.1.0");
    await f.ok({ kind: "upgrade", pluginId: "refused", version: "1.1.0" });
    const done = await confirm(id);
    expect(done?.result.ok).toBe(false);
    expect(await stateOf(id)).toBe("confirmed");
  });

  it("expires previews by the database's clock and records their times from it", async () => {
    await f.ok(release("expiring", "1.0.0"));
    await f.ok(release("expiring", "1.1.0"));
    await f.ok(register("expiring", "1.0.0"));
    const id = await preview("expiring", "1.1.0", 300);
    const times = await f.test.db.pool.query(
      `SELECT extract(epoch FROM clock_timestamp() - created_at) AS age,
              extract(epoch FROM expires_at - created_at) * 1000 AS ttl
         FROM ${table()} WHERE id = $1`,
      [id],
    );
    expect(Number(times.rows[0].ttl)).toBeCloseTo(300, 3);
    expect(Math.abs(Number(times.rows[0].age))).toBeLessThan(60);
    // Wait until the database itself says the buttons are dead: no test clock involved.
    for (;;) {
      const dead = await f.test.db.pool.query(
        `SELECT expires_at <= clock_timestamp() AS dead FROM ${table()} WHERE id = $1`,
        [id],
      );
      if (dead.rows[0].dead) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await confirm(id)).toBeNull();
    expect(await f.ledger.pendingActions.cancel(id, { userId, updateId: nextUpdate++ })).toBeNull();
    expect(await stateOf(id)).toBe("pending");
    expect(await f.ledger.activeVersion("expiring")).toBe("1.0.0");
  });

  it("prunes previews dead for days, a bounded batch at each new preview", async () => {
    const aged = async (count: number, age: string, state: string) => {
      await f.test.db.pool.query(
        `INSERT INTO ${table()} (id, update_id, chat_id, requester_user_id, command, ctx, state,
                                 created_at, expires_at, used_at, used_update_id)
         SELECT gen_random_uuid(), $1 + g, 1, 1, '{}', '{}', $3,
                clock_timestamp() - $2::interval - interval '2 minutes', clock_timestamp() - $2::interval,
                CASE WHEN $3 IN ('confirmed', 'cancelled') THEN clock_timestamp() - $2::interval END,
                CASE WHEN $3 IN ('confirmed', 'cancelled') THEN $1 + g END
           FROM generate_series(1, $4) AS g`,
        [nextUpdate, age, state, count],
      );
      nextUpdate += count + 1;
    };
    await aged(60, "3 days", "pending");
    await aged(60, "5 days", "confirmed");
    await aged(10, "1 day", "cancelled");
    const count = async () =>
      Number((await f.test.db.pool.query(`SELECT count(*) AS n FROM ${table()}`)).rows[0].n);
    const old = async () =>
      Number(
        (
          await f.test.db.pool.query(
            `SELECT count(*) AS n FROM ${table()} WHERE expires_at < clock_timestamp() - interval '2 days'`,
          )
        ).rows[0].n,
      );
    expect(await old()).toBe(120);
    const total = await count();

    await preview("pruned", "1.0.0");
    expect(await old()).toBe(20);
    expect(await count()).toBe(total - 100 + 1);
    await preview("pruned", "1.0.1");
    expect(await old()).toBe(0);
    const recent = await f.test.db.pool.query(
      `SELECT count(*)::int AS n FROM ${table()} WHERE state = 'cancelled' AND requester_user_id = 1`,
    );
    expect(recent.rows[0].n).toBe(10);
  });
});
