import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { projections } from "../../projections/index.ts";
import { type LedgerEvent, streamIdOf } from "../../src/domain/index.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import type { Metadata, StreamAppend } from "../../src/store/index.ts";
import { appendingStore } from "../support/appending-store.ts";
import { backends, type TestDatabase, testLogger } from "../support/databases.ts";
import { dumpProjections } from "../support/ledger-fixtures.ts";
import { released as releasedEvent } from "../support/scenario.ts";

const ROUNDS = 450;

/**
 * A rebuild walks the chain a thousand events a read, and folds the host's, the A/B tests' and the
 * audit chats' events from reads of their own types, a thousand a read, while the catalog and the
 * activations are refilled set-based: a history with more than a read of each, every kind of
 * event interleaved with the others, must rebuild to the very tables its appends made, the Merkle
 * tree's nodes included, on a server (writes alongside the walk) and embedded (after it).
 */
describe.each(backends)("rebuild of a history longer than its reads, on $name", ({ open }) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  /** The long history, appended with its projections; how many events it has. */
  async function seeded(ledger: TestDatabase): Promise<number> {
    const store = appendingStore({
      pool: ledger.db.pool,
      schema: ledger.schema,
      projections: [...projections],
    });
    const metadata: Metadata = { actor: { kind: "system", id: "seed" }, reason: "a long history" };
    let events = 0;
    for (const round of history()) {
      await store.appendMany(byStream(round), metadata);
      events += round.length;
    }
    return events;
  }

  it("gives the tables its appends made", async () => {
    test = await open();
    const events = await seeded(test);
    const live = await dumpProjections(test);
    expect(live.host_history).toHaveLength(ROUNDS);
    expect(live.ab_test_segments).toHaveLength(2 * ROUNDS);
    expect(live.version_history?.length).toBeGreaterThan(ROUNDS / 5);
    expect(live.audit_chats).toHaveLength(7);
    expect(live.merkle_nodes?.length).toBeGreaterThan(events / 16);

    const ledger = createLedger(test.db, { schema: test.schema, logger: testLogger });
    const progress: number[] = [];
    const result = await ledger.rebuild((done) => progress.push(done));
    expect(result).toMatchObject({ events, position: events, forced: null });
    expect(progress.at(-1)).toBe(events);
    expect(progress.length).toBeGreaterThan(3);
    expect(await dumpProjections(test)).toEqual(live);
    expect(await ledger.status()).toEqual(await ledger.replay());
  });

  it("refused at the end of the chain, leaves the tables as they were and writes nothing after", async () => {
    test = await open();
    await seeded(test);
    const live = await dumpProjections(test);
    // The head no longer names the last event's hash: only the end-of-chain check sees it, once
    // every event was walked and the set-based writes were sent.
    await test.db.pool.query(`UPDATE "${test.schema}".head SET hash = sha256(hash)`);
    const ledger = createLedger(test.db, { schema: test.schema, logger: testLogger });
    await expect(ledger.rebuild()).rejects.toThrow(/head hash differs/);
    await sleep(300);
    expect(await dumpProjections(test)).toEqual(live);
  });
});

/**
 * Rounds of six events: a host declaration, an audit chat turned on or off, a release of another
 * plugin (some with a prerelease, some with build metadata, whose parts the catalog keys), and an A/B test of momentum started, reweighed and ended (every fifth promoted, which
 * also changes what momentum runs; the others aborted).
 */
function* history(): Generator<LedgerEvent[]> {
  yield [
    releasedEvent("momentum", "1.0.0"),
    releasedEvent("momentum", "1.1.0"),
    { type: "PluginRegistered", data: { pluginId: "momentum", version: "1.0.0" } },
  ];
  let active = "1.0.0";
  for (let i = 0; i < ROUNDS; i++) {
    const other = active === "1.0.0" ? "1.1.0" : "1.0.0";
    const arms = { pluginId: "momentum", testId: `t${i}`, control: active, candidate: other };
    const weight = 1 + (i % 9000);
    const promoted = i % 5 === 0;
    yield [
      { type: "HostVersionsDeclared", data: { apiVersion: `2.${i}.0`, dbSchemaVersion: "5.0.0" } },
      {
        type: i % 2 === 0 ? "AuditChatEnabled" : "AuditChatDisabled",
        data: { chatId: -100 - (i % 7), source: "command" },
      },
      releasedEvent("risk_guard", `1.${i}.0${["", "-rc-1.x+build-7", "+b-2.0"][i % 3]}`),
      { type: "AbTestStarted", data: { ...arms, candidateWeightBp: weight, salt: `s${i}` } },
      {
        type: "AbTestWeightChanged",
        data: { pluginId: "momentum", testId: arms.testId, fromBp: weight, toBp: 9999 },
      },
      promoted ? { type: "AbTestPromoted", data: arms } : { type: "AbTestAborted", data: arms },
    ];
    if (promoted) active = other;
  }
}

/** One append per stream, in the order the streams first appear. */
function byStream(events: LedgerEvent[]): StreamAppend[] {
  const appends = new Map<string, StreamAppend>();
  for (const event of events) {
    const streamId = streamIdOf(event);
    const append = appends.get(streamId) ?? { streamId, expectedVersion: "any", events: [] };
    append.events.push(event);
    appends.set(streamId, append);
  }
  return [...appends.values()];
}
