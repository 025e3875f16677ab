import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ledgerCli } from "../support/cli.ts";

/** The CLI as a pipeline or an operator runs it: a process, its exit code, its stdout and stderr. */
describe("plugin-ledger CLI", () => {
  const { cli, json, eventCount } = ledgerCli();

  it("releases, registers and upgrades, answering the documented JSON shape", async () => {
    expect((await json("host", "set", "--api", "2.4.0", "--db-schema", "7.0.0")).code).toBe(0);
    const released = await json(
      "release",
      "combined_v3",
      "3.2.1",
      "--commit",
      "abc1234",
      "--requires-api",
      "^2.0.0",
      "--features",
      "fast,slow",
      "--notes",
      "first",
    );
    expect(released.code).toBe(0);
    expect(released.body).toMatchObject({
      ok: true,
      events: [
        {
          type: "VersionReleased",
          position: 2,
          data: {
            pluginId: "combined_v3",
            version: "3.2.1",
            commitHash: "abc1234",
            features: ["fast", "slow"],
          },
        },
      ],
    });
    expect(released.body.events[0].data.author).toMatch(/^cli:/);
    expect((await json("release", "combined_v3", "3.3.0")).code).toBe(0);
    expect((await json("register", "combined_v3", "3.2.1", "--actor", "alice")).code).toBe(0);
    const upgraded = await json(
      "upgrade",
      "combined_v3",
      "3.3.0",
      "--actor",
      "alice",
      "--reason",
      "faster fills",
    );
    expect(upgraded.code).toBe(0);
    expect(upgraded.body.events[0]).toMatchObject({
      type: "PluginUpgraded",
      data: { from: "3.2.1", to: "3.3.0", direction: "up", crossesMajor: false },
      metadata: { actor: { kind: "cli", id: "alice" }, reason: "faster fills" },
    });
    const status = await json("status");
    expect(status.body).toMatchObject({
      host: { apiVersion: "2.4.0", dbSchemaVersion: "7.0.0" },
      plugins: [{ pluginId: "combined_v3", version: "3.3.0", abTest: null }],
    });
    expect(typeof status.body.plugins[0].since).toBe("string");
  });

  it("rejects a rule violation with exit 3, its violations on stdout, one line on stderr, and no event", async () => {
    await cli("release", "combined_v3", "4.0.0");
    const before = await eventCount();
    const run = await json("upgrade", "combined_v3", "4.0.0");
    expect(run.code).toBe(3);
    expect(run.body).toEqual({
      ok: false,
      violations: [expect.objectContaining({ code: "MAJOR_MISMATCH" })],
    });
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(await eventCount()).toBe(before);
  });

  it("answers invalid input with exit 2 and writes nothing", async () => {
    const before = await eventCount();
    for (const args of [
      ["release", "combined_v3", "3.4"],
      ["release", "Bad-Name", "1.0.0"],
      ["release", "combined_v3", "3.4.0", "--requires-api", "not a range"],
      ["release", "combined_v3", "3.4.0", "--compat", "nonsense"],
      ["upgrade", "combined_v3"],
      ["asof", "yesterday"],
      ["host", "set", "--api", "2.0.0"],
    ]) {
      const run = await cli(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    expect(await eventCount()).toBe(before);
  });

  it("dry-runs without writing, and forces only with a reason, recording the overrides", async () => {
    const before = await eventCount();
    const dry = await json("upgrade", "combined_v3", "4.0.0", "--allow-major", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.body).toMatchObject({ ok: true, dryRun: true, events: [{ type: "PluginUpgraded" }] });
    expect(await eventCount()).toBe(before);
    const noReason = await json("upgrade", "combined_v3", "4.0.0", "--force");
    expect(noReason.code).toBe(2);
    expect(await eventCount()).toBe(before);
    const forced = await json("upgrade", "combined_v3", "4.0.0", "--force", "--reason", "hotfix");
    expect(forced.code).toBe(0);
    expect(forced.body.events[0].metadata).toMatchObject({
      forced: true,
      overrides: ["MAJOR_MISMATCH"],
      reason: "hotfix",
    });
  });

  it("answers a repeated idempotency key without writing twice", async () => {
    const first = await json("rollback", "combined_v3", "--idempotency-key", "deploy-77", "--reason", "bad");
    expect(first.code).toBe(0);
    const count = await eventCount();
    const again = await json("rollback", "combined_v3", "--idempotency-key", "deploy-77", "--reason", "bad");
    expect(again.code).toBe(0);
    expect(again.body.replayed).toBe(true);
    expect(again.body.events.map((e: { position: number }) => e.position)).toEqual(
      first.body.events.map((e: { position: number }) => e.position),
    );
    expect(await eventCount()).toBe(count);
  });

  it("imports a file of releases all or nothing", async () => {
    const file = path.join(tmpdir(), `import-${process.pid}.json`);
    const good = { pluginId: "price_action_1m", version: "6.1.0", features: ["ema"] };
    writeFileSync(file, JSON.stringify([good, { pluginId: "price_action_1m", version: "six" }]));
    const before = await eventCount();
    expect((await cli("import", file)).code).toBe(2);
    expect(await eventCount()).toBe(before);
    writeFileSync(file, JSON.stringify({ releases: [good, { ...good, version: "6.2.0" }] }));
    const run = await json("import", file);
    expect(run.code).toBe(0);
    expect(run.body.events).toHaveLength(2);
    expect(
      (await json("versions", "price_action_1m")).body.items.map((v: { version: string }) => v.version),
    ).toEqual(["6.1.0", "6.2.0"]);
  });

  it("answers history, audit, asof and replay, with asof equal to replay", async () => {
    const history = await json("history", "combined_v3");
    expect(history.body.items[0]).toMatchObject({ version: expect.any(String), action: "rolled_back" });
    const audit = await json("audit", "--limit", "3");
    expect(audit.body.items).toHaveLength(3);
    for (const point of ["3", "6", "7", "9"]) {
      const asof = await json("asof", point);
      const replay = await json("replay", "--to", point);
      expect(asof.code).toBe(0);
      expect(asof.body).toEqual(replay.body);
    }
    const verify = await json("verify");
    expect(verify.body).toMatchObject({ ok: true, firstBadPosition: null });
    const rebuilt = await json("rebuild");
    expect(rebuilt.code).toBe(0);
    expect((await json("status")).body).toEqual((await json("replay")).body);
  });
});
