import type { Command } from "commander";
import { CliError, ExitCode } from "../exit-codes.ts";
import { positionArg } from "./arguments.ts";

import type { Run } from "./run.ts";

export function registerAdminVerbs(program: Command, run: Run): void {
  program
    .command("migrate")
    .description("apply pending database migrations (also done at every start)")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const { database } = ledger;
        // Opening the ledger already migrated; this run reports what, if anything, was pending.
        const applied = await ledger.migrate();
        ctx.out.result({ ok: true, schema: ctx.config.schema, applied, location: database.location }, () =>
          applied.length ? `applied ${applied.join(", ")}` : `schema "${ctx.config.schema}" is up to date`,
        );
      }),
    );

  program
    .command("verify")
    .description("walk the hash chain and name the first bad position (exit 5 when tampered)")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const started = Date.now();
        const result = await ledger.verify((checked, total) => {
          if (Date.now() - started > 1000) ctx.out.progress(`verified ${checked}/${total} events`);
        });
        ctx.out.endProgress();
        ctx.out.result(result, () =>
          result.ok
            ? `chain verifies: ${result.events} events, head ${result.headHash}`
            : `TAMPERED at position ${result.firstBadPosition}: ${result.problem}`,
        );
        if (!result.ok) throw new CliError("", ExitCode.tampered);
      }),
    );

  program
    .command("events")
    .description("print events as JSON lines, in position order")
    .option("--from <position>", "start after this position", positionArg, 0)
    .action(
      run(async (ctx, options: { from: number }) => {
        const ledger = await ctx.ledger();
        for await (const batch of ledger.events(options.from)) {
          const lines = batch.map((e) => JSON.stringify(e));
          // Once the reader has gone (`| head -1`), the rest is not read from the database either.
          if (!(await ctx.out.write(`${lines.join("\n")}\n`))) break;
        }
      }),
    );
}
