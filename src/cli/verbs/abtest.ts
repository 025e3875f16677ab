import { type Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { parsePercent } from "../../domain/index.ts";
import type { Assignment } from "../../ledger/index.ts";
import { itemsDocument } from "../../ledger/index.ts";
import { missingSubcommand } from "../unknown-verb.ts";
import { pluginIdArg, pointInLedger, requireKnownPlugins } from "./arguments.ts";
import { ChangeOptions, execute, mutating, parseOptions } from "./change-options.ts";
import type { Run } from "./run.ts";

const StartOptions = ChangeOptions.extend({ weight: z.number().int(), allowMajor: z.boolean().optional() });

/**
 * A percentage in basis points, exactly ("12.5" -> 1250, "0.01" -> 1); more than two decimals, or
 * not a number, is a usage error (exit 2). The range, 0.01 to 99.99, is the rules' to judge.
 */
export function percentArg(value: string): number {
  const weightBp = parsePercent(value);
  if (weightBp === null) {
    throw new InvalidArgumentError(
      `expected a percentage such as 10 or 12.5 (at most two decimals), got "${value}"`,
    );
  }
  return weightBp;
}

/** `abtest start|weight|promote|abort|assign`: the A/B verbs, each a change but `assign`. */
export function registerAbTestVerbs(program: Command, run: Run): void {
  const abtest = program
    .command("abtest")
    .description("A/B tests: start one, change its split, promote or abort it, and assign units")
    .usage("<command> [options]")
    // Only reached without a known command: answered in one line (see missingSubcommand).
    .argument("[words...]")
    .action(
      run(async (_ctx, words: string[]) => {
        throw missingSubcommand(abtest, words[0]);
      }),
    );
  registerAbTestChanges(abtest, run);
  registerAssignVerb(abtest, run);
}

function registerAbTestChanges(abtest: Command, run: Run): void {
  mutating(
    abtest
      .command("start <plugin> <candidate>")
      .description("test a released version against the active one (the control)")
      .requiredOption("--weight <pct>", "the candidate's share of units, 0.01 to 99.99 percent", percentArg)
      .option("--allow-major", "allow a candidate in another MAJOR version"),
  ).action(
    run(async (ctx, pluginId: string, candidate: string, raw: unknown) => {
      const o = parseOptions(StartOptions, raw);
      const start = { pluginId, candidate, candidateWeightBp: o.weight, allowMajor: o.allowMajor === true };
      await execute(ctx, { kind: "abTestStart", ...start }, o);
    }),
  );

  mutating(
    abtest
      .command("weight <plugin>")
      .argument("<pct>", "the candidate's new share, 0.01 to 99.99 percent", percentArg)
      .description(
        "change the split of the running test (units in the candidate arm stay there as it grows)",
      ),
  ).action(
    run(async (ctx, pluginId: string, weightBp: number, raw: unknown) => {
      const o = parseOptions(ChangeOptions, raw);
      await execute(ctx, { kind: "abTestWeight", pluginId, candidateWeightBp: weightBp }, o);
    }),
  );

  mutating(
    abtest.command("promote <plugin>").description("make the candidate the active version and end the test"),
  ).action(
    run(async (ctx, pluginId: string, raw: unknown) => {
      await execute(ctx, { kind: "abTestPromote", pluginId }, parseOptions(ChangeOptions, raw));
    }),
  );

  mutating(abtest.command("abort <plugin>").description("end the test; the control keeps running")).action(
    run(async (ctx, pluginId: string, raw: unknown) => {
      await execute(ctx, { kind: "abTestAbort", pluginId }, parseOptions(ChangeOptions, raw));
    }),
  );
}

function registerAssignVerb(abtest: Command, run: Run): void {
  abtest
    .command("assign")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .argument("<unitKey...>", "units (symbols, accounts)")
    .description("the version and arm each unit (a symbol, an account) gets, now or at a point")
    .option("--at <point>", "a position or an ISO-8601 time", pointInLedger)
    .action(
      run(async (ctx, pluginId: string, unitKeys: string[], o: { at?: number | Date }) => {
        await requireKnownPlugins(ctx, [pluginId]);
        const items = await (await ctx.ledger()).assignMany(pluginId, unitKeys, o.at);
        ctx.out.result(itemsDocument(items), () => assignmentLines(items));
      }),
    );
}

/** One unit a line, `unitKey version arm`, for a person and for `while read` alike; a plugin that does not run: `unitKey - none`. */
function assignmentLines(items: Assignment[]): string {
  return items
    .map((a) => (a.version === null ? `${a.unitKey} - none` : `${a.unitKey} ${a.version} ${a.arm}`))
    .join("\n");
}
