import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.ts";
import { SigningKeyError, TransparencyError } from "../index.ts";
import { ConcurrencyError, IdempotencyConflictError } from "../store/errors.ts";
import { type CliContext, createContext, type GlobalOptions } from "./context.ts";
import { CliError, ExitCode } from "./exit-codes.ts";
import { registerAbTestVerbs } from "./verbs/abtest.ts";
import { registerAdminVerbs } from "./verbs/admin.ts";
import { registerBotVerb } from "./verbs/bot.ts";
import { registerChangeVerbs } from "./verbs/changes.ts";
import { registerDiffVerb } from "./verbs/diff.ts";
import { registerQueryVerbs } from "./verbs/queries.ts";
import { registerStartVerb } from "./verbs/start.ts";
import { registerTimelineVerb } from "./verbs/timeline.ts";
import { registerTransparencyVerbs } from "./verbs/transparency.ts";

/**
 * Builds the `plugin-ledger` program. Each verb module parses its arguments, calls the ledger and
 * formats the answer; this file only wires them and turns failures into exit codes.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("plugin-ledger")
    .description("an event-sourced version ledger for the plugins of a trading bot")
    .option("--json", "print one JSON document on stdout")
    .option("--actor <name>", "who is acting (default cli:<os user>)")
    .option("--reason <text>", "why (recorded on every change)")
    .exitOverride()
    .configureOutput({
      // Usage errors are one line, like every other error; --help tells the rest.
      outputError: (text, write) =>
        write(`plugin-ledger: ${text.replace(/^error: /, "").trim()} (see --help)\n`),
    });

  const run =
    <A extends unknown[]>(verb: (ctx: CliContext, ...args: A) => Promise<void>) =>
    async (...args: unknown[]) => {
      // Commander passes the positional arguments, the verb's options, then the Command itself.
      const ctx = createContextOrExit(program.opts<GlobalOptions>(), setExitCode);
      if (!ctx) return;
      try {
        await verb(ctx, ...(args.slice(0, -1) as A));
      } catch (error) {
        setExitCode(report(error));
      } finally {
        await ctx.close().catch(() => {});
      }
    };

  registerStartVerb(program, run);
  registerChangeVerbs(program, run);
  registerAbTestVerbs(program, run);
  registerQueryVerbs(program, run);
  registerDiffVerb(program, run);
  registerTimelineVerb(program, run);
  registerAdminVerbs(program, run);
  registerTransparencyVerbs(program, run);
  registerBotVerb(program, run);
  return program;
}

function createContextOrExit(options: GlobalOptions, setExitCode: (code: number) => void) {
  try {
    return createContext(options);
  } catch (error) {
    setExitCode(report(error));
    return undefined;
  }
}

/** One clear line on stderr, and the exit code of DESIGN.md for the kind of failure. */
export function report(error: unknown): number {
  const say = (message: string) => message && process.stderr.write(`plugin-ledger: ${message}\n`);
  if (error instanceof CliError) {
    say(error.message);
    return error.exitCode;
  }
  if (
    error instanceof ConfigError ||
    error instanceof SigningKeyError ||
    error instanceof TransparencyError
  ) {
    say(error.message);
    return ExitCode.invalid;
  }
  if (error instanceof ConcurrencyError || error instanceof IdempotencyConflictError) {
    say(error.message);
    return ExitCode.conflict;
  }
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
  const message = error instanceof Error ? error.message : String(error);
  say(`unexpected error: ${message.split("\n")[0]}`);
  if (process.env.LOG_LEVEL === "debug" && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return ExitCode.unexpected;
}
