/**
 * Closed-loop load: `clients` async loops, each issuing its next operation as soon as the previous
 * one returns. Several ways of doing the same work (the arms: a baseline and the code under test)
 * are measured in alternating slices of the duration, so that a neighbour's load or a checkpoint
 * on a shared machine falls on every arm alike instead of on whichever ran at that moment.
 */
export type LoopResult = {
  operations: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
};

/** One operation by loop number `client`: its `n`th call in that loop, counted across slices. */
export type Operation = (client: number, n: number) => Promise<void>;

export type CompareOptions<Arm extends string> = {
  arms: Record<Arm, Operation>;
  clients: number;
  /** Measured seconds per arm, in total. */
  seconds: number;
  /** Slices per arm; consecutive slices run the arms in alternating order. */
  slices: number;
  /** Per arm, before the measurement, not counted: connections opened, statements prepared. */
  warmupSeconds: number;
  signal: AbortSignal;
};

export async function compareClosedLoops<Arm extends string>(
  options: CompareOptions<Arm>,
): Promise<Record<Arm, LoopResult>> {
  const { clients, signal } = options;
  const names = Object.keys(options.arms) as Arm[];
  const state = new Map(
    names.map((arm) => [
      arm,
      {
        operation: options.arms[arm],
        counters: Array.from({ length: clients }, () => 0),
        latencies: [] as number[],
        seconds: 0,
      },
    ]),
  );

  async function slice(arm: Arm, seconds: number, record: boolean) {
    const s = state.get(arm);
    if (!s) throw new Error(`unknown arm ${arm}`);
    const started = performance.now();
    const stopAt = started + seconds * 1000;
    const loop = async (client: number) => {
      while (!signal.aborted && performance.now() < stopAt) {
        const n = s.counters[client] ?? 0;
        s.counters[client] = n + 1;
        const t = performance.now();
        await s.operation(client, n);
        if (record) s.latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
    signal.throwIfAborted();
    // Operations started in the slice, over the time until the last of them ended.
    if (record) s.seconds += (performance.now() - started) / 1000;
  }

  for (const arm of names) await slice(arm, options.warmupSeconds, false);
  for (let i = 0; i < options.slices; i++) {
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const arm of order) await slice(arm, options.seconds / options.slices, true);
  }

  const results = {} as Record<Arm, LoopResult>;
  for (const [arm, s] of state) {
    const sorted = s.latencies.sort((a, b) => a - b);
    results[arm] = {
      operations: sorted.length,
      seconds: s.seconds,
      perSecond: sorted.length / s.seconds,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? 0,
      },
    };
  }
  return results;
}

/** The `q` quantile (0..1) of ascending `sorted`, by the nearest rank below. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * The scenarios' usual comparison: `seconds` per arm in slices of about a second (a neighbour's
 * load falls on every arm alike), after a warm-up of a fifth of it, at most one second.
 */
export function compareInSlices<Arm extends string>(
  arms: Record<Arm, Operation>,
  { clients, seconds, signal }: { clients: number; seconds: number; signal: AbortSignal },
): Promise<Record<Arm, LoopResult>> {
  return compareClosedLoops({
    arms,
    clients,
    seconds,
    slices: Math.max(1, Math.round(seconds)),
    warmupSeconds: Math.min(1, seconds / 5),
    signal,
  });
}
