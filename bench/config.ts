import { z } from "zod";

/** The bench's own settings, read once from the environment. */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  BENCH_SECONDS: z.coerce.number().positive().max(600).default(5),
  BENCH_EVENTS: z.coerce.number().int().positive().default(1_000_000),
  BENCH_CLIENTS: z.coerce.number().int().min(2).max(64).default(8),
  BENCH_SEED_BATCH: z.coerce.number().int().positive().max(100_000).default(10_000),
});

export type BenchSettings = {
  databaseUrl: string | undefined;
  /** Measured duration of each fixed-duration run (an append at N clients, its baseline, ...). */
  seconds: number;
  /** Events seeded for the replay. */
  events: number;
  /** The "many clients" level of the concurrent runs. */
  clients: number;
  /** Events per transaction when seeding through the store's bulk path. */
  seedBatch: number;
  /** Scenario names given on the command line; empty means all. */
  only: string[];
};

export function loadBenchSettings(env: NodeJS.ProcessEnv, argv: string[]): BenchSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new Error(`invalid bench settings: ${z.prettifyError(parsed.error).replace(/\n\s*/g, " ")}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    seconds: e.BENCH_SECONDS,
    events: e.BENCH_EVENTS,
    clients: e.BENCH_CLIENTS,
    seedBatch: e.BENCH_SEED_BATCH,
    only: argv.filter((a) => !a.startsWith("-")),
  };
}
