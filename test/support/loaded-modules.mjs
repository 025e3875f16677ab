// Preloaded with `node --import` into a CLI process under test: writes every module the process
// loads, one URL or path a line, to the file named by LOADED_MODULES_FILE. ES modules are seen by a
// loader hook (this same file, in the loader's thread); CommonJS ones required by other CommonJS
// ones only in the require cache, which is written out at exit.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { isMainThread } from "node:worker_threads";

const file = process.env.LOADED_MODULES_FILE;

if (isMainThread && file) {
  register(import.meta.url);
  const cache = createRequire(import.meta.url)("node:module")._cache;
  process.on("exit", () => appendFileSync(file, `${Object.keys(cache).join("\n")}\n`));
}

export async function load(url, context, next) {
  const loaded = await next(url, context);
  if (file) appendFileSync(file, `${url}\n`);
  return loaded;
}
