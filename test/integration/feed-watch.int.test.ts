import { afterEach, describe, expect, it } from "vitest";
import type { CommandRequest, PluginChange } from "../../src/index.ts";
import { backends } from "../support/databases.ts";
import { type LedgerFixture, openFixture, register, release, upgrade } from "../support/ledger-fixtures.ts";

const units = Array.from({ length: 200 }, (_, i) => `unit-${i}`);

describe.each(backends)("ledger.watch() on $name", ({ open }) => {
  let f: LedgerFixture | undefined;
  afterEach(async () => {
    await f?.ledger.close();
    await f?.close();
  });

  it("keeps the active versions and splits in memory, emits each change, and assigns as the ledger does", async () => {
    f = await openFixture(open);
    const { ledger } = f;
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await f.ok(release("momentum", v));
    await f.ok(release("breakout", "2.0.0"));
    await f.ok(register("momentum", "1.0.0"));
    await f.ok({ kind: "hostSet", apiVersion: "2.0.0", dbSchemaVersion: "7.0.0" } as CommandRequest);
    // A test already running when the view opens: its salt comes from the ledger.
    await f.ok({ kind: "abTestStart", pluginId: "momentum", candidate: "1.1.0", candidateWeightBp: 2_500 });

    const view = await ledger.watch();
    const changes: PluginChange[] = [];
    view.on("change", (c) => changes.push(c));
    const sameAsLedger = async () => {
      const fromLedger = await ledger.assignMany("momentum", units);
      expect(units.map((u) => view.assign("momentum", u))).toEqual(fromLedger);
    };
    expect(view.activeVersion("momentum")).toBe("1.0.0");
    expect(view.activeVersion("breakout")).toBeNull();
    expect(view.host()).toEqual({ apiVersion: "2.0.0", dbSchemaVersion: "7.0.0" });
    await sameAsLedger();
    expect(new Set(units.map((u) => view.assign("momentum", u).arm))).toEqual(
      new Set(["control", "candidate"]),
    );

    const settled = async (position: number) => {
      while (view.health().position < position) await new Promise((r) => setTimeout(r, 20));
    };
    const weight = await f.ok({ kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 6_000 });
    await settled(weight.events[0]?.position ?? 0);
    await sameAsLedger();
    const promoted = await f.ok({ kind: "abTestPromote", pluginId: "momentum" });
    await f.ok(register("breakout", "2.0.0"));
    const last = await f.ok(upgrade("momentum", "1.2.0"));
    const end = last.events[0]?.position ?? 0;
    await settled(end);
    await sameAsLedger();
    expect(view.activeVersion("momentum")).toBe("1.2.0");
    expect(view.activeVersion("breakout")).toBe("2.0.0");
    expect(view.assign("momentum", "BTC-USDT")).toMatchObject({
      version: "1.2.0",
      arm: "only",
      testId: null,
    });
    expect(
      changes.map((c) => [c.pluginId, c.event.type, c.before?.version ?? null, c.after?.version ?? null]),
    ).toEqual([
      ["momentum", "AbTestWeightChanged", "1.0.0", "1.0.0"],
      ["momentum", "AbTestPromoted", "1.0.0", "1.1.0"],
      ["breakout", "PluginRegistered", null, "2.0.0"],
      ["momentum", "PluginUpgraded", "1.1.0", "1.2.0"],
    ]);
    expect(changes[0]?.after?.abTest?.candidateWeightBp).toBe(6_000);
    expect(changes[1]?.event.position).toBe(promoted.events[0]?.position);

    // What the ledger's own status says, the view says too.
    const status = await ledger.status();
    expect(view.plugins().map((p) => [p.pluginId, p.version])).toEqual(
      status.plugins.map((p) => [p.pluginId, p.version]),
    );
    const health = view.health();
    expect(health).toMatchObject({ position: end, lastEventPosition: end, connected: true });
    expect(health.lastEventAt).toEqual(last.events[0]?.recordedAt);
    expect(health.staleMs).toBeGreaterThanOrEqual(0);

    await view.close();
    await f.ok({ kind: "deactivate", pluginId: "breakout" } as CommandRequest);
    // Closed: it keeps its last answers and hears nothing more.
    expect(view.activeVersion("breakout")).toBe("2.0.0");
    expect(changes).toHaveLength(4);
  });
});
