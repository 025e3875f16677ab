import { describe, expect, it } from "vitest";
import type { CatalogRow } from "../../projections/catalog.ts";
import { projections } from "../../projections/index.ts";
import { carriedForward, type HeldState, keyOf, MOVES } from "../../src/ledger/held-state.ts";
import type { StoredEvent } from "../../src/store/index.ts";

/**
 * What a ledger holds between commands is carried past its own upgrades and rollbacks on the
 * assumption that they change only what the named plugin runs and its stream's version
 * (src/ledger/held-state.ts). These hold that assumption and the carrying to account.
 */
const HEAD = Buffer.alloc(32, 1);
const NEXT = Buffer.alloc(32, 2);

const release = (version: string) => ({ plugin_id: "momentum", version }) as unknown as CatalogRow;

function heldAt(hash: Buffer): HeldState {
  return {
    named: "momentum",
    position: 10,
    hash,
    loaded: {
      host: null,
      actives: [{ plugin_id: "momentum", version: "1.0.0", release: release("1.0.0") }],
      running: [],
      tests: [],
    },
    keyed: new Map([
      [keyOf({ pluginId: "momentum", major: 1, minor: 1, patch: 0, prerelease: null }), [release("1.1.0")]],
    ]),
    streams: new Map([["plugin-momentum", 4]]),
  };
}

const event = (type: string, data: unknown, prevHash = HEAD) =>
  ({ type, data, streamId: "plugin-momentum", prevHash, hash: NEXT, position: 11 }) as unknown as StoredEvent;

const named = new Set(["momentum"]);
const versions = new Map([["plugin-momentum", 5]]);
const head = { position: 11, hash: NEXT, recordedAt: null };

describe("the state a ledger carries past its own command", () => {
  it("is carried past an upgrade of a named plugin to a held release, at the new head", () => {
    const upgrade = event("PluginUpgraded", { pluginId: "momentum", from: "1.0.0", to: "1.1.0" });
    const carried = carriedForward(heldAt(HEAD), named, [upgrade], versions, head);
    expect(carried?.position).toBe(11);
    expect(carried?.hash).toEqual(NEXT);
    expect(carried?.loaded.actives.map((a) => a.version)).toEqual(["1.1.0"]);
    expect(carried?.streams.get("plugin-momentum")).toBe(5);
  });

  it("is dropped after any other event, a release it does not hold, or an append after another head", () => {
    const upgrade = (to: string, prevHash = HEAD) =>
      event("PluginUpgraded", { pluginId: "momentum", from: "1.0.0", to }, prevHash);
    const deprecated = event("VersionDeprecated", { pluginId: "momentum", version: "1.0.0" });
    expect(carriedForward(heldAt(HEAD), named, [deprecated], versions, head)).toBeUndefined();
    expect(carriedForward(heldAt(HEAD), named, [upgrade("1.2.0")], versions, head)).toBeUndefined();
    expect(carriedForward(heldAt(HEAD), named, [upgrade("1.1.0", NEXT)], versions, head)).toBeUndefined();
    expect(
      carriedForward(heldAt(HEAD), new Set(["other"]), [upgrade("1.1.0")], versions, head),
    ).toBeUndefined();
  });

  it("holds no projection that folds events by type to react to an upgrade or a rollback", () => {
    const folded = projections.flatMap((p) => ("eventTypes" in p.rebuild ? p.rebuild.eventTypes : []));
    expect(folded.length).toBeGreaterThan(0);
    for (const type of MOVES) expect(folded).not.toContain(type);
  });
});
