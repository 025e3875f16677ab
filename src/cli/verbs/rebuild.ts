import type { Command } from "commander";
import { ChainTamperedError, type RebuildResult } from "../../ledger/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import type { Run } from "./run.ts";

export function registerRebuildVerb(program: Command, run: Run): void {
  program
    .command("rebuild")
    .description(
      "recreate every projection from the events (exit 5 if the chain does not verify, unless --force --reason)",
    )
    .option("--force", "rebuild even from a chain that does not verify (needs --reason)")
    .action(
      run(async (ctx, o: { force?: boolean }) => {
        const reason = ctx.reason?.trim();
        if (o.force && !reason) {
          throw new CliError(
            "rebuild --force needs --reason: why rebuild from a tampered chain",
            ExitCode.invalid,
          );
        }
        const started = Date.now();
        const ledger = await ctx.ledger();
        let result: RebuildResult;
        try {
          result = await ledger.rebuild(
            (done, total) => {
              if (Date.now() - started > 1000) ctx.out.progress(`rebuilt ${done}/${total} events`);
            },
            o.force && reason ? { force: { reason } } : {},
          );
        } catch (error) {
          ctx.out.endProgress();
          if (!(error instanceof ChainTamperedError)) throw error;
          ctx.out.result(
            { ok: false, firstBadPosition: error.broken.position, problem: error.broken.problem },
            () => `TAMPERED at position ${error.broken.position}: ${error.broken.problem}`,
          );
          throw new CliError(
            `refusing to rebuild: the chain does not verify at position ${error.broken.position}; nothing was changed (--force --reason TEXT rebuilds anyway)`,
            ExitCode.tampered,
          );
        }
        ctx.out.endProgress();
        const { forced } = result;
        ctx.out.result({ ok: true, ...result }, () =>
          forced
            ? `FORCED: rebuilt the projections from ${result.events} events although the chain does not verify at position ${forced.position} (${forced.problem}); reason: ${forced.reason}`
            : `rebuilt the projections from ${result.events} events in ${result.ms} ms`,
        );
      }),
    );
}
