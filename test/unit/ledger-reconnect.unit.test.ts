import pino from "pino";
import { describe, expect, it } from "vitest";
import { reconnecting } from "../../src/ledger/reconnect.ts";
import { DatabaseUnavailableError } from "../../src/store/connection-errors.ts";

const logger = pino({ level: "silent" });
const lost = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });

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
    let attempts = 0;
    const refused = new Error("duplicate key");
    await expect(
      retry("status", async () => {
        attempts++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(attempts).toBe(1);
  });

  it("reports the database unavailable once the retry bound is spent", async () => {
    const retry = reconnecting({ location: "/srv/.ledger", embedded: true, retryMs: 300, logger });
    let attempts = 0;
    const error = await retry("status", async () => {
      attempts++;
      throw lost();
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(
      "cannot reach the ledger database at /srv/.ledger: read ECONNRESET; check LEDGER_DATA_DIR and that its owning process is not stopped",
    );
    expect(attempts).toBeGreaterThan(1);
  });

  it("does not retry at all with a bound of 0", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 0, logger });
    let attempts = 0;
    await expect(
      retry("status", async () => {
        attempts++;
        throw lost();
      }),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(attempts).toBe(1);
  });

  it("does not wrap an inner operation's DatabaseUnavailableError again", async () => {
    const retry = reconnecting({ location: "postgres://db/x", embedded: false, retryMs: 10_000, logger });
    const inner = new DatabaseUnavailableError("postgres://db/x", lost());
    let attempts = 0;
    await expect(
      retry("replay", async () => {
        attempts++;
        throw inner;
      }),
    ).rejects.toBe(inner);
    expect(attempts).toBe(1);
  });
});
