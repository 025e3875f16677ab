import type { Command } from "commander";
import { eventLine } from "../../ledger/index.ts";
import { positionArg } from "./arguments.ts";
import type { Run } from "./run.ts";
import { registerVerifyVerb } from "./verify.ts";

export function registerAdminVerbs(program: Command, run: Run): void {
  program
    .command("migrate")
    .description("apply pending database migrations (also done at every start)")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const { storage } = ledger;
        // Opening the ledger already migrated; this run reports what, if anything, was pending.
        const applied = await ledger.migrate();
        ctx.out.result({ ok: true, schema: ctx.config.schema, applied, location: storage.location }, () =>
          applied.length ? `applied ${applied.join(", ")}` : `schema "${ctx.config.schema}" is up to date`,
        );
      }),
    );

  registerVerifyVerb(program, run);

  program
    .command("events")
    .description("print events as JSON lines, in position order")
    .option("--from <position>", "start after this position", positionArg, 0)
    .action(
      run(async (ctx, options: { from: number }) => {
        const ledger = await ctx.ledger();
        for await (const batch of ledger.events(options.from)) {
          const lines = batch.map(eventLine);
          // Once the reader has gone (`| head -1`), the rest is not read from the database either.
          if (!(await ctx.out.write(`${lines.join("\n")}\n`))) break;
        }
      }),
    );
}
