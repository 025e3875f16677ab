import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { CommandRequest, ReleaseInput } from "../../domain/index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { reportChange } from "./change-output.ts";
import type { Run } from "./run.ts";

export type ChangeOptions = { dryRun?: boolean; force?: boolean; idempotencyKey?: string };

/** --dry-run, --force and --idempotency-key, on every verb that writes. */
export function mutating(command: Command): Command {
  return command
    .option("--dry-run", "show the plan and the violations, write nothing")
    .option("--force", "record rule violations as overrides (admin; needs --reason)")
    .option("--idempotency-key <key>", "a retried request with this key is answered, not written twice");
}

export async function execute(
  ctx: CliContext,
  command: CommandRequest,
  options: ChangeOptions,
): Promise<void> {
  const ledger = await ctx.ledger();
  const result = await ledger.execute(command, {
    actor: ctx.actor,
    reason: ctx.reason,
    force: options.force === true,
    dryRun: options.dryRun === true,
    idempotencyKey: options.idempotencyKey,
  });
  reportChange(ctx, result);
}

function collect(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^=\s]+)=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected plugin=RANGE, got "${value}"`);
  return { ...previous, [match[1] as string]: (match[2] as string).trim() };
}

function position(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`a position is a whole number from 1, not "${value}"`);
  }
  return n;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function registerChangeVerbs(program: Command, run: Run): void {
  mutating(
    program
      .command("release <plugin> <version>")
      .description("publish a released version with its metadata and requirements")
      .option("--commit <hash>", "commit hash (7-40 hex)")
      .option("--author <name>", "author (default: the actor)")
      .option("--build-date <iso>", "build date (default: now)")
      .option("--requires-api <range>", "ServiceAPI versions it needs (semver range)")
      .option("--requires-db <range>", "DB schema versions it needs (semver range)")
      .option(
        "--compat <plugin=range>",
        "a plugin and the range of its versions this works with (repeat)",
        collect,
      )
      .option("--features <a,b>", "features, comma separated", list)
      .option("--notes <text>", "release notes"),
  ).action(
    run(async (ctx, pluginId: string, version: string, o: ChangeOptions & Record<string, unknown>) => {
      const release: ReleaseInput = {
        pluginId,
        version,
        buildDate: o.buildDate as string,
        author: (o.author as string) ?? ctx.actor.name,
        commitHash: (o.commit as string | undefined) ?? null,
        requires: { api: (o.requiresApi as string) ?? null, dbSchema: (o.requiresDb as string) ?? null },
        compatibleWith: (o.compat as Record<string, string>) ?? {},
        features: (o.features as string[]) ?? [],
        releaseNotes: (o.notes as string) ?? "",
      };
      await execute(ctx, { kind: "release", ...release }, o);
    }),
  );

  mutating(
    program
      .command("import <file>")
      .description(
        "release every version listed in a JSON file ([{pluginId, version, ...}]), all or nothing",
      ),
  ).action(
    run(async (ctx, file: string, o: ChangeOptions) => {
      const releases = await readReleases(file);
      await execute(ctx, { kind: "import", releases }, o);
    }),
  );

  mutating(program.command("deprecate <plugin> <version>").description("mark a version deprecated")).action(
    run(async (ctx, pluginId: string, version: string, o: ChangeOptions) => {
      await execute(ctx, { kind: "deprecate", pluginId, version, reason: ctx.reason }, o);
    }),
  );

  mutating(
    program.command("register <plugin> <version>").description("activate a plugin that is not active"),
  ).action(
    run(async (ctx, pluginId: string, version: string, o: ChangeOptions) => {
      await execute(ctx, { kind: "register", pluginId, version }, o);
    }),
  );

  mutating(
    program
      .command("upgrade <plugin> <version>")
      .description("switch an active plugin to another released version (a lower one is a downgrade)")
      .option("--allow-major", "allow crossing a MAJOR version"),
  ).action(
    run(async (ctx, pluginId: string, version: string, o: ChangeOptions & { allowMajor?: boolean }) => {
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
    run(
      async (
        ctx,
        pluginId: string,
        version: string | undefined,
        o: ChangeOptions & { toPosition?: number },
      ) => {
        if (version !== undefined && o.toPosition !== undefined) {
          throw new CliError("rollback takes a version or --to-position, not both", ExitCode.invalid);
        }
        await execute(ctx, { kind: "rollback", pluginId, version, toPosition: o.toPosition }, o);
      },
    ),
  );

  mutating(program.command("deactivate <plugin>").description("stop running a plugin")).action(
    run(async (ctx, pluginId: string, o: ChangeOptions) => {
      await execute(ctx, { kind: "deactivate", pluginId }, o);
    }),
  );

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
    run(async (ctx, o: ChangeOptions & { api: string; dbSchema: string }) => {
      await execute(ctx, { kind: "hostSet", apiVersion: o.api, dbSchemaVersion: o.dbSchema }, o);
    }),
  );
}

/** The import file: a JSON array of releases, or {"releases": [...]}. */
async function readReleases(file: string): Promise<ReleaseInput[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.invalid);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`, ExitCode.invalid);
  }
  const releases = Array.isArray(parsed) ? parsed : (parsed as { releases?: unknown })?.releases;
  if (!Array.isArray(releases)) {
    throw new CliError(
      `${file} must hold a JSON array of releases (or {"releases": [...]})`,
      ExitCode.invalid,
    );
  }
  // Each entry is checked by the rules (INVALID_INPUT names the entry); only the shape is ours.
  return releases as ReleaseInput[];
}
