import type { Logger } from "../log.ts";

/** A writer whose clock is further than this from the database's is warned about. */
export const CLOCK_SKEW_WARNING_MS = 60_000;
/** ... and then no more than once an hour per store, however many appends it makes. */
const SKEW_WARNING_INTERVAL_MS = 3_600_000;

/**
 * One clock for recorded_at is the database's; a writer far from it is told, not obeyed. The
 * returned function hears the database's time at each append.
 */
export function skewWarning(clock: () => Date, logger: Logger | undefined): (databaseTime: Date) => void {
  let skewWarnedAt: number | null = null;
  return (databaseTime) => {
    const skewMs = clock().getTime() - databaseTime.getTime();
    if (Math.abs(skewMs) <= CLOCK_SKEW_WARNING_MS) return;
    const now = performance.now();
    if (skewWarnedAt !== null && now - skewWarnedAt < SKEW_WARNING_INTERVAL_MS) return;
    skewWarnedAt = now;
    logger?.warn(
      { skewMs, databaseTime: databaseTime.toISOString(), processTime: clock().toISOString() },
      "this process's clock differs from the database's by more than a minute; events are recorded at the database's time",
    );
  };
}
