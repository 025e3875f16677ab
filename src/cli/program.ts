import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import {
  ConcurrencyError,
  DatabaseUnavailableError,
  IdempotencyConflictError,
  SigningKeyError,
  TransparencyError,
} from "../ledger/index.ts";
import { type CliContext, type CliIo, createContext, type GlobalOptions, wantsJson } from "./context.ts";
import { CliError, ExitCode } from "./exit-codes.ts";
import type { CliStream } from "./output.ts";
import { registerAbTestVerbs } from "./verbs/abtest.ts";
import { registerAdminVerbs } from "./verbs/admin.ts";
import { registerBotVerb } from "./verbs/bot.ts";
import { registerChangeVerbs } from "./verbs/changes.ts";
import { registerDiffVerb } from "./verbs/diff.ts";
import { registerFeedVerbs } from "./verbs/feed.ts";
import { registerQueryVerbs } from "./verbs/queries.ts";
import { registerServeVerb } from "./verbs/serve.ts";
import { registerStartVerb } from "./verbs/start.ts";
import { registerTimelineVerb } from "./verbs/timeline.ts";
import { registerTransparencyVerbs } from "./verbs/transparency.ts";

/**
 * Runs `plugin-ledger <argv>` against the given streams and environment and returns the exit
 * code; it throws nothing. `main.ts` runs it on the process; the tests run it in-process.
 */
export async function invokeCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    // Commander already printed its usage error on stderr.
    exitCode = report(error, io);
  }
  return exitCode;
}

/**
 * Builds the `plugin-ledger` program. Each verb module parses its arguments, calls the ledger and
 * formats the answer; this file only wires them and turns failures into exit codes.
 */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("plugin-ledger")
    .description("an event-sourced version ledger for the plugins of a trading bot")
    .version(packageVersion(), "-V, --version", "print the version of plugin-ledger")
    .option("--json", "print one JSON document on stdout (the same as -o json)")
    .addOption(
      new Option(
        "-o, --output <format>",
        "json: one JSON document on stdout; table: lines for a person",
      ).choices(["json", "table"]),
    )
    .option("--actor <name>", "who is acting (default cli:<os user>)")
    .option("--reason <text>", "why (recorded on every change)")
    // Every verb's --help lists these too, as kubectl's and helm's do.
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Usage errors are one line, like every other error; --help tells the rest.
      outputError: (text, write) => write(`plugin-ledger: ${usageLine(text)} (see --help)\n`),
    });

  const run =
    <A extends unknown[]>(verb: (ctx: CliContext, ...args: A) => Promise<void>) =>
    async (...args: unknown[]) => {
      // Commander passes the positional arguments, the verb's options, then the Command itself.
      const ctx = createContextOrExit(program.opts<GlobalOptions>(), io, setExitCode);
      if (!ctx) return;
      try {
        await verb(ctx, ...(args.slice(0, -1) as A));
      } catch (error) {
        // An argument a verb checks itself is a usage error as commander's own are, but unprinted.
        const failure =
          error instanceof InvalidArgumentError ? new CliError(error.message, ExitCode.invalid) : error;
        setExitCode(report(failure, io, ctx.config.logLevel === "debug"));
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
  registerFeedVerbs(program, run);
  registerBotVerb(program, run);
  registerServeVerb(program, run);
  return program;
}

/** The version in package.json, read when `--version` is built (the CLI runs from the source tree). */
function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

function createContextOrExit(options: GlobalOptions, io: CliIo, setExitCode: (code: number) => void) {
  let config: Config | undefined;
  try {
    const json = wantsJson(options);
    config = loadConfig(io.env);
    return createContext(options, io, json, config);
  } catch (error) {
    setExitCode(report(error, io, config?.logLevel === "debug"));
    return undefined;
  }
}

/** Lines of an error message are one line here; a value pasted into it cannot flood the terminal. */
const MAX_LINE = 400;

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what goes.
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > MAX_LINE ? `${flat.slice(0, MAX_LINE)}…` : flat;
}

/**
 * Commander's usage error as one line; a rejected value is named once, by our own parser's
 * message, quoted and cut short, not pasted in raw by commander as well.
 */
function usageLine(text: string): string {
  return oneLine(
    text
      .replace(/^error: /, "")
      .replace(/^command-argument value [\s\S]* is invalid for argument '([^']+)'\. /, "<$1>: ")
      .replace(/^option '([^']+)' argument [\s\S]* is invalid\. /, "$1: "),
  );
}

/**
 * One clear line on stderr, and the exit code of DESIGN.md for the kind of failure. `debug`
 * (LOG_LEVEL=debug, as the loaded configuration says) adds an unexpected error's stack; before
 * one is loaded (commander's usage errors, a configuration that does not load) there is none.
 */
export function report(error: unknown, io: { stderr: CliStream }, debug = false): number {
  const say = (message: string) => message && io.stderr.write(`plugin-ledger: ${oneLine(message)}\n`);
  if (error instanceof CliError) {
    say(error.message);
    return error.exitCode;
  }
  if (error instanceof DatabaseUnavailableError) {
    say(error.message);
    return ExitCode.unexpected;
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
  if (debug && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return ExitCode.unexpected;
}
