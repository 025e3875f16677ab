import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import type { ReleaseInput } from "../../domain/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { ChangeOptions, execute, mutating, parseOptions } from "./change-options.ts";
import type { Run } from "./run.ts";

const ReleaseOptions = ChangeOptions.extend({
  commit: z.string().optional(),
  author: z.string().optional(),
  buildDate: z.string().optional(),
  requiresApi: z.string().optional(),
  requiresDb: z.string().optional(),
  compat: z.record(z.string(), z.string()).optional(),
  features: z.array(z.string()).optional(),
  notes: z.string().optional(),
});

function collect(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^=\s]+)=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected plugin=RANGE, got "${value}"`);
  return { ...previous, [match[1] as string]: (match[2] as string).trim() };
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `release` one version, `import` many from a file. */
export function registerReleaseVerbs(program: Command, run: Run): void {
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
    run(async (ctx, pluginId: string, version: string, raw: unknown) => {
      const o = parseOptions(ReleaseOptions, raw);
      const release: ReleaseInput = {
        pluginId,
        version,
        // Unset, the ledger dates the release with its own clock (execute's release defaults).
        buildDate: o.buildDate as string,
        author: o.author ?? ctx.actor.name,
        commitHash: o.commit ?? null,
        requires: { api: o.requiresApi ?? null, dbSchema: o.requiresDb ?? null },
        compatibleWith: o.compat ?? {},
        features: o.features ?? [],
        releaseNotes: o.notes ?? "",
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
    run(async (ctx, file: string, raw: unknown) => {
      const o = parseOptions(ChangeOptions, raw);
      const releases = await readReleases(file);
      await execute(ctx, { kind: "import", releases }, o);
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
