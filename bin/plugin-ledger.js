#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the `prepare` script). Without it
// (an install with --ignore-scripts, a deleted dist/) the TypeScript sources run through tsx,
// which works but starts about a second slower, so it says so.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    "plugin-ledger: dist/ is not built (npm run build); running the sources through tsx\n",
  );
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
