import { describe, expect, it } from "vitest";
import type { RecordedEvent } from "../../src/index.ts";
import { backends } from "../support/databases.ts";
import { feedLedgerPerTest, releaseVersion } from "../support/feed-ledger.ts";

const fast = { retry: { initialMs: 20, maxMs: 100 }, standbyMs: 50, leaseMs: 2_000 };

async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Exactly once on a server. Through PGlite's socket, concurrent connections' protocol messages can
 * interleave outside a transaction ("unnamed prepared statement does not exist"): a checkpoint
 * write that fails so sends its batch again, which at-least-once allows; order must still hold.
 */
function expectDelivered(backend: string, seen: unknown[], expected: unknown[]) {
  if (backend === "server") expect(seen).toEqual(expected);
  else expect([...new Set(seen.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x))).toEqual(expected);
}

describe.each(backends)("ledger.subscribe on $name", ({ name, open }) => {
  const openLedger = feedLedgerPerTest(open, { pollMs: 50 });

  it("hands over every event after its checkpoint in order and in batches, and moves the checkpoint", async () => {
    const l = await openLedger();
    for (let i = 0; i < 7; i++) await releaseVersion(l, "momentum", `1.${i}.0`);
    const batches: number[][] = [];
    const sub = l.subscribe("audit-copy", (events) => void batches.push(events.map((e) => e.position)), {
      ...fast,
      batchSize: 3,
    });
    await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 7,
    );
    await releaseVersion(l, "momentum", "2.0.0");
    const [status] = await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 8,
    );
    expect(batches.slice(0, 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(status).toMatchObject({
      name: "audit-copy",
      position: 8,
      lag: 0,
      lastError: null,
      consecutiveFailures: 0,
      running: true,
    });
    expect(status?.lastRunAt).toBeInstanceOf(Date);
    await sub.stop();
    expect((await l.subscriptions())[0]?.running).toBe(false);

    // A new subscriber from the head sees only what comes next; the old one resumes after 8.
    const fromHead: number[] = [];
    const resumed: number[] = [];
    const a = l.subscribe("from-head", (events) => void fromHead.push(...events.map((e) => e.position)), {
      ...fast,
      from: "head",
    });
    const b = l.subscribe(
      "audit-copy",
      (events) => void resumed.push(...events.map((e) => e.position)),
      fast,
    );
    await eventually(
      () => l.subscriptions(),
      (s) => s.length === 2,
    );
    await releaseVersion(l, "momentum", "3.0.0");
    await eventually(
      () => l.subscriptions(),
      (s) => s.every((x) => x.position === 9),
    );
    expectDelivered(name, fromHead, [9]);
    expectDelivered(name, resumed, [9]);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("retries a failing handler on the same batch with backoff and records the last error", async () => {
    const l = await openLedger();
    for (let i = 0; i < 4; i++) await releaseVersion(l, "momentum", `1.${i}.0`);
    const calls: number[][] = [];
    // The receiver stays down until the test has seen the failures recorded.
    let down = true;
    let failures = 0;
    const sub = l.subscribe(
      "flaky",
      (events: RecordedEvent[]) => {
        calls.push(events.map((e) => e.position));
        if (down && events.some((e) => e.position === 3)) throw new Error(`receiver down ${++failures}`);
      },
      { ...fast, batchSize: 2 },
    );
    const [failing] = await eventually(
      () => l.subscriptions(),
      (s) => (s[0]?.consecutiveFailures ?? 0) >= 2,
    );
    expect(failing).toMatchObject({ position: 2, lag: 2 });
    expect(failing?.lastError).toMatch(/^receiver down \d+$/);
    expect(failing?.lastErrorAt).toBeInstanceOf(Date);
    down = false;
    const [done] = await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 4,
    );
    // The last error stays on record, with the count of failures in a row back at 0.
    expect(done).toMatchObject({ consecutiveFailures: 0, lastError: `receiver down ${failures}`, lag: 0 });
    expect(failures).toBeGreaterThanOrEqual(2);
    // The same batch again and again, never the next one before it succeeded.
    expect(calls).toEqual([[1, 2], ...Array.from({ length: failures + 1 }, () => [3, 4])]);
    await sub.stop();
  });

  it("runs one of two subscriptions of a name at a time; the other takes over when it stops", async () => {
    const l = await openLedger();
    for (let i = 0; i < 3; i++) await releaseVersion(l, "momentum", `1.${i}.0`);
    const seen: Array<[string, number]> = [];
    const first = l.subscribe(
      "single",
      (events) => void seen.push(...events.map((e) => ["first", e.position] as [string, number])),
      fast,
    );
    await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 3,
    );
    const second = l.subscribe(
      "single",
      (events) => void seen.push(...events.map((e) => ["second", e.position] as [string, number])),
      fast,
    );
    await releaseVersion(l, "momentum", "2.0.0");
    await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 4,
    );
    // A standby tries every 50 ms: give it a few tries to (wrongly) run while the first holds on.
    await new Promise((r) => setTimeout(r, 300));
    expect(second.active).toBe(false);
    expect(first.active).toBe(true);
    await first.stop();
    await eventually(
      () => second.active,
      (active) => active,
    );
    await releaseVersion(l, "momentum", "2.1.0");
    await eventually(
      () => l.subscriptions(),
      (s) => s[0]?.position === 5,
    );
    expectDelivered(name, seen, [
      ["first", 1],
      ["first", 2],
      ["first", 3],
      ["first", 4],
      ["second", 5],
    ]);
    await second.stop();
  });

  it("stops while it is taking its lease: stop() ends, and the lease is let go", async () => {
    const l = await openLedger();
    await releaseVersion(l, "momentum", "1.0.0");
    // stop() at once, while the first try to take the lease is in flight: the try succeeds after
    // the stop was asked for, and the subscriber must not go on to lead (it never would return).
    const sub = l.subscribe("stopped-early", () => {}, fast);
    const stopped = await Promise.race([
      sub.stop().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    expect(stopped).toBe(true);
    expect(sub.active).toBe(false);
    // Released: a second subscription of the name takes it over.
    const next = l.subscribe("stopped-early", () => {}, fast);
    await eventually(
      () => next.active,
      (active) => active,
    );
    await next.stop();
  });
});
