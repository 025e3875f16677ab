import type { CommandRequest } from "../../src/domain/index.ts";
import type { Ledger } from "../../src/ledger/index.ts";

/** The actor of the commands a test seeds its ledger with. */
const SEED = { actor: { kind: "cli" as const, id: "seed", name: "seed" } };

/** Runs seed commands in order; one the rules refuse fails the test (the set-up stops there). */
export async function seedLedger(ledger: Ledger, commands: readonly CommandRequest[]): Promise<void> {
  for (const command of commands) {
    const result = await ledger.execute(command, SEED);
    if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.violations)}`);
  }
}
