import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Command } from "../../src/index.ts";
import {
  entry,
  type LedgerFixture,
  openFixture,
  operator,
  register,
  release,
  upgrade,
} from "../support/ledger-fixtures.ts";
import { releaseData } from "../support/scenario.ts";

const NOW = new Date("2025-03-01T09:00:00.000Z");

describe("ledger.execute on PostgreSQL", () => {
  let f: LedgerFixture;
  beforeEach(async () => {
    f = await openFixture(undefined, () => NOW);
  });
  afterEach(async () => {
    await f?.close();
  });

  /** Runs a command that must be refused, and shows it wrote nothing. */
  async function refused(command: Command, codes: string[], context = {}) {
    const before = await f.eventCount();
    const result = await f.run(command, context);
    if (result.ok) expect.fail(`expected a rejection, got ${JSON.stringify(result.events)}`);
    expect([...new Set(result.violations.map((v) => v.code))].sort()).toEqual([...codes].sort());
    expect(await f.eventCount()).toBe(before);
    return result.violations;
  }

  it("releases with the transport's defaults filled in, and refuses the same version again", async () => {
    const { events } = await f.ok({ kind: "release", pluginId: "momentum", version: "1.0.0" } as Command);
    expect(events).toMatchObject([
      {
        position: 1,
        type: "VersionReleased",
        streamId: "plugin-momentum",
        data: { pluginId: "momentum", version: "1.0.0", author: "Olga", buildDate: NOW.toISOString() },
        metadata: { actor: operator, forced: false, overrides: [] },
      },
    ]);
    const [version] = await f.ledger.versions("momentum");
    expect(version).toMatchObject({ version: "1.0.0", deprecated: false, releasedPosition: 1 });
    await refused(release("momentum", "1.0.0+rebuilt"), ["ALREADY"]);
    const invalid = await refused(release("Momentum", "1.0"), ["INVALID_INPUT"]);
    expect(invalid.length).toBeGreaterThanOrEqual(2);
  });

  it("imports all or nothing", async () => {
    await refused({ kind: "import", releases: [entry("alpha", "1.0.0"), entry("beta", "nope")] }, [
      "INVALID_INPUT",
    ]);
    const { events } = await f.ok({
      kind: "import",
      releases: [entry("alpha", "1.0.0"), entry("beta", "2.0.0"), entry("alpha", "1.1.0")],
    });
    expect(events.map((e) => [e.position, e.streamId])).toEqual([
      [1, "plugin-alpha"],
      [2, "plugin-alpha"],
      [3, "plugin-beta"],
    ]);
    expect((await f.ledger.versions("alpha")).map((v) => v.version)).toEqual(["1.0.0", "1.1.0"]);
  });

  it("deprecates once, and then refuses to activate the version", async () => {
    await f.ok(release("momentum", "1.0.0"));
    await f.ok({ kind: "deprecate", pluginId: "momentum", version: "1.0.0", reason: "leaks" });
    await refused({ kind: "deprecate", pluginId: "momentum", version: "1.0.0" }, ["ALREADY"]);
    await refused(register("momentum", "1.0.0"), ["DEPRECATED"]);
    const [version] = await f.ledger.versions("momentum");
    expect(version).toMatchObject({ deprecated: true, deprecationReason: "leaks", deprecatedPosition: 2 });
  });

  it("registers, upgrades (a MAJOR only when allowed), rolls back and deactivates", async () => {
    for (const v of ["1.0.0", "1.1.0", "2.0.0"]) await f.ok(release("momentum", v));
    await refused(upgrade("momentum", "1.1.0"), ["NOT_FOUND"]);
    await f.ok(register("momentum", "1.0.0"));
    await refused(register("momentum", "1.1.0"), ["ALREADY"]);
    await f.ok(upgrade("momentum", "1.1.0"));
    await refused(upgrade("momentum", "2.0.0"), ["MAJOR_MISMATCH"]);
    const major = await f.ok(upgrade("momentum", "2.0.0"), { allowMajor: true });
    expect(major.events[0]?.data).toMatchObject({ from: "1.1.0", to: "2.0.0", crossesMajor: true });
    const back = await f.ok({ kind: "rollback", pluginId: "momentum" });
    expect(back.events[0]).toMatchObject({ type: "PluginRolledBack", data: { from: "2.0.0", to: "1.1.0" } });
    await f.ok({ kind: "rollback", pluginId: "momentum", version: "1.0.0" });
    // An undo: the bare rollback goes back up to what ran before the named one.
    const undo = await f.ok({ kind: "rollback", pluginId: "momentum" });
    expect(undo.events[0]).toMatchObject({ data: { from: "1.0.0", to: "1.1.0" } });
    // Position 6 is the MAJOR upgrade to 2.0.0; what the caller claims ran there is not believed.
    const toSix = await f.ok({
      kind: "rollback",
      pluginId: "momentum",
      toPosition: 6,
      ranAtPosition: "1.0.0",
    } as Command);
    expect(toSix.events[0]).toMatchObject({ data: { from: "1.1.0", to: "2.0.0" } });
    await refused({ kind: "rollback", pluginId: "momentum", toPosition: 3 }, ["NOT_FOUND"]);
    await refused({ kind: "rollback", pluginId: "momentum", toPosition: 999 }, ["NOT_FOUND"]);
    await refused({ kind: "rollback", pluginId: "momentum", toPosition: 6 }, ["ALREADY"]);
    await refused({ kind: "rollback", pluginId: "momentum", toPosition: 0 }, ["INVALID_INPUT"]);
    await f.ok({ kind: "deactivate", pluginId: "momentum" });
    expect(await f.ledger.activeVersion("momentum")).toBeNull();
    await refused({ kind: "deactivate", pluginId: "momentum" }, ["NOT_FOUND"]);
    await f.ok(register("momentum", "2.0.0"));
    expect(await f.ledger.activeVersion("momentum")).toBe("2.0.0");
  });

  it("declares the host, refuses one that breaks a running plugin, and forces it with a reason", async () => {
    await f.ok({ kind: "hostSet", apiVersion: "1.4.0", dbSchemaVersion: "7.0.0" });
    await f.ok(release("momentum", "1.0.0", { requires: { api: "^1.2.0" } }));
    await f.ok(register("momentum", "1.0.0"));
    const breaking: Command = { kind: "hostSet", apiVersion: "2.0.0", dbSchemaVersion: "7.0.0" };
    await refused(breaking, ["API_UNSATISFIED"]);
    await refused(breaking, ["INVALID_INPUT"], { force: true });
    await refused(breaking, ["INVALID_INPUT"], { force: true, reason: "  " });
    const forced = await f.ok(breaking, { force: true, reason: "API 2 ships tonight" });
    expect(forced.overrides).toEqual(["API_UNSATISFIED"]);
    expect(forced.events[0]?.metadata).toMatchObject({
      forced: true,
      overrides: ["API_UNSATISFIED"],
      reason: "API 2 ships tonight",
    });
    const [entry] = await f.ledger.audit({ limit: 1 });
    expect(entry).toMatchObject({
      forced: true,
      overrides: ["API_UNSATISFIED"],
      reason: "API 2 ships tonight",
    });
    expect((await f.ledger.status()).host).toEqual({ apiVersion: "2.0.0", dbSchemaVersion: "7.0.0" });
    expect((await f.ledger.matrix()).violations.map((v) => v.code)).toEqual(["API_UNSATISFIED"]);
    await refused(release("momentum", "1.1.0"), ["INVALID_INPUT"], { force: "yes" });
  });

  it("answers a dry run with the plan or the violations, and writes nothing", async () => {
    await f.ok(release("momentum", "1.0.0"));
    const plan = await f.run(register("momentum", "1.0.0"), { dryRun: true });
    expect(plan).toEqual({
      ok: true,
      dryRun: true,
      overrides: [],
      events: [
        {
          type: "PluginRegistered",
          streamId: "plugin-momentum",
          data: { pluginId: "momentum", version: "1.0.0" },
        },
      ],
    });
    const rejected = await f.run(upgrade("momentum", "1.0.0"), { dryRun: true });
    expect(rejected).toMatchObject({ ok: false, dryRun: true, violations: [{ code: "NOT_FOUND" }] });
    expect(await f.run({ ...register("momentum", "1.0.0"), dryRun: true })).toMatchObject({ dryRun: true });
    expect(await f.eventCount()).toBe(1);
    expect(await f.ledger.activeVersion("momentum")).toBeNull();
  });

  it("replays an idempotent request, and calls the same key with another request a conflict", async () => {
    await f.ok(release("momentum", "1.0.0"));
    const context = { idempotencyKey: "telegram-update-42", causationId: "42" };
    const first = await f.ok(register("momentum", "1.0.0"), context);
    expect(first).toMatchObject({ replayed: false });
    const again = await f.ok(register("momentum", "1.0.0"), context);
    expect(again).toEqual({ ...first, replayed: true });
    expect(await f.eventCount()).toBe(2);
    const other = await f.run(register("momentum", "1.0.0"), { ...context, reason: "another request" });
    expect(other).toMatchObject({ ok: false, violations: [{ code: "CONFLICT" }] });
    expect(await f.eventCount()).toBe(2);
  });

  it("records each activation as an interval with its action, actor and reason", async () => {
    for (const v of ["1.0.0", "1.1.0"]) await f.ok(release("momentum", v));
    const bot = { kind: "telegram", id: "1001", name: "Ivan" } as const;
    await f.ok(register("momentum", "1.0.0"));
    await f.ok(upgrade("momentum", "1.1.0"), { actor: bot, reason: "faster fills" });
    await f.ok({ kind: "rollback", pluginId: "momentum" }, { reason: "slippage" });
    await f.ok({ kind: "deactivate", pluginId: "momentum" });
    const history = await f.ledger.history("momentum");
    expect(history.map((h) => [h.version, h.action, h.fromPosition, h.toPosition, h.endedBy])).toEqual([
      ["1.0.0", "rolled_back", 5, 6, "deactivated"],
      ["1.1.0", "upgraded", 4, 5, "rolled_back"],
      ["1.0.0", "registered", 3, 4, "upgraded"],
    ]);
    expect(history[1]).toMatchObject({ actor: bot, reason: "faster fills", fromAt: NOW, toAt: NOW });
    expect(history[0]).toMatchObject({ actor: operator, reason: "slippage" });
    expect(await f.ledger.history("momentum", { limit: 1 })).toHaveLength(1);
    expect((await f.ledger.asOf(4)).plugins).toMatchObject([{ pluginId: "momentum", version: "1.1.0" }]);
    expect((await f.ledger.asOf(6)).plugins).toEqual([]);
  });

  it("reports a conflict after bounded retries, writing nothing", async () => {
    await f.ok(release("momentum", "1.0.0"));
    // A row where the next activation's interval must go: the primary key refuses it each time.
    await f.test.db.pool.query(
      `INSERT INTO "${f.test.schema}".version_history
         (plugin_id, version, from_position, from_at, action, actor, to_position, to_at, closed_by)
       VALUES ('momentum', '9.9.9', 2, now(), 'registered', '{}', 3, now(), 'upgraded')`,
    );
    const result = await f.run(register("momentum", "1.0.0"));
    expect(result).toMatchObject({ ok: false, violations: [{ code: "CONFLICT" }] });
    expect(await f.eventCount()).toBe(1);
  });

  it("refuses to decide on projections that are behind the events", async () => {
    const { appendingStore } = await import("../support/appending-store.ts");
    const bare = appendingStore({ pool: f.test.db.pool, schema: f.test.schema });
    await bare.append(
      "plugin-momentum",
      0,
      [{ type: "VersionReleased", data: releaseData("momentum", "1.0.0") }],
      {
        actor: operator,
      },
    );
    await expect(f.run(register("momentum", "1.0.0"))).rejects.toThrow(/run rebuild/);
    await f.ledger.rebuild();
    await f.ok(register("momentum", "1.0.0"));
  });

  it("serves events, audit entries and a chain that verifies", async () => {
    await f.ok(release("momentum", "1.0.0"), { reason: "first cut", correlationId: "c-1" });
    await f.ok(register("momentum", "1.0.0"));
    const batches = [];
    for await (const batch of f.ledger.events(1)) batches.push(...batch);
    expect(batches.map((e) => [e.position, e.type])).toEqual([[2, "PluginRegistered"]]);
    expect(batches[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    const audit = await f.ledger.audit({ limit: 10, pluginId: "momentum" });
    expect(audit.map((a) => [a.position, a.reason])).toEqual([
      [2, null],
      [1, "first cut"],
    ]);
    expect(await f.ledger.verify()).toMatchObject({ ok: true, events: 2, firstBadPosition: null });
  });
});
