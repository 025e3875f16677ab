import { z } from "zod";
import { type DatabaseTimeouts, DEFAULT_TIMEOUTS } from "./store/connection.ts";

/**
 * A lower-case SQL identifier: it is spliced into SQL as a schema name, so nothing else is
 * allowed; and not one of PostgreSQL's own schemas, where the ledger's tables must never go.
 */
const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier (a-z, 0-9, _)")
  .refine(
    (name) => !name.startsWith("pg_") && name !== "information_schema",
    "names one of PostgreSQL's own schemas (pg_…, information_schema); choose another",
  );

/**
 * A URL that `pg` reads as the user meant: one that does not parse would otherwise fail later as
 * a host lookup of a fragment of it. The message never repeats the URL: it may hold a password.
 */
function isPostgresUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURIComponent(url.pathname);
  } catch {
    return false;
  }
  const host = url.hostname !== "" || url.searchParams.has("host");
  return host && url.port !== "0";
}

/** A comma-separated list ("a, b"): each item trimmed, empty ones dropped, then read by `item`. */
function commaSeparated<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
}

/** Comma-separated numeric Telegram user ids ("123, 456"), as a list. */
const telegramUserIds = commaSeparated(
  z.string().regex(/^\d{1,15}$/, "must be numeric Telegram user ids, comma separated"),
).transform((ids) => ids.map(Number));

/** Comma-separated Telegram chat ids ("-1001234567890, 42"): groups are negative. */
const telegramChatIds = commaSeparated(
  z
    .string()
    .regex(/^-?[1-9]\d{0,15}$/, "must be numeric Telegram chat ids, comma separated (groups are negative)")
    .transform(Number)
    .refine((id) => Math.abs(id) <= 2 ** 52, "must be Telegram chat ids (at most 52 bits)"),
).transform((ids) => [...new Set(ids)]);

/** A timeout: at least 1 ms (0 would mean "wait for ever" to pg), at most an hour. */
const milliseconds = z.coerce.number().int().min(1).max(3_600_000);
/** Comma-separated bearer tokens, each long enough that guessing one is hopeless. */
const httpTokens = commaSeparated(
  z
    .string()
    .regex(/^[\x21-\x7e]{32,512}$/, "must be tokens of 32 to 512 printable characters, comma separated"),
);

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .refine(isPostgresUrl, "is not a valid URL; expected postgres://user:password@host:5432/database")
    .optional(),
  LEDGER_DATA_DIR: z.string().min(1).default("./.ledger"),
  LEDGER_SCHEMA: schemaName.default("ledger"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: milliseconds.default(DEFAULT_TIMEOUTS.connectMs),
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds.default(DEFAULT_TIMEOUTS.statementMs),
  DATABASE_RETRY_MS: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_TIMEOUTS.retryMs),
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
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  HTTP_TOKENS: httpTokens.default([]),
  LEDGER_WEBHOOK_URLS: commaSeparated(
    z.url({ protocol: /^https?$/, error: "must be http(s) URLs, comma separated" }),
  ).default([]),
  LEDGER_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  LEDGER_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  LEDGER_FEED_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).optional(),
  TELEGRAM_ADMINS: telegramUserIds.default([]),
  TELEGRAM_OPERATORS: telegramUserIds.default([]),
  TELEGRAM_VIEWERS: telegramUserIds.default([]),
  TELEGRAM_AUDIT_CHAT_IDS: telegramChatIds.default([]),
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
  /** Chats told of every change (TELEGRAM_AUDIT_CHAT_IDS), besides those an admin adds with /notify on. */
  auditChatIds?: number[];
};

/** When the signer signs a checkpoint: after so many events, or so many minutes with new events. */
export type CheckpointEvery = { events: number | undefined; minutes: number | undefined };
/** The HTTP API's settings; `port` is absent when `npm start` should not serve it. */
export type HttpConfig = {
  port: number | undefined;
  host: string;
  /** Bearer tokens accepted on every route but /healthz and /readyz. */
  tokens: string[];
};
/** Where every event is POSTed, signed with the secret (README "Webhooks"); empty: none. */
export type WebhookConfig = { urls: string[]; secret: string; timeoutMs: number };

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  schema: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  poolSize: number;
  /** Connect, statement and retry bounds of every database call. */
  timeouts: DatabaseTimeouts;
  /** COLUMNS: how wide the CLI's tables may be, when set. */
  columns: number | undefined;
  /** The checkpoints' origin line: `LEDGER_ORIGIN`, else `plugin-ledger/<schema>`. */
  origin: string;
  signingKeyFile: string | undefined;
  /** Unset: checkpoints are signed only on request. */
  checkpointEvery: CheckpointEvery | undefined;
  telegram: TelegramConfig;
  http: HttpConfig;
  webhooks: WebhookConfig;
  /** The change feed's poll interval; unset, the ledger's default for its backend. */
  feedPollMs: number | undefined;
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
  if (e.HTTP_PORT !== undefined && e.HTTP_TOKENS.length === 0) {
    throw new ConfigError(
      "invalid configuration: HTTP_TOKENS is required with HTTP_PORT (every route but /healthz and /readyz needs a bearer token)",
    );
  }
  if (e.LEDGER_WEBHOOK_URLS.length > 0 && !e.LEDGER_WEBHOOK_SECRET) {
    throw new ConfigError(
      "invalid configuration: LEDGER_WEBHOOK_SECRET is required with LEDGER_WEBHOOK_URLS (every delivery is signed with it)",
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.LEDGER_DATA_DIR,
    schema: e.LEDGER_SCHEMA,
    logLevel: e.LOG_LEVEL,
    poolSize: e.DATABASE_POOL_SIZE,
    timeouts: {
      connectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      retryMs: e.DATABASE_RETRY_MS,
    },
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
      auditChatIds: e.TELEGRAM_AUDIT_CHAT_IDS,
    },
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST, tokens: e.HTTP_TOKENS },
    webhooks: {
      urls: [...new Set(e.LEDGER_WEBHOOK_URLS)],
      secret: e.LEDGER_WEBHOOK_SECRET ?? "",
      timeoutMs: e.LEDGER_WEBHOOK_TIMEOUT_MS,
    },
    feedPollMs: e.LEDGER_FEED_POLL_MS,
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
