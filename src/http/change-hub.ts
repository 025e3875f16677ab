import type { RecordedEvent } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import { bounded } from "./deadline.ts";

/** What the hub needs of the ledger: one live tail for everyone, and reads for those behind. */
export type ChangeSource = {
  head(): Promise<number>;
  events(after?: number): AsyncGenerator<RecordedEvent[]>;
  tail(
    after: number,
    handler: (events: RecordedEvent[]) => void | Promise<void>,
    options: { signal: AbortSignal },
  ): { stop(): Promise<void> };
};

/** One client's end of the stream (an SSE response). */
export type ChangeConnection = {
  /** Queues a frame; false when the client's unsent bytes are past the limit (it is then dropped). */
  send(frame: string): boolean;
  /** Resolves when the queued bytes went out (true) or the client left or took too long (false). */
  drained(): Promise<boolean>;
  end(): void;
};

export type ChangeHub = {
  /**
   * Streams every event after `after` (undefined: from now) to the connection until it leaves:
   * first what the ledger already holds (read for this client alone), then the live tail.
   */
  join(connection: ChangeConnection, after: number | undefined): Promise<() => void>;
  /** Ends every stream (server shutdown) and stops the tail. */
  close(): Promise<void>;
  readonly clients: number;
};

type Member = {
  connection: ChangeConnection;
  /** The last position sent: nothing at or below it is sent again. */
  sent: number;
  /** Live events held while the member catches up from the ledger; null once it is live. */
  held: RecordedEvent[] | null;
};

/** The clients of one hub and the position its live tail reached. */
type Fanout = {
  members: Set<Member>;
  logger: Logger;
  /** Live events held for one catching-up client before it is dropped. */
  maxHeld: number;
  position: number;
};

/**
 * One in-process fan-out of the ledger's changes: a single `tail` feeds every client, so a
 * thousand clients cost one reader. A client that resumes from an older position reads the
 * events it missed with `events(after)`, by itself, while the live events meanwhile wait for it
 * (up to `maxHeld`). A client whose socket does not keep up is dropped, never buffered without
 * bound: it reconnects with Last-Event-ID and catches up from the ledger.
 */
export function createChangeHub(options: {
  source: ChangeSource;
  logger: Logger;
  heartbeatMs: number;
  /** Live events held for one catching-up client before it is dropped. */
  maxHeld?: number;
  /** The longest one catch-up read may take (default 10 s); past it the client is dropped. */
  readTimeoutMs?: number;
}): ChangeHub {
  const { source, logger } = options;
  const readTimeoutMs = options.readTimeoutMs ?? 10_000;
  const hub: Fanout = { members: new Set(), logger, maxHeld: options.maxHeld ?? 10_000, position: 0 };
  const { members } = hub;
  const stopping = new AbortController();
  let started: Promise<void> | undefined;
  let tail: { stop(): Promise<void> } | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const start = () => {
    started ??= (async () => {
      hub.position = await source.head();
      tail = source.tail(hub.position, (events) => deliver(hub, events), { signal: stopping.signal });
      heartbeat = setInterval(() => beat(hub), options.heartbeatMs);
      heartbeat.unref();
    })().catch((error) => {
      // The next client tries again (the database may be back by then).
      started = undefined;
      throw error;
    });
    return started;
  };

  return {
    async join(connection, after) {
      if (stopping.signal.aborted) throw new Error("the change stream is shutting down");
      await bounded(readTimeoutMs, start());
      const from = after ?? hub.position;
      const member: Member = { connection, sent: from, held: from < hub.position ? [] : null };
      members.add(member);
      if (member.held !== null) {
        try {
          await catchUp(hub, source.events(member.sent), readTimeoutMs, member);
        } catch (error) {
          logger.warn({ err: error, after: from }, "catching up a change stream failed");
          drop(hub, member, "catching up failed");
        }
      }
      return () => {
        members.delete(member);
      };
    },
    async close() {
      stopping.abort();
      clearInterval(heartbeat);
      for (const member of [...members]) drop(hub, member, "the server is shutting down");
      await started?.catch(() => {});
      await tail?.stop();
    },
    get clients() {
      return members.size;
    },
  };
}

function drop(hub: Fanout, member: Member, why: string) {
  if (!hub.members.delete(member)) return;
  hub.logger.info({ sent: member.sent, why }, "change stream dropped");
  member.connection.end();
}

function sendAll(hub: Fanout, member: Member, events: readonly RecordedEvent[]) {
  for (const event of events) {
    if (event.position <= member.sent) continue;
    member.sent = event.position;
    if (!member.connection.send(frameOf(event))) {
      drop(hub, member, "the client does not read fast enough");
      return;
    }
  }
}

/** The live tail's events: sent to the live members, held for those catching up. */
function deliver(hub: Fanout, events: RecordedEvent[]) {
  const last = events.at(-1);
  if (last !== undefined && last.position > hub.position) hub.position = last.position;
  for (const member of hub.members) {
    if (member.held === null) sendAll(hub, member, events);
    else if (member.held.push(...events) > hub.maxHeld) drop(hub, member, "too far behind while catching up");
  }
}

/** A comment line to every live member, so that idle proxies keep the stream open. */
function beat(hub: Fanout) {
  for (const member of hub.members) {
    if (member.held === null && !member.connection.send(": heartbeat\n\n")) {
      drop(hub, member, "the client does not read fast enough");
    }
  }
}

/** Sends a member what it missed, read for it alone, then what the live tail held meanwhile. */
async function catchUp(
  hub: Fanout,
  batches: AsyncGenerator<RecordedEvent[]>,
  readTimeoutMs: number,
  member: Member,
) {
  try {
    for (;;) {
      const next = await bounded(readTimeoutMs, batches.next());
      if (next.done) break;
      if (!hub.members.has(member)) return;
      sendAll(hub, member, next.value);
      if (!hub.members.has(member)) return;
      if (!(await member.connection.drained())) return drop(hub, member, "the client left while catching up");
    }
  } finally {
    // Not awaited: after a timed-out read it would wait for that read.
    void batches.return(undefined).catch(() => {});
  }
  const held = member.held ?? [];
  member.held = null;
  sendAll(hub, member, held);
}

/** One SSE event: `id` the position (what Last-Event-ID brings back), `event` the type. */
export function frameOf(event: RecordedEvent): string {
  // JSON.stringify escapes every newline, so the data is one line, as SSE needs.
  return `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
