import type { CliContext } from "../context.ts";

/** Wraps a verb: opens the context, runs it, maps its failure to an exit code, closes. */
export type Run = <A extends unknown[]>(
  verb: (ctx: CliContext, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;
