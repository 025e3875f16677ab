import type { Command } from "commander";
import { verifyChain } from "../../store/verify.ts";
import type { CliContext } from "../context.ts";

type Run = <A extends unknown[]>(
  verb: (ctx: CliContext, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

/** `npm start` with no verb: apply migrations, then say where the ledger lives and whether it holds. */
export function registerStartVerb(program: Command, run: Run): void {
  program
    .command("start", { isDefault: true, hidden: true })
    .description("apply migrations and report where the ledger lives, its size and its chain")
    .action(
      run(async (ctx) => {
        const { db, store } = await ctx.store();
        const check = await verifyChain(store);
        const summary = {
          location: db.location,
          mode: db.mode,
          schema: ctx.config.schema,
          events: check.events,
          chainVerifies: check.ok,
          headHash: check.headHash,
          firstBadPosition: check.firstBadPosition,
        };
        ctx.out.result(summary, () =>
          [
            `plugin-ledger: ${db.mode === "server" ? "PostgreSQL" : "embedded PGlite"} at ${db.location} (schema ${summary.schema})`,
            `events: ${summary.events}`,
            check.ok
              ? `chain: verifies (head ${summary.headHash})`
              : `chain: TAMPERED at position ${check.firstBadPosition}: ${check.problem}`,
          ].join("\n"),
        );
      }),
    );
}
