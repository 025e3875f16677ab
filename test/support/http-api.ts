import { buildApi, type LedgerApi } from "../../src/http/app.ts";
import type { Ledger } from "../../src/ledger/ledger.ts";
import { testLogger } from "./databases.ts";
import { type LedgerFixture, register, release, upgrade } from "./ledger-fixtures.ts";

/** Tokens of the tests' APIs: long enough for the config's rule. */
export const TOKEN = "t0ken-for-the-tests-0123456789abcdef";
export const OTHER_TOKEN = "another-token-for-the-tests-9876543210";
export const auth = { authorization: `Bearer ${TOKEN}` };

export function testApi(ledger: Ledger, heartbeatMs?: number): Promise<LedgerApi> {
  return buildApi({ ledger, tokens: [TOKEN, OTHER_TOKEN], logger: testLogger, heartbeatMs });
}

/** A small history with every kind of answer: two plugins, an upgrade, a running A/B test. */
export async function seedHistory(f: LedgerFixture): Promise<void> {
  await f.ok({ kind: "hostSet", apiVersion: "2.3.0", dbSchemaVersion: "14.0.0" });
  for (const version of ["1.0.0", "1.1.0", "1.2.0"]) await f.ok(release("momentum", version));
  await f.ok(release("grid_bot", "0.9.0", { compatibleWith: { momentum: "^1.0.0" } }));
  await f.ok(register("momentum", "1.0.0"));
  await f.ok(upgrade("momentum", "1.1.0"), { reason: "better fills" });
  await f.ok(register("grid_bot", "0.9.0"));
  await f.ok({ kind: "abTestStart", pluginId: "momentum", candidate: "1.2.0", candidateWeightBp: 2500 });
}
