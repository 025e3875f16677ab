import { expect } from "vitest";
import type { Command } from "../../src/domain/index.ts";

/** The fuzz tests' ledger: a declared host, plugin alpha in three versions (1.1.0 running), beta released. */
export const FUZZ_SEED: readonly Command[] = [
  { kind: "hostSet", apiVersion: "2.4.0", dbSchemaVersion: "7.0.0" },
  ...["1.0.0", "1.1.0", "2.0.0"].map(
    (version): Command => ({
      kind: "release",
      pluginId: "alpha",
      version,
      buildDate: "2026-01-02",
      author: "ci",
    }),
  ),
  { kind: "release", pluginId: "beta", version: "1.0.0", buildDate: "2026-01-02", author: "ci" },
  { kind: "register", pluginId: "alpha", version: "1.1.0" },
];

/**
 * Runs a property and then fails if any promise was rejected with nobody to handle it meanwhile
 * (a handler that threw after answering): the answers alone would not show it.
 */
export async function withoutUnhandledRejections(property: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    await property();
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  expect(unhandled).toEqual([]);
}
