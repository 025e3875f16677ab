import { afterEach } from "vitest";
import { createLedger, type FeedOptions, type Ledger } from "../../src/ledger/index.ts";
import { type TestDatabase, testLogger } from "./databases.ts";
import { operator } from "./ledger-fixtures.ts";

/**
 * A fresh ledger with the given feed options for each test that asks for one, on one backend;
 * after each test the ledger, then its database, is closed.
 */
export function feedLedgerPerTest(
  open: () => Promise<TestDatabase>,
  feed: FeedOptions,
): () => Promise<Ledger> {
  let test: TestDatabase | undefined;
  let ledger: Ledger | undefined;
  afterEach(async () => {
    await ledger?.close();
    await test?.close();
    ledger = undefined;
    test = undefined;
  });
  return async () => {
    test = await open();
    ledger = createLedger(test.db, { schema: test.schema, logger: testLogger, feed });
    return ledger;
  };
}

/** Appends one VersionReleased (as Olga, the operator); the rules refusing it fails the test. */
export async function releaseVersion(ledger: Ledger, pluginId: string, version: string): Promise<void> {
  const result = await ledger.execute({ kind: "release", pluginId, version, author: "olga" } as never, {
    actor: operator,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
}
