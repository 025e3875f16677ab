import { invokeCli } from "./program.ts";

process.exitCode = await invokeCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
