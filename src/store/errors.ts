/** Raised when an append's expected stream version does not match, or a unique index refuses a row. */
export class ConcurrencyError extends Error {
  override name = "ConcurrencyError";
  constructor(
    message: string,
    readonly streamId?: string,
  ) {
    super(message);
  }
}

/** The same idempotency key was sent with a different request. */
export class IdempotencyConflictError extends Error {
  override name = "IdempotencyConflictError";
  constructor(readonly key: string) {
    super(`idempotency key "${key}" was already used for a different request`);
  }
}

const UNIQUE_VIOLATION = "23505";

/** A statement refused by a unique index (PostgreSQL's unique violation), and by which one. */
export type UniqueViolation = { code: typeof UNIQUE_VIOLATION; constraint?: string; detail?: string };

/** The one place that recognises PostgreSQL's unique violation. */
export function isUniqueViolation(error: unknown): error is UniqueViolation {
  return (error as { code?: string } | null | undefined)?.code === UNIQUE_VIOLATION;
}

/** The one place where PostgreSQL's unique violation becomes a named conflict. */
export function asConflict(error: unknown): unknown {
  if (isUniqueViolation(error)) {
    return new ConcurrencyError(
      `concurrent append refused by ${error.constraint ?? "a unique index"}${error.detail ? `: ${error.detail}` : ""}`,
    );
  }
  return error;
}
