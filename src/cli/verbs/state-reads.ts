import type { Command } from "commander";
import { type StatusView, statusDocument } from "../../ledger/index.ts";
import type { CliContext } from "../context.ts";
import { matrixText, statusText } from "../read-tables.ts";
import { pointInLedger } from "./arguments.ts";
import type { Run } from "./run.ts";

/** What runs: now (`status`), at a point (`asof`), folded from scratch (`replay`), and whether it fits (`matrix`). */

function printStatus(ctx: CliContext, view: StatusView, heading: string): void {
  ctx.out.result(statusDocument(view), () => statusText(view, heading, ctx.out.width));
}

export function registerStatusVerb(program: Command, run: Run): void {
  program
    .command("status")
    .description("what runs now: every active plugin and the host's versions")
    .action(
      run(async (ctx) => {
        const view = await (await ctx.ledger()).status();
        printStatus(ctx, view, `as of position ${view.position} (now)`);
      }),
    );
}

export function registerMatrixVerb(program: Command, run: Run): void {
  program
    .command("matrix")
    .description("declared compatibility of the running versions, and whether the running set honours it")
    .option("--all", "also what the releases that do not run declare, and whether they would fit")
    .action(
      run(async (ctx, o: { all?: boolean }) => {
        const view = await (await ctx.ledger()).matrix();
        ctx.out.result(view, () => matrixText(view, o.all === true, ctx.out.width));
      }),
    );
}

export function registerPointInTimeVerbs(program: Command, run: Run): void {
  program
    .command("asof")
    .argument("<point>", "a position or an ISO-8601 time", pointInLedger)
    .description("what ran at a position or an ISO-8601 time (indexed, not a replay)")
    .action(
      run(async (ctx, at: number | Date) => {
        const view = await (await ctx.ledger()).asOf(at);
        printStatus(ctx, view, `as of position ${view.position}`);
      }),
    );

  program
    .command("replay")
    .description("fold every event from scratch to a point (default: the head) and show what ran")
    .option("--to <point>", "a position or an ISO-8601 time", pointInLedger)
    .action(
      run(async (ctx, o: { to?: number | Date }) => {
        const view = await (await ctx.ledger()).replay({ to: o.to });
        printStatus(ctx, view, `replayed to position ${view.position}`);
      }),
    );
}
