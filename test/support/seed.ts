import type { Command } from "../../src/domain/index.ts";
import type { Ledger } from "../../src/ledger/ledger.ts";

/** Executes each command as the system; a rejected one stops the set-up. */
export async function seedLedger(ledger: Ledger, commands: readonly Command[]): Promise<void> {
  for (const command of commands) {
    const result = await ledger.execute(command, { actor: { kind: "system", id: "seed" } });
    if (!result.ok) throw new Error(JSON.stringify(result.violations));
  }
}
