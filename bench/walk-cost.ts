/**
 * What one walk over the whole ledger (a read, a rebuild, a verify) cost the process that ran
 * it: a child of the bench's, so that the figures are the walk's own.
 */
export type WalkCost = {
  seconds: number;
  perSecond: number;
  /** CPU time (user + system) of this process per event: steadier than events/s on a busy machine. */
  cpuMicrosPerEvent: number;
  /** Peak RSS of the whole process, in MB. */
  peakRssMb: number;
};

/** Runs `walk`, which says how many events it went over, and adds what it cost to its result. */
export async function measureWalk<T extends { events: number }>(
  walk: () => Promise<T>,
): Promise<T & WalkCost> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await walk();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...result,
    seconds,
    perSecond: result.events / seconds,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / result.events,
    peakRssMb: peakRssMb(),
  };
}

/** This process's peak RSS so far, in MB. */
export function peakRssMb(): number {
  // resourceUsage reports kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}
