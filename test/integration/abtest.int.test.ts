import { afterEach, describe, expect, it } from "vitest";
import { projections } from "../../projections/index.ts";
import { bucketOf, type LedgerEvent } from "../../src/domain/index.ts";
import type { CommandRequest } from "../../src/index.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { ProjectionsBehindError } from "../../src/ledger/state-loader.ts";
import type { Metadata } from "../../src/store/index.ts";
import { migrate } from "../../src/store/migrate.ts";
import { appendingStore } from "../support/appending-store.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import {
  dumpProjections,
  type LedgerFixture,
  openFixture,
  projectedOneByOneAndBatched,
  register,
  release,
  schemaBefore,
  type Written,
} from "../support/ledger-fixtures.ts";
import { released as releasedEvent } from "../support/scenario.ts";

const start = (candidate: string, candidateWeightBp: number, allowMajor?: boolean): CommandRequest => ({
  kind: "abTestStart",
  pluginId: "momentum",
  candidate,
  candidateWeightBp,
  ...(allowMajor === undefined ? {} : { allowMajor }),
});
const weight = (candidateWeightBp: number): CommandRequest => ({
  kind: "abTestWeight",
  pluginId: "momentum",
  candidateWeightBp,
});
const promote: CommandRequest = { kind: "abTestPromote", pluginId: "momentum" };
const abort: CommandRequest = { kind: "abTestAbort", pluginId: "momentum" };

/** The id and salt the ledger drew for a test it started. */
function drawn(started: Written): { testId: string; salt: string } {
  const [event] = started.events;
  if (event?.type !== "AbTestStarted") throw new Error("expected an AbTestStarted event");
  return event.data as { testId: string; salt: string };
}

/** A clock a minute further on each call, so that every append has its own moment. */
function steppingClock(from = Date.parse("2025-03-01T09:00:00Z")) {
  let next = from;
  return () => {
    const now = new Date(next);
    next += 60_000;
    return now;
  };
}

async function rows(f: LedgerFixture, table: string, order: string) {
  const found = await f.test.db.pool.query(`SELECT * FROM "${f.test.schema}"."${table}" ORDER BY ${order}`);
  return found.rows;
}

/** As-of at every position answers as a replay to it does, and status as a replay of everything. */
async function expectAsOfEqualsReplay(f: LedgerFixture) {
  expect(await f.ledger.status()).toEqual(await f.ledger.replay());
  const head = await f.eventCount();
  for (let position = 0; position <= head; position++) {
    expect(await f.ledger.asOf(position)).toEqual(await f.ledger.replay({ to: position }));
  }
}

