import { describe, expect, it } from "vitest";
import { type ChangeConnection, type ChangeSource, createChangeHub } from "../../src/http/change-hub.ts";
import type { RecordedEvent } from "../../src/ledger/recorded-event.ts";
import { testLogger } from "../support/databases.ts";

const event = (position: number) => ({ position, type: "VersionReleased" }) as unknown as RecordedEvent;

/** A ledger in memory: `append` stores events and hands them to the one tail, as the feed would. */
function memorySource(initial: number) {
  const stored: RecordedEvent[] = Array.from({ length: initial }, (_, i) => event(i + 1));
  let handler: ((events: RecordedEvent[]) => void | Promise<void>) | undefined;
  let tails = 0;
  let readsBeforeYield: (() => Promise<void>) | undefined;
  const source: ChangeSource = {
    head: async () => stored.length,
    async *events(after = 0) {
      // Two batches, so a test can append between them.
      const all = stored.filter((e) => e.position > after);
      const half = Math.ceil(all.length / 2);
      yield all.slice(0, half);
      await readsBeforeYield?.();
      yield stored.filter((e) => e.position > (all[half - 1]?.position ?? after));
    },
    tail(_after, h) {
      tails++;
      handler = h;
      return { stop: async () => {} };
    },
  };
  return {
    source,
    append(count: number) {
      const added = Array.from({ length: count }, (_, i) => event(stored.length + i + 1));
      stored.push(...added);
      void handler?.(added);
    },
    duringCatchUp(work: () => Promise<void>) {
      readsBeforeYield = work;
    },
    tails: () => tails,
  };
}

function connection(limit = Number.POSITIVE_INFINITY) {
  const frames: string[] = [];
  let ended = false;
  const conn: ChangeConnection = {
    send(frame) {
      frames.push(frame);
      return frames.length <= limit;
    },
    drained: async () => !ended,
    end() {
      ended = true;
    },
  };
  return {
    conn,
    positions: () => frames.filter((f) => f.startsWith("id:")).map((f) => Number(/^id: (\d+)/.exec(f)?.[1])),
    ended: () => ended,
  };
}

describe("change hub", () => {
  it("feeds every client from one tail", async () => {
    const memory = memorySource(3);
    const hub = createChangeHub({ source: memory.source, logger: testLogger, heartbeatMs: 60_000 });
    const clients = Array.from({ length: 100 }, () => connection());
    for (const c of clients) await hub.join(c.conn, undefined);
    memory.append(2);
    expect(memory.tails()).toBe(1);
    for (const c of clients) expect(c.positions()).toEqual([4, 5]);
    await hub.close();
    for (const c of clients) expect(c.ended()).toBe(true);
  });

  it("catches a resuming client up from the ledger and then the events that came meanwhile, once each, in order", async () => {
    const memory = memorySource(10);
    const hub = createChangeHub({ source: memory.source, logger: testLogger, heartbeatMs: 60_000 });
    await hub.join(connection().conn, undefined);
    const resuming = connection();
    memory.duringCatchUp(async () => memory.append(5));
    await hub.join(resuming.conn, 2);
    memory.append(1);
    expect(resuming.positions()).toEqual(Array.from({ length: 14 }, (_, i) => i + 3));
    await hub.close();
  });

  it("drops a client that does not read, and keeps serving the others", async () => {
    const memory = memorySource(0);
    const hub = createChangeHub({ source: memory.source, logger: testLogger, heartbeatMs: 60_000 });
    const slow = connection(2);
    const fast = connection();
    await hub.join(slow.conn, undefined);
    await hub.join(fast.conn, undefined);
    memory.append(5);
    expect(slow.ended()).toBe(true);
    expect(hub.clients).toBe(1);
    memory.append(1);
    expect(slow.positions()).toEqual([1, 2, 3]);
    expect(fast.positions()).toEqual([1, 2, 3, 4, 5, 6]);
    await hub.close();
  });

  it("drops a catching-up client when too many live events pile up for it", async () => {
    const memory = memorySource(4);
    const hub = createChangeHub({
      source: memory.source,
      logger: testLogger,
      heartbeatMs: 60_000,
      maxHeld: 3,
    });
    await hub.join(connection().conn, undefined);
    const behind = connection();
    memory.duringCatchUp(async () => memory.append(4));
    await hub.join(behind.conn, 0);
    expect(behind.ended()).toBe(true);
    expect(hub.clients).toBe(1);
    await hub.close();
  });
});
