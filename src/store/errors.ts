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

/** The one place where PostgreSQL's unique violation becomes a named conflict. */
export function asConflict(error: unknown): unknown {
  const pgError = error as { code?: string; constraint?: string; detail?: string };
  if (pgError?.code === UNIQUE_VIOLATION) {
    return new ConcurrencyError(
      `concurrent append refused by ${pgError.constraint ?? "a unique index"}${pgError.detail ? `: ${pgError.detail}` : ""}`,
    );
  }
  return error;
}