describe("A/B tests on PostgreSQL", () => {
  let f: LedgerFixture;
  const opened: LedgerFixture[] = [];
  async function fixture(clock?: () => Date) {
    f = await openFixture(undefined, clock);
    opened.push(f);
  }
  afterEach(async () => {
    for (const open of opened.splice(0)) await open.close();
  });

  async function momentum(...versions: string[]) {
    for (const version of versions) await f.ok(release("momentum", version));
    await f.ok(register("momentum", versions[0] as string));
  }

  it("promotes: the candidate becomes active with a 'promoted' interval, the test and its segments end", async () => {
    await fixture(steppingClock());
    await momentum("3.3.0", "3.4.0");
    const started = await f.ok(start("3.4.0", 1000), { reason: "try the new fills" });
    const { testId, salt } = drawn(started);
    expect(testId).toMatch(/^[0-9a-f-]{36}$/);
    expect(salt).toMatch(/^[0-9a-f]{32}$/);

    const during = await f.ledger.status();
    expect(during.plugins).toEqual([
      expect.objectContaining({
        pluginId: "momentum",
        version: "3.3.0",
        abTest: {
          testId,
          control: "3.3.0",
          candidate: "3.4.0",
          salt,
          candidateWeightBp: 1000,
          candidatePercent: 10,
          since: started.events[0]?.recordedAt,
          sincePosition: started.events[0]?.position,
        },
      }),
    ]);
    await f.ok(weight(1250));
    expect((await f.ledger.status()).plugins[0]?.abTest).toMatchObject({
      candidateWeightBp: 1250,
      candidatePercent: 12.5,
    });
    const promoted = await f.ok(promote, { reason: "better" });
    expect(promoted.events.map((e) => e.type)).toEqual(["AbTestPromoted"]);

    expect(await f.ledger.activeVersion("momentum")).toBe("3.4.0");
    expect((await f.ledger.status()).plugins[0]?.abTest).toBeNull();
    const history = await f.ledger.history("momentum");
    expect(history.map((h) => [h.version, h.action, h.endedBy])).toEqual([
      ["3.4.0", "promoted", null],
      ["3.3.0", "registered", "promoted"],
    ]);
    expect(history[0]).toMatchObject({ reason: "better", fromPosition: promoted.events[0]?.position });

    const [test] = await rows(f, "ab_tests", "started_position");
    expect(test).toMatchObject({
      test_id: testId,
      plugin_id: "momentum",
      control: "3.3.0",
      candidate: "3.4.0",
      salt,
      started_position: started.events[0]?.position,
      ended_position: promoted.events[0]?.position,
      outcome: "promoted",
      actor: { kind: "cli", id: "olga", name: "Olga" },
      reason: "try the new fills",
    });
    const segments = await rows(f, "ab_test_segments", "from_position");
    expect(segments.map((s) => [s.candidate_weight_bp, s.from_position, s.to_position])).toEqual([
      [1000, 4, 5],
      [1250, 5, 6],
    ]);
    await expectAsOfEqualsReplay(f);
  });

  it("aborts: the control stays, its interval runs on, and the test ends as aborted", async () => {
    await fixture();
    await momentum("3.3.0", "3.4.0");
    await f.ok(start("3.4.0", 500));
    const aborted = await f.ok(abort, { reason: "double fills" });
    expect(aborted.events.map((e) => e.type)).toEqual(["AbTestAborted"]);
    expect(await f.ledger.activeVersion("momentum")).toBe("3.3.0");
    const history = await f.ledger.history("momentum");
    expect(history.map((h) => [h.version, h.action, h.toPosition])).toEqual([["3.3.0", "registered", null]]);
    const [test] = await rows(f, "ab_tests", "started_position");
    expect(test).toMatchObject({ outcome: "aborted", ended_position: 5 });
    const [segment] = await rows(f, "ab_test_segments", "from_position");
    expect(segment).toMatchObject({ candidate_weight_bp: 500, from_position: 4, to_position: 5 });

    // A second test of the same plugin draws its units with a new salt.
    const again = await f.ok(start("3.4.0", 500));
    const [first, second] = await rows(f, "ab_tests", "started_position");
    expect(second).toMatchObject({ test_id: drawn(again).testId, ended_position: null });
    expect(second?.salt).not.toBe(first?.salt);
    await expectAsOfEqualsReplay(f);
  });

  it("refuses a second test and other changes while one runs; forced, it closes the test and its segment first", async () => {
    await fixture();
    await momentum("3.3.0", "3.4.0", "3.5.0");
    await f.ok(start("3.4.0", 2000));
    const running = await f.run(start("3.5.0", 100));
    expect(running).toMatchObject({ ok: false, violations: [{ code: "AB_TEST_RUNNING" }] });
    for (const command of [
      { kind: "upgrade", pluginId: "momentum", version: "3.5.0" },
      { kind: "deactivate", pluginId: "momentum" },
    ] as const) {
      expect(await f.run(command)).toMatchObject({ ok: false, violations: [{ code: "AB_TEST_RUNNING" }] });
    }
    expect(await f.eventCount()).toBe(5);

    const forced = await f.ok(
      { kind: "upgrade", pluginId: "momentum", version: "3.5.0" },
      { force: true, reason: "hotfix now" },
    );
    expect(forced.events.map((e) => [e.type, e.position])).toEqual([
      ["AbTestAborted", 6],
      ["PluginUpgraded", 7],
    ]);
    expect(forced.overrides).toEqual(["AB_TEST_RUNNING"]);
    expect(await rows(f, "ab_tests", "started_position")).toEqual([
      expect.objectContaining({ outcome: "aborted", ended_position: 6 }),
    ]);
    expect(await rows(f, "ab_test_segments", "from_position")).toEqual([
      expect.objectContaining({ from_position: 5, to_position: 6 }),
    ]);
    expect(await f.ledger.activeVersion("momentum")).toBe("3.5.0");
    await expectAsOfEqualsReplay(f);
  });

  it("assigns a unit the arm of the moment asked about: control at 10%, candidate at 90%", async () => {
    await fixture(steppingClock());
    await momentum("3.3.0", "3.4.0");
    expect(await f.ledger.assign("momentum", "BTC-USDT")).toEqual({
      pluginId: "momentum",
      unitKey: "BTC-USDT",
      version: "3.3.0",
      arm: "only",
      testId: null,
      bucket: null,
    });
    const started = await f.ok(start("3.4.0", 1000));
    const { testId, salt } = drawn(started);
    const atTen = started.events[0]?.recordedAt as Date;
    // A unit whose bucket lies between the two weights: control at 10%, candidate at 90%.
    const unit = Array.from({ length: 1000 }, (_, i) => `account-${i}`).find((key) => {
      const bucket = bucketOf(salt, key);
      return bucket >= 1000 && bucket < 9000;
    }) as string;
    const bucket = bucketOf(salt, unit);
    const reweighed = await f.ok(weight(9000));

    expect(await f.ledger.assign("momentum", unit)).toEqual({
      pluginId: "momentum",
      unitKey: unit,
      version: "3.4.0",
      arm: "candidate",
      testId,
      bucket,
    });
    // As of a moment: the test's first minute, before the weight went up; and by position.
    const before = await f.ledger.assign("momentum", unit, new Date(atTen.getTime() + 30_000));
    expect(before).toMatchObject({ version: "3.3.0", arm: "control", testId, bucket });
    expect(await f.ledger.assign("momentum", unit, started.events[0]?.position)).toEqual(before);
    expect(await f.ledger.assign("momentum", unit, reweighed.events[0]?.recordedAt as Date)).toMatchObject({
      arm: "candidate",
    });
    // Before the test and before anything ran.
    expect(await f.ledger.assign("momentum", unit, 3)).toMatchObject({ version: "3.3.0", arm: "only" });
    expect(await f.ledger.assign("momentum", unit, new Date("2000-01-01"))).toMatchObject({
      version: null,
      arm: "only",
    });

    // Many units in one lookup: the same answers as one at a time, and about 90% candidates.
    const units = Array.from({ length: 2000 }, (_, i) => `sym-${i}`);
    const many = await f.ledger.assignMany("momentum", units);
    expect(many[17]).toEqual(await f.ledger.assign("momentum", "sym-17"));
    const share = many.filter((a) => a.arm === "candidate").length / units.length;
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.95);

    await f.ok(promote);
    expect(await f.ledger.assign("momentum", unit)).toMatchObject({ version: "3.4.0", arm: "only" });
    expect(await f.ledger.assign("nothing_here", unit)).toMatchObject({ version: null, arm: "only" });
    await expect(f.ledger.assign("momentum", "")).rejects.toThrow(RangeError);
    await expect(f.ledger.assign("momentum", unit, -1)).rejects.toThrow(RangeError);
  });

  it("starts once per idempotency key, keeping the test it drew, and writes nothing on a dry run", async () => {
    await fixture();
    await momentum("3.3.0", "3.4.0");
    const dry = await f.run(start("3.4.0", 1000), { dryRun: true });
    expect(dry).toMatchObject({ ok: true, dryRun: true, events: [{ type: "AbTestStarted" }] });
    expect(await f.eventCount()).toBe(3);

    const first = await f.ok(start("3.4.0", 1000), { idempotencyKey: "start-1" });
    const retried = await f.ok(start("3.4.0", 1000), { idempotencyKey: "start-1" });
    expect(retried.replayed).toBe(true);
    expect(retried.events).toEqual(first.events);
    expect(await f.eventCount()).toBe(4);
  });

  it("refuses a start the rules reject, writing nothing", async () => {
    await fixture();
    await momentum("3.3.0", "4.0.0");
    await f.ok({ kind: "deprecate", pluginId: "momentum", version: "4.0.0", reason: "broken" });
    const refused = await f.run(start("4.0.0", 1000));
    expect(refused.ok ? [] : refused.violations.map((v) => v.code).sort()).toEqual([
      "DEPRECATED",
      "MAJOR_MISMATCH",
    ]);
    expect(await f.run(start("3.3.0", 1000))).toMatchObject({ violations: [{ code: "ALREADY" }] });
    expect(await f.run(weight(100))).toMatchObject({ violations: [{ code: "NOT_FOUND" }] });
    expect(await f.eventCount()).toBe(4);
  });

  it("rebuilds ab_tests and ab_test_segments equal to the live tables", async () => {
    await fixture();
    await momentum("3.3.0", "3.4.0", "3.5.0");
    await f.ok(start("3.4.0", 1000));
    await f.ok(weight(5000));
    await f.ok(abort);
    await f.ok(start("3.5.0", 300), { reason: "next" });
    await f.ok(weight(700));
    const live = await dumpProjections(f.test);
    expect(live.ab_tests).toHaveLength(2);
    expect(live.ab_test_segments).toHaveLength(4);
    await f.ledger.rebuild();
    expect(await dumpProjections(f.test)).toEqual(live);
    await expectAsOfEqualsReplay(f);
  });

  it("projects a batch of A/B events as it projects them one at a time", async () => {
    const events = abBatch();
    const { oneByOne: dump, batched } = await projectedOneByOneAndBatched(events, [
      { streamId: "plugin-momentum", events },
    ]);
    expect(dump.ab_tests).toHaveLength(3);
    expect(dump.ab_test_segments).toHaveLength(6);
    expect(batched).toEqual(dump);
  });
});

