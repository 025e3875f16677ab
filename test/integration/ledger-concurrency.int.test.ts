import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command, ExecuteResult } from "../../src/index.ts";
import { type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { testLogger } from "../support/databases.ts";
import {
  dumpProjections,
  type LedgerFixture,
  openFixture,
  register,
  release,
  upgrade,
} from "../support/ledger-fixtures.ts";

const CLIENTS = 8;
const COMMANDS_EACH = 6;
const VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "2.0.0"];

describe("8 concurrent clients", () => {
  let f: LedgerFixture;
  let clients: Ledger[];

  beforeAll(async () => {
    f = await openFixture();
    for (const version of VERSIONS) await f.ok(release("momentum", version));
    await f.ok(release("risk_guard", "1.0.0", { compatibleWith: { momentum: "^1.0.0" } }));
    await f.ok(register("risk_guard", "1.0.0"));
    await f.ok(register("momentum", "1.0.0"));
    // Each client its own process-like ledger: its own pool, its own migration check at open.
    clients = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        openLedger({
          databaseUrl: f.test.env.DATABASE_URL,
          dataDir: "unused",
          schema: f.test.schema,
          poolSize: 2,
          logger: testLogger,
        }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all((clients ?? []).map((c) => c.close()));
    await f?.close();
  });

  it("issuing conflicting upgrades end in the state the fold of the events gives, on a valid chain", async () => {
    const results = await Promise.all(
      clients.map(async (client, c) => {
        const mine: Array<{ command: Command; result: ExecuteResult }> = [];
        for (let i = 0; i < COMMANDS_EACH; i++) {
          const command = commandFor(c, i);
          const result = await client.execute(command, {
            actor: { kind: "telegram", id: `operator-${c}` },
            reason: `client ${c} step ${i}`,
            allowMajor: i % 3 === 2,
          });
          mine.push({ command, result });
        }
        return mine;
      }),
    );
    const all = results.flat();
    const accepted = all.filter((r) => r.result.ok);
    const codes = new Set(all.flatMap((r) => (r.result.ok ? [] : r.result.violations.map((v) => v.code))));
    expect(accepted.length).toBeGreaterThan(CLIENTS);
    expect(codes.has("CONFLICT")).toBe(false);

    const activations = accepted.flatMap((r) => (r.result.ok ? r.result.events : []));
    const history = await f.ledger.history("momentum", { limit: 1000 });
    expect(history).toHaveLength(activations.length + 1);
    // Intervals tile the timeline: each one ends where the next begins.
    for (let i = 1; i < history.length; i++) {
      expect(history[i]?.toPosition).toBe(history[i - 1]?.fromPosition);
    }

    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
    expect(await f.ledger.verify()).toMatchObject({ ok: true, firstBadPosition: null });
    const live = await dumpProjections(f.test);
    await f.ledger.rebuild();
    expect(await dumpProjections(f.test)).toEqual(live);
  });
});

/** Upgrades and rollbacks that race for the same plugin; some cross a MAJOR or break the matrix. */
function commandFor(client: number, step: number): Command {
  const version = VERSIONS[(client * 7 + step * 3) % VERSIONS.length] as string;
  if ((client + step) % 4 === 3) return { kind: "rollback", pluginId: "momentum" };
  return upgrade("momentum", version);
}
