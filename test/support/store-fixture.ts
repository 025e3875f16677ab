import { afterAll, beforeAll } from "vitest";
import type { Metadata } from "../../src/store/event-store.ts";
import { type AppendingStore, appendingStore } from "./appending-store.ts";
import type { TestDatabase } from "./databases.ts";

export const actor: Metadata = { actor: { kind: "system", id: "test" } };

export type StoreFixture = { ledger: TestDatabase; store: AppendingStore };

/**
 * A ledger of its own for the suite (opened before its tests, closed after them) and a bare
 * appending store on it, its statements prepared where the backend allows it.
 */
export function storeFixture(open: () => Promise<TestDatabase>): StoreFixture {
  const fixture = {} as StoreFixture;
  beforeAll(async () => {
    fixture.ledger = await open();
    fixture.store = appendingStore({
      pool: fixture.ledger.db.pool,
      schema: fixture.ledger.schema,
      prepareStatements: !fixture.ledger.db.sharedSession,
    });
  });
  afterAll(async () => {
    await fixture.ledger?.close();
  });
  return fixture;
}