describe("the ab_tests migration on a ledger that already holds events", () => {
  const metadata: Metadata = { actor: { kind: "system", id: "seed" } };
  const before: LedgerEvent[] = abBatch().slice(0, 4); // releases and a registration

  /** A schema migrated up to the migration before ab_tests, holding `events` projected the old way. */
  async function olderLedger(test: TestDatabase, events: LedgerEvent[]) {
    const schema = await schemaBefore(test, "1764230700000_ab-tests.sql");
    // Only the projections whose tables exist before the ab_tests migration.
    const older = projections.filter((p) => ["catalog", "activations", "host"].includes(p.name));
    const store = appendingStore({ pool: test.db.pool, schema, projections: [...older] });
    await store.appendMany([{ streamId: "plugin-momentum", events }], metadata);
    return schema;
  }
  const checkpoint = async (test: TestDatabase, schema: string) =>
    (
      await test.db.pool.query(
        `SELECT position FROM "${schema}".projection_checkpoints WHERE projection = 'ab_tests'`,
      )
    ).rows[0]?.position;

  it("starts the checkpoint at the head when no A/B event was written, so commands go on", async () => {
    const test = await openServerLedger();
    const schema = await olderLedger(test, before);
    try {
      await migrate(test.db.pool, schema, testLogger);
      expect(await checkpoint(test, schema)).toBe(before.length);
      const ledger = createLedger(test.db, { schema, logger: testLogger });
      const started = await ledger.execute(
        { kind: "abTestStart", pluginId: "momentum", candidate: "1.1.0", candidateWeightBp: 100 },
        { actor: { kind: "cli", id: "olga" } },
      );
      expect(started).toMatchObject({ ok: true, events: [{ type: "AbTestStarted" }] });
    } finally {
      await test.db.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await test.close();
    }
  });

  it("starts it at 0 when A/B events were appended some other way: commands wait for rebuild", async () => {
    const test = await openServerLedger();
    const events = abBatch();
    const schema = await olderLedger(test, events);
    try {
      await migrate(test.db.pool, schema, testLogger);
      expect(await checkpoint(test, schema)).toBe(0);
      const ledger = createLedger(test.db, { schema, logger: testLogger });
      const abort = { kind: "abTestAbort", pluginId: "momentum" } as const;
      const actor = { actor: { kind: "cli" as const, id: "olga" } };
      await expect(ledger.execute(abort, actor)).rejects.toThrow(ProjectionsBehindError);
      await ledger.rebuild();
      expect(await checkpoint(test, schema)).toBe(events.length);
      expect((await ledger.status()).plugins[0]?.abTest).toMatchObject({
        testId: "c",
        candidateWeightBp: 60,
      });
      expect(await ledger.execute(abort, actor)).toMatchObject({ ok: true });
    } finally {
      await test.db.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await test.close();
    }
  });
});

