import { describe, expect, it } from "vitest";
import { bucketOf } from "../../src/domain/index.ts";
import { ledgerCli } from "../support/cli.ts";

/** `plugin-ledger abtest ...` as an operator or a trading host runs it: a process, its exit code and output. */
describe("plugin-ledger abtest", () => {
  const { cli, json, eventCount } = ledgerCli();

  it("starts a test, changes its split, assigns units, and promotes the candidate", async () => {
    expect((await cli("release", "momentum", "3.3.0")).code).toBe(0);
    expect((await cli("release", "momentum", "3.4.0")).code).toBe(0);
    expect((await cli("register", "momentum", "3.3.0")).code).toBe(0);

    const started = await json(
      "abtest",
      "start",
      "momentum",
      "3.4.0",
      "--weight",
      "10",
      "--reason",
      "new fills",
    );
    expect(started.code).toBe(0);
    expect(started.body).toMatchObject({
      ok: true,
      events: [
        {
          type: "AbTestStarted",
          position: 4,
          data: { pluginId: "momentum", control: "3.3.0", candidate: "3.4.0", candidateWeightBp: 1000 },
          metadata: { reason: "new fills" },
        },
      ],
    });
    const { testId, salt } = started.body.events[0].data;

    const reweighed = await json("abtest", "weight", "momentum", "12.5");
    expect(reweighed.code).toBe(0);
    expect(reweighed.body.events[0]).toMatchObject({
      type: "AbTestWeightChanged",
      data: { testId, fromBp: 1000, toBp: 1250 },
    });

    const status = await json("status");
    expect(status.body.plugins).toEqual([
      expect.objectContaining({
        pluginId: "momentum",
        version: "3.3.0",
        abTest: expect.objectContaining({
          testId,
          control: "3.3.0",
          candidate: "3.4.0",
          candidateWeightBp: 1250,
          candidatePercent: 12.5,
          sincePosition: 4,
        }),
      }),
    ]);
    expect((await cli("status")).stdout).toContain("3.3.0 vs 3.4.0 @ 12.5%");

    // Each unit's arm follows from its bucket, which anyone can compute from the test's salt.
    const units = ["BTC-USDT", "ETH-USDT", "acct-7"];
    const armOf = (unit: string) => (bucketOf(salt, unit) < 1250 ? "candidate" : "control");
    const versionOf = (unit: string) => (armOf(unit) === "candidate" ? "3.4.0" : "3.3.0");
    const assigned = await json("abtest", "assign", "momentum", ...units);
    expect(assigned.code).toBe(0);
    expect(assigned.body.items).toEqual(
      units.map((unitKey) => ({
        pluginId: "momentum",
        unitKey,
        version: versionOf(unitKey),
        arm: armOf(unitKey),
        testId,
        bucket: bucketOf(salt, unitKey),
      })),
    );
    const lines = await cli("abtest", "assign", "momentum", ...units);
    expect(lines.stdout.trim().split("\n")).toEqual(units.map((u) => `${u} ${versionOf(u)} ${armOf(u)}`));
    // As of the position before the test: every unit runs the control.
    const before = await json("abtest", "assign", "momentum", "BTC-USDT", "--at", "3");
    expect(before.body.items[0]).toMatchObject({ version: "3.3.0", arm: "only", testId: null });

    const promoted = await json("abtest", "promote", "momentum");
    expect(promoted.code).toBe(0);
    expect(promoted.body.events[0]).toMatchObject({ type: "AbTestPromoted", data: { candidate: "3.4.0" } });
    expect((await json("status")).body.plugins[0]).toMatchObject({ version: "3.4.0", abTest: null });
    const history = await json("history", "momentum");
    expect(history.body.items[0]).toMatchObject({ version: "3.4.0", action: "promoted" });
  });

  it("refuses what the rules reject with exit 3, and a bad percentage with exit 2, writing nothing", async () => {
    const before = await eventCount();
    const refused = await json("abtest", "start", "momentum", "3.4.0", "--weight", "5");
    expect(refused.code).toBe(3);
    expect(refused.body).toMatchObject({ ok: false, violations: [{ code: "ALREADY" }] });
    expect(refused.stderr).toMatch(/^plugin-ledger: rejected: ALREADY: [^\n]+\n$/);

    const none = await cli("abtest", "abort", "momentum");
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("rejected: NOT_FOUND: Plugin momentum runs no A/B test");

    const precise = await cli("abtest", "start", "momentum", "3.3.0", "--weight", "12.555");
    expect(precise.code).toBe(2);
    expect(precise.stderr).toContain("at most two decimals");
    expect(precise.stdout).toBe("");
    expect(await eventCount()).toBe(before);
  });
});
