import type { Command } from "commander";
import { migrate } from "../../store/migrate.ts";
import { verifyChain } from "../../store/verify.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { endProgress } from "../output.ts";
import { nonNegativeInt } from "./arguments.ts";

type Run = <A extends unknown[]>(
  verb: (ctx: CliContext, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

export function registerAdminVerbs(program: Command, run: Run): void {
  program
    .command("migrate")
    .description("apply pending database migrations (also done at every start)")
    .action(
      run(async (ctx) => {
        const { db } = await ctx.store();
        // ctx.store() already migrated; a second run reports that nothing was pending.
        const applied = await migrate(db.pool, ctx.config.schema, ctx.logger);
        ctx.out.result({ ok: true, schema: ctx.config.schema, applied, location: db.location }, () =>
          applied.length ? `applied ${applied.join(", ")}` : `schema "${ctx.config.schema}" is up to date`,
        );
      }),
    );

  program
    .command("verify")
    .description("walk the hash chain and name the first bad position (exit 5 when tampered)")
    .action(
      run(async (ctx) => {
        const { store } = await ctx.store();
        const started = Date.now();
        const result = await verifyChain(store, (checked, total) => {
          if (Date.now() - started > 1000) ctx.out.progress(`verified ${checked}/${total} events`);
        });
        endProgress();
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
    .option("--from <position>", "start after this position", nonNegativeInt, 0)
    .action(
      run(async (ctx, options: { from: number }) => {
        const { store } = await ctx.store();
        for await (const batch of store.readAllBatches(options.from)) {
          const lines = batch.map((e) =>
            JSON.stringify({
              ...e,
              recordedAt: e.recordedAt.toISOString(),
              prevHash: e.prevHash.toString("hex"),
              hash: e.hash.toString("hex"),
            }),
          );
          // Respect back-pressure: a million events piped into `head` must not buffer in memory.
          if (!process.stdout.write(`${lines.join("\n")}\n`)) {
            await new Promise((resolve) => process.stdout.once("drain", resolve));
          }
        }
      }),
    );
}
