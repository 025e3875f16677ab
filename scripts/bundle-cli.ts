import { readFile } from "node:fs/promises";
import path from "node:path";
import { build, type Plugin } from "esbuild";

/**
 * Bundles the compiled CLI (`<dist>/src/cli/main.js`, tsc's output) into itself and a few shared
 * chunks, in the same folder. A CLI call then compiles a handful of files instead of about 370
 * modules (ours, zod's, semver's, pino's, commander's and pg's), each resolved, read and linked
 * by Node's ESM loader one by one: that was about a third of `status --json`'s start-up.
 *
 * Bundled: our code and the small pure-JavaScript packages every call loads. Left as packages:
 * those with native or WASM files found next to their modules, and the heavy ones only some
 * verbs load, which stay lazy imports (PGlite, resvg, vega, telegraf, fastify, node-pg-migrate).
 * fastify-type-provider-zod is bundled too, so that `serve` has one copy of zod: the routes'
 * schemas and the type provider that validates with them and turns them into the OpenAPI
 * document.
 *
 * Every chunk lands in `dist/src/cli/`, two folders under `dist/` as `src/cli` and `src/store`
 * are: the two paths our code takes from `import.meta.url` (`../../package.json` in
 * cli/program.ts, `../../migrations` in store/migrate.ts) stay right only because their modules
 * sit at that depth too. The library (`dist/src/index.js`) is not bundled.
 */
const BUNDLED = new Set([
  "commander",
  "fastify-type-provider-zod",
  "murmurhash3js",
  "pg",
  "pino",
  "semver",
  "zod",
]);

export async function bundleCli(dist: string, dependencies: readonly string[]): Promise<void> {
  const external = dependencies.filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);
  const outdir = path.join(dist, "src", "cli");
  await build({
    entryPoints: [path.join(outdir, "main.js")],
    outdir,
    allowOverwrite: true,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // pg's optional native binding is never installed; it stays a require that is never taken.
    external: [...external, "pg-native"],
    // Bundled CommonJS packages require Node's modules; an ES module has no `require` of its own.
    banner: {
      js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);',
    },
    plugins: [pgNodeStreams],
    logLevel: "warning",
  });
}

/**
 * pg asks whether it runs in a Cloudflare Worker by constructing a global `Response`, which makes
 * Node 20 load its whole fetch implementation (undici): about 35 ms of every CLI call. The bundle
 * runs on Node only, so pg's stream module takes Node's sockets without asking. Should pg change
 * that code, the build says so and bundles the module as it is (slower, still right).
 */
const pgNodeStreams: Plugin = {
  name: "pg-node-streams",
  setup(bundler) {
    bundler.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const asked = "if (isCloudflareRuntime()) {";
      if (!source.includes(asked)) {
        return {
          contents: source,
          loader: "js",
          warnings: [{ text: "pg's runtime check changed; bundled as it is" }],
        };
      }
      return { contents: source.replace(asked, "if (false) {"), loader: "js" };
    });
  },
};
