import { type Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { CliError, ExitCode } from "../exit-codes.ts";
import { ChangeOptions, execute, mutating, parseOptions } from "./change-options.ts";
import { registerReleaseVerbs } from "./release.ts";
import type { Run } from "./run.ts";

const UpgradeOptions = ChangeOptions.extend({ allowMajor: z.boolean().optional() });
const RollbackOptions = ChangeOptions.extend({ toPosition: z.number().int().min(1).optional() });
const HostSetOptions = ChangeOptions.extend({ api: z.string(), dbSchema: z.string() });

function position(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`a position is a whole number from 1, not "${value}"`);
  }
  return n;
}

/** The verbs that write, in the order `--help` lists them. */
export function registerChangeVerbs(program: Command, run: Run): void {
  registerReleaseVerbs(program, run);
  registerLifecycleVerbs(program, run);
  registerHostVerbs(program, run);
}

/** A version's life: `deprecate` it; `register`, `upgrade`, `rollback`, `deactivate` a plugin. */
function registerLifecycleVerbs(program: Command, run: Run): void {
  mutating(program.command("deprecate <plugin> <version>").description("mark a version deprecated")).action(
    run(async (ctx, pluginId: string, version: string, raw: unknown) => {
      const o = parseOptions(ChangeOptions, raw);
      await execute(ctx, { kind: "deprecate", pluginId, version, reason: ctx.reason }, o);
    }),
  );

  mutating(
    program.command("register <plugin> <version>").description("activate a plugin that is not active"),
  ).action(
    run(async (ctx, pluginId: string, version: string, raw: unknown) => {
      await execute(ctx, { kind: "register", pluginId, version }, parseOptions(ChangeOptions, raw));
    }),
  );

  mutating(
    program
      .command("upgrade <plugin> <version>")
      .description("switch an active plugin to another released version (a lower one is a downgrade)")
      .option("--allow-major", "allow crossing a MAJOR version"),
  ).action(
    run(async (ctx, pluginId: string, version: string, raw: unknown) => {
      const o = parseOptions(UpgradeOptions, raw);
      await execute(ctx, { kind: "upgrade", pluginId, version, allowMajor: o.allowMajor === true }, o);
    }),
  );

  mutating(
    program
      .command("rollback <plugin> [version]")
      .description(
        "undo: go back to the version that ran before, higher or lower (or to a named version that ran)",
      )
      .option("--to-position <N>", "go back to the version that ran at position N", position)
      // Kept so that scripts written for the first rollback still run: every target ran before
      // or keeps the MAJOR, so nothing needs it.
      .addOption(new Option("--allow-major").hideHelp()),
  ).action(
    run(async (ctx, pluginId: string, version: string | undefined, raw: unknown) => {
      const o = parseOptions(RollbackOptions, raw);
      if (version !== undefined && o.toPosition !== undefined) {
        throw new CliError("rollback takes a version or --to-position, not both", ExitCode.invalid);
      }
      await execute(ctx, { kind: "rollback", pluginId, version, toPosition: o.toPosition }, o);
    }),
  );

  mutating(program.command("deactivate <plugin>").description("stop running a plugin")).action(
    run(async (ctx, pluginId: string, raw: unknown) => {
      await execute(ctx, { kind: "deactivate", pluginId }, parseOptions(ChangeOptions, raw));
    }),
  );
}

/** `host` shows the trading bot's versions, `host set` declares them. */
function registerHostVerbs(program: Command, run: Run): void {
  const host = program
    .command("host")
    .description("show the trading bot's ServiceAPI and DB schema versions (`host set` declares them)")
    .action(
      run(async (ctx) => {
        const { host: versions } = await (await ctx.ledger()).status();
        ctx.out.result({ host: versions }, () =>
          versions
            ? `ServiceAPI ${versions.apiVersion}, DB schema ${versions.dbSchemaVersion}`
            : "the host's versions are not declared (plugin-ledger host set --api V --db-schema V)",
        );
      }),
    );
  mutating(
    host
      .command("set")
      .description("declare the host's versions")
      .addOption(new Option("--api <version>", "ServiceAPI version").makeOptionMandatory())
      .addOption(new Option("--db-schema <version>", "DB schema version").makeOptionMandatory()),
  ).action(
    run(async (ctx, raw: unknown) => {
      const o = parseOptions(HostSetOptions, raw);
      await execute(ctx, { kind: "hostSet", apiVersion: o.api, dbSchemaVersion: o.dbSchema }, o);
    }),
  );
}