/** Three tests of one plugin: promoted after two reweighs, aborted by a forced start, left running. */
function abBatch(): LedgerEvent[] {
  const released = (version: string) => releasedEvent("momentum", version);
  const arms = (testId: string, control: string, candidate: string) => ({
    pluginId: "momentum",
    testId,
    control,
    candidate,
  });
  return [
    released("1.0.0"),
    released("1.1.0"),
    released("1.2.0"),
    { type: "PluginRegistered", data: { pluginId: "momentum", version: "1.0.0" } },
    { type: "AbTestStarted", data: { ...arms("a", "1.0.0", "1.1.0"), candidateWeightBp: 100, salt: "sa" } },
    { type: "AbTestWeightChanged", data: { pluginId: "momentum", testId: "a", fromBp: 100, toBp: 2000 } },
    { type: "AbTestWeightChanged", data: { pluginId: "momentum", testId: "a", fromBp: 2000, toBp: 9000 } },
    { type: "AbTestPromoted", data: arms("a", "1.0.0", "1.1.0") },
    { type: "AbTestStarted", data: { ...arms("b", "1.1.0", "1.2.0"), candidateWeightBp: 500, salt: "sb" } },
    { type: "AbTestAborted", data: arms("b", "1.1.0", "1.2.0") },
    { type: "AbTestStarted", data: { ...arms("c", "1.1.0", "1.0.0"), candidateWeightBp: 50, salt: "sc" } },
    { type: "AbTestWeightChanged", data: { pluginId: "momentum", testId: "c", fromBp: 50, toBp: 60 } },
  ];
}
