import pg from "pg";
import { describe, expect, it } from "vitest";
import { openEmbeddedLedger } from "../support/databases.ts";

describe("the embedded ledger's socket, shared by many connections", () => {
  it("answers each connection's parameterised queries, run at once, with its own result", async () => {
    const ledger = await openEmbeddedLedger();
    // Connections of their own, as other processes would have: one session behind all of them.
    const clients = Array.from(
      { length: 8 },
      () => new pg.Client({ host: ledger.db.location, user: "postgres", database: "postgres" }),
    );
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const asked = Array.from({ length: 400 }, (_, i) => i);
      const answers = await Promise.all(
        asked.map(async (n) => {
          const k = n % clients.length;
          const client = clients[k] as pg.Client;
          const found = await client.query<{ n: number; label: string; k: number }>(
            // A statement of each connection's own: one bound to another's would answer wrongly.
            `SELECT $1::int AS n, $2::text AS label, ${k} AS k`,
            [n, `q${n}`],
          );
          return found.rows[0];
        }),
      );
      expect(answers).toEqual(asked.map((n) => ({ n, label: `q${n}`, k: n % clients.length })));
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await ledger.close();
    }
  });
});
