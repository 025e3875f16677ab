import { buildProgram, report } from "./program.ts";

let exitCode = 0;
const program = buildProgram((code) => {
  exitCode = code;
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander already printed its usage error on stderr.
  exitCode = report(error);
}
process.exitCode = exitCode;
