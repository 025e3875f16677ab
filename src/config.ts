import { z } from "zod";

/** A lower-case SQL identifier: it is spliced into SQL as a schema name, so nothing else is allowed. */
const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier (a-z, 0-9, _)");

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  LEDGER_DATA_DIR: z.string().min(1).default("./.ledger"),
  LEDGER_SCHEMA: schemaName.default("ledger"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
});

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  schema: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  poolSize: number;
};

export class ConfigError extends Error {}

/** Reads the environment once; everything below receives the result, nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as a shell user would expect of `DATABASE_URL= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${z.prettifyError(parsed.error).replace(/\n\s*/g, " ")}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.LEDGER_DATA_DIR,
    schema: e.LEDGER_SCHEMA,
    logLevel: e.LOG_LEVEL,
    poolSize: e.DATABASE_POOL_SIZE,
  };
}
