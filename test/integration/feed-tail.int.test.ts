import { describe, expect, it, vi } from "vitest";
import type { RecordedEvent } from "../../src/index.ts";
import { backends } from "../support/databases.ts";
import { feedLedgerPerTest, releaseVersion } from "../support/feed-ledger.ts";

/** Collects what a tail hands over, and lets a test wait for a position. */
function collector() {
  const seen: RecordedEvent[] = [];
  const waiters: Array<{ position: number; resolve: () => void }> = [];
  return {
    seen,
    handler(events: RecordedEvent[]) {
      seen.push(...events);
      const last = events[events.length - 1]?.position ?? 0;
      for (const w of waiters.filter((w) => w.position <= last)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    reached(position: number) {
      if ((seen[seen.length - 1]?.position ?? 0) >= position) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ position, resolve }));
    },
  };
}

describe.each(backends)("ledger.tail on $name", ({ name, open }) => {
  // On a server the poll is an hour away, so only NOTIFY can deliver the live events in time.
  const openLedger = feedLedgerPerTest(open, name === "server" ? { pollMs: 3_600_000 } : { pollMs: 50 });

  it("hands over every event after the position in order, then each new one live", async () => {
    const ledger = await openLedger();
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await releaseVersion(ledger, "momentum", v);
    const from1 = collector();
    const from0 = collector();
    const tail1 = ledger.tail(1, (events) => from1.handler(events));
    const tail0 = ledger.tail(0, (events) => from0.handler(events));
    await Promise.all([from0.reached(3), from1.reached(3)]);
    expect(from0.seen.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(from1.seen.map((e) => e.position)).toEqual([2, 3]);
    expect(from0.seen[2]).toMatchObject({ type: "VersionReleased", data: { version: "1.2.0" } });

    for (const v of ["2.0.0", "2.1.0"]) await releaseVersion(ledger, "momentum", v);
    await Promise.all([from0.reached(5), from1.reached(5)]);
    expect(from0.seen.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    expect(from1.seen.map((e) => e.position)).toEqual([2, 3, 4, 5]);
    // A tail reads every event there is when woken, so it may be past the head last heard of.
    await vi.waitFor(() =>
      expect(ledger.feedHealth()).toMatchObject({
        mode: name === "server" ? "notify" : "poll",
        connected: true,
        head: 5,
      }),
    );

    await tail1.stop();
    await releaseVersion(ledger, "momentum", "2.2.0");
    await from0.reached(6);
    expect(from1.seen.map((e) => e.position)).toEqual([2, 3, 4, 5]);
    await tail0.stop();
  });

  it("ends when its signal aborts, and a handler that throws ends only its own tail", async () => {
    const ledger = await openLedger();
    const controller = new AbortController();
    const kept = collector();
    let calls = 0;
    const aborted = ledger.tail(
      0,
      () => {
        calls += 1;
      },
      { signal: controller.signal },
    );
    const failing = ledger.tail(0, () => {
      throw new Error("consumer gone");
    });
    const tail = ledger.tail(0, (events) => kept.handler(events));
    controller.abort();
    await aborted.stop();
    await releaseVersion(ledger, "momentum", "1.0.0");
    await kept.reached(1);
    await failing.stop();
    await releaseVersion(ledger, "momentum", "1.1.0");
    await kept.reached(2);
    expect(calls).toBe(0);
    await tail.stop();
  });
});
