import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli } from "./bundle-cli.ts";

/**
 * Compiles src/ and projections/ into dist/, which `bin/plugin-ledger.js`, `npm start` and the
 * library exports run: Node then loads plain JavaScript instead of compiling TypeScript at every
 * start; the CLI is then bundled into a few files (bundle-cli.ts). `npm install` and `npm ci`
 * run it (the `prepare` script); the tests and the start-up bench run it when a source is newer
 * than the build (`buildIfStale`), so they never run a stale dist.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = path.join(ROOT, "dist");
// Written last: its time is the build's, and its absence marks a build that did not finish.
const STAMP = path.join(DIST, ".built");
// Built aside, then swapped in, so a CLI started during a build never sees half a dist.
const NEXT = path.join(ROOT, ".dist-next");
// What the build is made of. The compiled code reads the migrations and the version from dist/.
export const INPUTS = [
  "src",
  "projections",
  "migrations",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  // The bundle holds copies of packages: a changed dependency makes the build stale.
  "package-lock.json",
  "scripts/build.ts",
  "scripts/bundle-cli.ts",
];

export async function build(): Promise<void> {
  rmSync(NEXT, { recursive: true, force: true });
  // The build only emits (noCheck): `tsc --noEmit` checks the types, in `npm run lint` and CI, so an
  // install without the dev dependencies (no @types packages) still builds.
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const compiled = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", NEXT], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (compiled.status !== 0) {
    rmSync(NEXT, { recursive: true, force: true });
    throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal}); dist/ left as it was`);
  }
  const { version, dependencies } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    version: string;
    dependencies: Record<string, string>;
  };
  try {
    await bundleCli(NEXT, Object.keys(dependencies));
  } catch (error) {
    rmSync(NEXT, { recursive: true, force: true });
    throw new Error(`bundling the CLI failed (${(error as Error).message}); dist/ left as it was`);
  }
  cpSync(path.join(ROOT, "migrations"), path.join(NEXT, "migrations"), { recursive: true });
  // `--version` reads the version from the package.json two folders above the CLI's module.
  writeFileSync(path.join(NEXT, "package.json"), `${JSON.stringify({ version, type: "module" }, null, 2)}\n`);
  writeFileSync(path.join(NEXT, ".built"), `${new Date().toISOString()}\n`);
  rmSync(DIST, { recursive: true, force: true });
  renameSync(NEXT, DIST);
}

/** Builds when dist/ is missing, unfinished, or older than any of its inputs; says whether it built. */
export async function buildIfStale(): Promise<boolean> {
  const builtAt = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  const stale = INPUTS.some((input) => newestChange(path.join(ROOT, input)) > builtAt);
  if (stale) await build();
  return stale;
}

function newestChange(file: string): number {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // A deleted file shows only in its directory's time, hence the directory itself counts too.
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestChange(path.join(file, entry)));
  return newest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await build();
  } catch (error) {
    process.stderr.write(`build: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
