import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { capturingLogger } from "../support/capturing-logger.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { register, release, upgrade } from "../support/ledger-fixtures.ts";

const YEAR_MS = 365 * 86_400_000;

/**
 * recorded_at comes from one clock, the database server's, read under the head lock: a writer
 * whose own clock is a year ahead neither pins the ledger's time to its future nor hides later
 * changes from as-of reads, and it is told of its skew in the log.
 */
describe("recorded_at from the database's clock", () => {
  let test: TestDatabase;
  let ahead: Ledger;
  let onTime: Ledger;
  const aheadLog = capturingLogger();
  const onTimeLog = capturingLogger();
  const actor = { actor: { kind: "cli" as const, id: "writer" } };

  async function databaseNow(): Promise<Date> {
    return (await test.db.pool.query("SELECT clock_timestamp() AS now")).rows[0].now;
  }

  beforeAll(async () => {
    test = await openServerLedger();
    ahead = createLedger(test.db, {
      schema: test.schema,
      logger: aheadLog.logger,
      clock: () => new Date(Date.now() + YEAR_MS),
    });
    onTime = createLedger(test.db, { schema: test.schema, logger: onTimeLog.logger });
  });
  afterAll(async () => {
    await test?.close();
  });

  it("records every append at the database's time, whichever writer's clock is off", async () => {
    const writes = [
      () => ahead.execute(release("clocked", "1.0.0"), actor),
      () => onTime.execute(release("clocked", "1.1.0"), actor),
      () => ahead.execute(register("clocked", "1.0.0"), actor),
      () => onTime.execute(upgrade("clocked", "1.1.0"), actor),
      () => ahead.execute(release("clocked", "1.2.0"), actor),
      () => ahead.execute(upgrade("clocked", "1.2.0"), actor),
      () => onTime.execute(release("clocked", "1.3.0"), actor),
    ];
    let previous = 0;
    for (const write of writes) {
      const before = await databaseNow();
      const result = await write();
      const after = await databaseNow();
      if (!result.ok || result.dryRun) throw new Error(JSON.stringify(result));
      for (const event of result.events) {
        const at = event.recordedAt.getTime();
        expect(at).toBeGreaterThanOrEqual(before.getTime());
        expect(at).toBeLessThanOrEqual(after.getTime());
        expect(at).toBeGreaterThanOrEqual(previous);
        previous = at;
      }
    }
    // As of the database's now, the last change is seen (a year-ahead pin would have hidden it
    // behind the skewed writer's moment).
    const now = await databaseNow();
    const asOfNow = await onTime.asOf(now);
    expect(asOfNow.plugins.find((p) => p.pluginId === "clocked")?.version).toBe("1.2.0");
    const head = (await test.db.pool.query(`SELECT recorded_at FROM "${test.schema}".head`)).rows[0];
    expect(head.recorded_at.getTime()).toBeLessThanOrEqual(now.getTime());
  });

  it("warns once of a writer's clock a year off, and not of one on time", () => {
    const warnings = aheadLog.lines.filter((l) => l.level === 40 && /clock differs/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.skewMs).toBeGreaterThan(YEAR_MS - 3_600_000);
    expect(onTimeLog.lines.filter((l) => /clock differs/.test(l.msg))).toHaveLength(0);
  });
});
