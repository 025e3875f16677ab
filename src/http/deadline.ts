import { DeadlineError } from "./errors.ts";

/**
 * A ledger call the API waits for at most `ms`: past it the client gets a 503 at once, rather
 * than a request that hangs while the database is away. (The query itself is not cancelled;
 * the pool's own limits end it.)
 */
export async function bounded<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`the ledger did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
