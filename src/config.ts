import { z } from "zod";

/** A lower-case SQL identifier: it is spliced into SQL as a schema name, so nothing else is allowed. */
const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier (a-z, 0-9, _)");

/** Comma-separated numeric Telegram user ids ("123, 456"), as a list. */
const telegramUserIds = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^\d{1,15}$/, "must be numeric Telegram user ids, comma separated")))
  .transform((ids) => ids.map(Number));

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  LEDGER_DATA_DIR: z.string().min(1).default("./.ledger"),
  LEDGER_SCHEMA: schemaName.default("ledger"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  LEDGER_ORIGIN: z
    .string()
    .regex(/^[^\s+]{1,256}$/, "must be one word of at most 256 characters, without spaces or +")
    .optional(),
  LEDGER_SIGNING_KEY_FILE: z.string().min(1).optional(),
  LEDGER_CHECKPOINT_EVERY: z
    .string()
    .regex(
      /^(\d+|\d+m|\d+,\d+m)$/,
      'must be a number of events ("1000"), of minutes ("10m"), or both ("1000,10m")',
    )
    .optional(),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]+$/, "must be a bot token from BotFather (123456:ABC-...)")
    .optional(),
  TELEGRAM_API_ROOT: z.url({ protocol: /^https?$/ }).optional(),
  TELEGRAM_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    .optional(),
  TELEGRAM_WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  TELEGRAM_ADMINS: telegramUserIds.default([]),
  TELEGRAM_OPERATORS: telegramUserIds.default([]),
  TELEGRAM_VIEWERS: telegramUserIds.default([]),
  // The shell's idea of the terminal width, for tables; a stray value is ignored, not fatal.
  COLUMNS: z.coerce.number().int().positive().optional().catch(undefined),
});

/** Every variable the configuration reads, for whoever must pass them on (docker-compose.yml). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as readonly (keyof typeof envSchema.shape)[];

/** The Telegram bot's settings; the token is absent when the bot is not configured. */
export type TelegramConfig = {
  token: string | undefined;
  /** A Bot API server other than Telegram's (a local one, or the tests' fake). */
  apiRoot: string | undefined;
  /** Set: receive updates by webhook at this public base URL; unset: long polling. */
  webhook: { url: string; secret: string; port: number } | undefined;
  admins: number[];
  operators: number[];
  viewers: number[];
};

/** When the signer signs a checkpoint: after so many events, or so many minutes with new events. */
export type CheckpointEvery = { events: number | undefined; minutes: number | undefined };

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  schema: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  poolSize: number;
  /** COLUMNS: how wide the CLI's tables may be, when set. */
  columns: number | undefined;
  /** The checkpoints' origin line: `LEDGER_ORIGIN`, else `plugin-ledger/<schema>`. */
  origin: string;
  signingKeyFile: string | undefined;
  /** Unset: checkpoints are signed only on request. */
  checkpointEvery: CheckpointEvery | undefined;
  telegram: TelegramConfig;
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
  if (e.TELEGRAM_WEBHOOK_URL && !e.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError(
      "invalid configuration: TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL (Telegram sends it with every update)",
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.LEDGER_DATA_DIR,
    schema: e.LEDGER_SCHEMA,
    logLevel: e.LOG_LEVEL,
    poolSize: e.DATABASE_POOL_SIZE,
    columns: e.COLUMNS,
    origin: e.LEDGER_ORIGIN ?? `plugin-ledger/${e.LEDGER_SCHEMA}`,
    signingKeyFile: e.LEDGER_SIGNING_KEY_FILE,
    checkpointEvery: e.LEDGER_CHECKPOINT_EVERY ? checkpointEveryOf(e.LEDGER_CHECKPOINT_EVERY) : undefined,
    telegram: {
      token: e.TELEGRAM_BOT_TOKEN,
      apiRoot: e.TELEGRAM_API_ROOT,
      webhook:
        e.TELEGRAM_WEBHOOK_URL && e.TELEGRAM_WEBHOOK_SECRET
          ? { url: e.TELEGRAM_WEBHOOK_URL, secret: e.TELEGRAM_WEBHOOK_SECRET, port: e.TELEGRAM_WEBHOOK_PORT }
          : undefined,
      admins: e.TELEGRAM_ADMINS,
      operators: e.TELEGRAM_OPERATORS,
      viewers: e.TELEGRAM_VIEWERS,
    },
  };
}

function checkpointEveryOf(text: string): CheckpointEvery {
  let events: number | undefined;
  let minutes: number | undefined;
  for (const part of text.split(",")) {
    if (part.endsWith("m")) minutes = Number(part.slice(0, -1));
    else events = Number(part);
  }
  if (events === 0 || minutes === 0) {
    throw new ConfigError("invalid configuration: LEDGER_CHECKPOINT_EVERY counts from 1");
  }
  return { events, minutes };
}
