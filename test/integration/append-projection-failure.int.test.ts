import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { InlineProjection } from "../../src/store/event-store.ts";
import { appendingStore } from "../support/appending-store.ts";
import { backends } from "../support/databases.ts";
import { actor } from "../support/store-fixture.ts";

/**
 * An append sends its insert before the projections plan their statements (append-session.ts).
 * A projection that then fails must leave nothing behind: the ROLLBACK that follows may not be
 * sent while a statement of the append still runs (pg refuses a statement queued behind another
 * on a connection that does not pipeline, PGlite's), and the connection goes back usable.
 */
const failing: InlineProjection = {
  name: "failing",
  plan() {
    throw new Error("the projection could not plan");
  },
  async apply() {},
};

describe.each(backends)("an append whose projection fails after the insert was sent ($name)", ({ open }) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("rolls back after the insert answered, and the next append finds the head unmoved", async () => {
    const ledger = await open();
    try {
      const options = { pool: ledger.db.pool, schema: ledger.schema };
      const store = appendingStore({ ...options, projections: [failing] });
      const overtaking: string[] = [];
      const query = pg.Client.prototype.query;
      vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        const [config] = args as [string | { text?: string }];
        const text = typeof config === "string" ? config : config?.text;
        const running = (this as unknown as { _getActiveQuery(): unknown })._getActiveQuery();
        if (text === "ROLLBACK" && running) overtaking.push(text);
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query);
      await expect(
        store.append("plugin-failing", "any", [{ type: "Seeded", data: { n: 1 } }], actor),
      ).rejects.toThrow("the projection could not plan");
      expect(overtaking).toEqual([]);
      vi.restoreAllMocks();
      const plain = appendingStore(options);
      const next = await plain.append("plugin-failing", "any", [{ type: "Seeded", data: { n: 2 } }], actor);
      expect(next.events.map((e) => e.position)).toEqual([1]);
    } finally {
      await ledger.close();
    }
  });
});
