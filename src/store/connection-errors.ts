/**
 * Which failures mean "the database could not be reached, or the connection went away" — the
 * faults where an operation's outcome may be unknown and a fresh connection may succeed — as
 * opposed to the database answering with an error of its own.
 */

/** Socket-level codes from Node (errno names) for a connection refused, reset or gone. */
const SOCKET_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTCONN",
  "EAI_AGAIN",
  // A Unix socket path that is gone (the embedded owner exited).
  "ENOENT",
]);

/**
 * SQLSTATEs of a server that is going away or not taking connections: admin_shutdown,
 * crash_shutdown, cannot_connect_now, too_many_connections; the whole 08 class is
 * connection_exception.
 */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** Messages node-postgres raises for a connection that ended, timed out or is unusable. */
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /connection timeout/i,
  /^timeout expired$/i,
  /is not queryable/i,
  /cannot use a pool after calling end/i,
  /server closed the connection unexpectedly/i,
  /socket hang up/i,
];

export function isConnectionLost(error: unknown): boolean {
  return lost(error, 0);
}

function lost(error: unknown, depth: number): boolean {
  if (depth > 5 || error === null || typeof error !== "object") return false;
  if (error instanceof DatabaseUnavailableError) return true;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string") {
    if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  // An error with a SQLSTATE is the server's own answer (a constraint, a syntax error): not a lost connection.
  const hasSqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
  if (!hasSqlState && typeof message === "string" && MESSAGES.some((pattern) => pattern.test(message))) {
    return true;
  }
  // Node wraps several failed addresses (IPv4 and IPv6 of localhost) in an AggregateError.
  if (Array.isArray(errors) && errors.some((inner) => lost(inner, depth + 1))) return true;
  return lost(cause, depth + 1);
}

/**
 * The one error a caller sees when the database stayed unreachable for the whole bounded time:
 * one line naming where the ledger lives, what went wrong and what to check.
 */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  constructor(
    readonly location: string,
    cause: unknown,
    readonly embedded = false,
  ) {
    const hint = embedded
      ? "check LEDGER_DATA_DIR and that its owning process is not stopped"
      : "check DATABASE_URL and that the server runs";
    super(`cannot reach the ledger database at ${location}: ${describe(cause)}; ${hint}`, { cause });
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const text = cause.message || (Array.isArray((cause as { errors?: unknown }).errors) ? "" : cause.name);
    const inner = (cause as { errors?: unknown[] }).errors?.[0];
    const message = text || (inner instanceof Error ? inner.message : String(code ?? cause.name));
    return oneLine(typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message);
  }
  return oneLine(String(cause));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
