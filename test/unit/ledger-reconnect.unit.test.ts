import pino from "pino";
import { describe, expect, it } from "vitest";
import { reconnecting } from "../../src/ledger/reconnect.ts";
import { DatabaseUnavailableError } from "../../src/store/connection-errors.ts";

const logger = pino({ level: "silent" });
const lost = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });

/** An operation that fails every attempt with `error()`, counting its attempts. */
function failing(error: () => unknown) {
  const operation = {
    attempts: 0,
    run: async (): Promise<never> => {
      operation.attempts++;
      throw error();
    },
  };
  return operation;
}

describe("reconnecting", () => {
  it("runs an operation again after a lost connection and returns its answer", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 10_000, logger });
    let attempts = 0;
    const answer = await retry("status", async () => {
      attempts++;
      if (attempts < 3) throw lost();
      return "ok";
    });
    expect(answer).toBe("ok");
    expect(attempts).toBe(3);
  });

  it("passes any other error through at once", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 10_000, logger });
    const refused = new Error("duplicate key");
    const operation = failing(() => refused);
    await expect(retry("status", operation.run)).rejects.toBe(refused);
    expect(operation.attempts).toBe(1);
  });

  it("reports the database unavailable once the retry bound is spent", async () => {
    const retry = reconnecting({ location: "/srv/.ledger", embedded: true, retryMs: 300, logger });
    const operation = failing(lost);
    const error = await retry("status", operation.run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(
      "cannot reach the ledger database at /srv/.ledger: read ECONNRESET; check LEDGER_DATA_DIR and that its owning process is not stopped",
    );
    expect(operation.attempts).toBeGreaterThan(1);
  });

  it("does not retry at all with a bound of 0", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 0, logger });
    const operation = failing(lost);
    await expect(retry("status", operation.run)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(operation.attempts).toBe(1);
  });

  it("does not wrap an inner operation's DatabaseUnavailableError again", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 10_000, logger });
    const inner = new DatabaseUnavailableError("postgres://db/x", lost());
    const operation = failing(() => inner);
    await expect(retry("replay", operation.run)).rejects.toBe(inner);
    expect(operation.attempts).toBe(1);
  });
});
