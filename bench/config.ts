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
  BENCH_SSE_CLIENTS: z.coerce.number().int().min(1).max(10_000).default(1000),
  BENCH_HTTP_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(100),
  BENCH_CHANGES: z.coerce.number().int().min(10).max(100_000).default(300),
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
  /** SSE clients of the fan-out scenario. */
  sseClients: number;
  /** autocannon's connections in the HTTP scenario. */
  httpConnections: number;
  /** Appends timed through to an SSE client in the changes scenario. */
  changes: number;
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
    sseClients: e.BENCH_SSE_CLIENTS,
    httpConnections: e.BENCH_HTTP_CONNECTIONS,
    changes: e.BENCH_CHANGES,
    only: argv.filter((a) => !a.startsWith("-")),
  };
}
