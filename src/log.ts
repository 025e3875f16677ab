import pino, { type Logger } from "pino";

export type { Logger };

/** Logs go to stderr: stdout belongs to the command's answer (`--json` prints one document there). */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: { paths: ["token", "*.token", "config.telegramToken"], censor: "[redacted]" },
      base: undefined,
    },
    pino.destination(2),
  );
}
