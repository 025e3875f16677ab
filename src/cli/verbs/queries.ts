import type { Command } from "commander";
import { registerAuditVerb, registerHistoryVerb, registerVersionsVerb } from "./plugin-reads.ts";
import { registerRebuildVerb } from "./rebuild.ts";
import type { Run } from "./run.ts";
import { registerMatrixVerb, registerPointInTimeVerbs, registerStatusVerb } from "./state-reads.ts";

/** The read verbs (and `rebuild`), in the order `--help` lists them. */
export function registerQueryVerbs(program: Command, run: Run): void {
  registerStatusVerb(program, run);
  registerVersionsVerb(program, run);
  registerHistoryVerb(program, run);
  registerMatrixVerb(program, run);
  registerAuditVerb(program, run);
  registerPointInTimeVerbs(program, run);
  registerRebuildVerb(program, run);
}
