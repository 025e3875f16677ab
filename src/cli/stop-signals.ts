import type { CliContext } from "./context.ts";
import { ExitCode } from "./exit-codes.ts";

/**
 * A long-running verb's stop: the first SIGINT or SIGTERM calls `stop` (finish what is in hand,
 * then return); a second one exits at once. Answers the function that removes the handlers.
 */
export function onStopSignals(ctx: CliContext, stop: (signal: NodeJS.Signals) => void): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      ctx.logger.warn({ signal }, "second signal: exiting now");
      process.exit(ExitCode.unexpected);
    }
    signalled = true;
    stop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
