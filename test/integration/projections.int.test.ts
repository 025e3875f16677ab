import { afterEach, describe, expect, it } from "vitest";
import { pluginStream, streamIdOf } from "../../src/domain/index.ts";
import type { Command, LedgerEvent } from "../../src/index.ts";
import { appendingStore } from "../support/appending-store.ts";
import { openEmbeddedLedger } from "../support/databases.ts";
import {
  dumpProjections,
  entry,
  type LedgerFixture,
  openFixture,
  projectedOneByOneAndBatched,
  register,
  release,
  upgrade,
} from "../support/ledger-fixtures.ts";

/** A history touching every projection: releases, an import, deprecation, host, activations. */
const SCENARIO: Array<[Command, { reason?: string; force?: boolean; allowMajor?: boolean }?]> = [
  [{ kind: "hostSet", apiVersion: "1.0.0", dbSchemaVersion: "5.0.0" }],
  [
    {
      kind: "import",
      releases: [entry("momentum", "1.0.0"), entry("momentum", "1.1.0"), entry("risk_guard", "0.9.0")],
    },
  ],
  [release("momentum", "2.0.0", { requires: { api: "^2.0.0" }, compatibleWith: { risk_guard: ">=1.0.0" } })],
  [release("risk_guard", "1.0.0", { features: ["stops"], releaseNotes: "first stable" })],
  [register("momentum", "1.0.0")],
  [register("risk_guard", "0.9.0")],
  [upgrade("momentum", "1.1.0"), { reason: "faster" }],
  [{ kind: "deprecate", pluginId: "momentum", version: "1.0.0", reason: "leaks" }],
  [upgrade("risk_guard", "1.0.0", true)],
  [upgrade("momentum", "2.0.0", true), { force: true, reason: "API 2 is hours away" }],
  [{ kind: "hostSet", apiVersion: "2.0.0", dbSchemaVersion: "5.1.0" }],
  [{ kind: "rollback", pluginId: "momentum" }, { reason: "slippage" }],
  [{ kind: "deactivate", pluginId: "risk_guard" }],
  [register("risk_guard", "0.9.0")],
];

async function play(f: LedgerFixture) {
  for (const [command, context] of SCENARIO) await f.ok(command, context);
}

/** Every position's as-of answer equals the fold up to it. */
async function expectAsOfEqualsReplay(f: LedgerFixture) {
  const head = (await f.ledger.status()).position;
  for (let position = 0; position <= head; position++) {
    expect(await f.ledger.asOf(position)).toEqual(await f.ledger.replay({ to: position }));
  }
}

describe("projections", () => {
  let f: LedgerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it("rebuild recreates tables equal to the live ones, reporting progress", async () => {
    f = await openFixture();
    await play(f);
    const live = await dumpProjections(f.test);
    expect(live.version_history?.length).toBeGreaterThan(5);
    const progress: Array<[number, number]> = [];
    const result = await f.ledger.rebuild((done, total) => progress.push([done, total]));
    expect(result).toMatchObject({ events: 16, position: 16 });
    expect(progress.at(0)).toEqual([0, 16]);
    expect(progress.at(-1)).toEqual([16, 16]);
    expect(await dumpProjections(f.test)).toEqual(live);
    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
    await expectAsOfEqualsReplay(f);
  });

  it("answers as of a moment with the last position recorded at or before it", async () => {
    let minutes = 0;
    const clock = () => {
      minutes += 1;
      return new Date(Date.UTC(2025, 0, 1, 0, minutes));
    };
    f = await openFixture(undefined, clock);
    await play(f);
    const fifth = (await f.ledger.audit({ limit: 100 })).find((a) => a.position === 5);
    const at = new Date((fifth?.recordedAt.getTime() ?? 0) + 30_000);
    expect((await f.ledger.asOf(at)).position).toBe(5);
    expect(await f.ledger.asOf(at)).toEqual(await f.ledger.replay({ to: at }));
    expect((await f.ledger.asOf(new Date("2000-01-01"))).plugins).toEqual([]);
    expect((await f.ledger.asOf(10_000)).position).toBe(16);
    await expect(f.ledger.asOf(-1)).rejects.toThrow(RangeError);
  });

  it("projects a batch of many events of one plugin as it projects them one at a time", async () => {
    const events = batchOfEverything();
    const { oneByOne: dump, batched } = await projectedOneByOneAndBatched(events, appendsOf(events));
    expect(dump.version_history).toHaveLength(4);
    expect(batched).toEqual(dump);
  });

  it("validates events on read: a rebuild over an invalid event fails and changes nothing", async () => {
    f = await openFixture();
    await play(f);
    const before = await dumpProjections(f.test);
    const bare = appendingStore({ pool: f.test.db.pool, schema: f.test.schema });
    await bare.append(
      pluginStream("momentum"),
      "any",
      [{ type: "PluginRegistered", data: { pluginId: "momentum" } }],
      {
        actor: { kind: "system", id: "bug" },
      },
    );
    await expect(f.ledger.rebuild()).rejects.toThrow(/Invalid PluginRegistered event data/);
    expect(await dumpProjections(f.test)).toEqual(before);
  });

  it("rebuilds on the embedded PGlite too", async () => {
    f = await openFixture(() => openEmbeddedLedger());
    await play(f);
    const live = await dumpProjections(f.test);
    await f.ledger.rebuild();
    expect(await dumpProjections(f.test)).toEqual(live);
    expect(await f.ledger.status()).toEqual(await f.ledger.replay());
    await expectAsOfEqualsReplay(f);
  });
});

/** Release, deprecate, activate, change, stop and restart one plugin, and declare the host twice. */
function batchOfEverything(): LedgerEvent[] {
  const data = (version: string) => ({
    pluginId: "momentum",
    version,
    buildDate: "2024-05-01",
    commitHash: "abc1234",
    author: "ci",
    requires: { api: null, dbSchema: "^5.0.0" },
    compatibleWith: { risk_guard: "^1.0.0" },
    features: ["a"],
    releaseNotes: "",
  });
  return [
    { type: "HostVersionsDeclared", data: { apiVersion: "1.0.0", dbSchemaVersion: "5.0.0" } },
    { type: "VersionReleased", data: data("1.0.0") },
    { type: "VersionReleased", data: data("1.1.0-rc.1") },
    { type: "PluginRegistered", data: { pluginId: "momentum", version: "1.0.0" } },
    { type: "VersionDeprecated", data: { pluginId: "momentum", version: "1.0.0", reason: "leaks" } },
    {
      type: "PluginUpgraded",
      data: { pluginId: "momentum", from: "1.0.0", to: "1.1.0-rc.1", direction: "up", crossesMajor: false },
    },
    { type: "HostVersionsDeclared", data: { apiVersion: "1.1.0", dbSchemaVersion: "5.0.0" } },
    { type: "PluginRolledBack", data: { pluginId: "momentum", from: "1.1.0-rc.1", to: "1.0.0" } },
    { type: "PluginDeactivated", data: { pluginId: "momentum", version: "1.0.0" } },
    { type: "PluginRegistered", data: { pluginId: "momentum", version: "1.1.0-rc.1" } },
  ];
}

/** Consecutive events of one stream as one append, keeping the global order. */
function appendsOf(events: LedgerEvent[]) {
  const appends: Array<{ streamId: string; events: Array<{ type: string; data: unknown }> }> = [];
  for (const event of events) {
    const streamId = streamIdOf(event);
    const last = appends.at(-1);
    if (last?.streamId === streamId) last.events.push(event);
    else appends.push({ streamId, events: [event] });
  }
  return appends;
}
